"""Attachment names made safe to show and to store: no path, no control characters, never empty."""

from __future__ import annotations

import re
import unicodedata

from intake import sniff

MAX_NAME_CHARS = 150
# control, format (bidi overrides, zero-width) and lone surrogates left by undecodable bytes
_DROPPED = frozenset({"Cc", "Cf", "Cs"})


def clean_filename(name: str | None) -> str:
    """The last path component of `name`, NFC, without control or bidi characters ('' if nothing is left).

    Bidi overrides are dropped on purpose: "foto\u202egpj.exe" shows as "fotoexe.jpg".
    """
    if not name:
        return ""
    name = name.replace("\x00", "")
    name = re.split(r"[/\\]", name)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(" " if ch in "\t\r\n" else "" if unicodedata.category(ch) in _DROPPED else ch for ch in name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 8:
            name = stem[: MAX_NAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_NAME_CHARS]
    return name


def final_filename(name: str, content_type: str, number: int) -> str:
    """`name` if usable, else `allegato-<number>.<ext>`; a bare name gets the sniffed type's extension."""
    if not name:
        return f"allegato-{number}.{sniff.extension(content_type)}"
    if "." not in name and content_type in sniff.EXTENSIONS:
        return f"{name}.{sniff.extension(content_type)}"
    return name


def with_extension(name: str, ext: str, suffix: str = "") -> str:
    """`foto.heic` → `foto.jpg`; `scan.tif` + suffix `-p2` → `scan-p2.png`."""
    stem, dot, _ = name.rpartition(".")
    if not dot or not stem:
        stem = name
    return f"{stem}{suffix}.{ext}"


def without_suffix(name: str, suffix: str) -> str:
    """`modulo.pdf.p7m` → `modulo.pdf` (case-insensitive); unchanged if it does not end so."""
    if name.lower().endswith(suffix.lower()) and len(name) > len(suffix):
        return name[: -len(suffix)]
    return name
