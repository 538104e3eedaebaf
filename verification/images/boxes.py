"""A word on a page with its box: what the PDF text layer and OCR both give the readers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """A word (or a part of one) with its box; y grows downwards; any unit."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    conf: float = 100.0

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2
