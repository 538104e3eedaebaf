"""A local Maildir per province: the embedded default mail source.

Messages wait in new/ or cur/; once stored they move to the Maildir++
subfolder .Processed (or .Failed), like the IMAP folders. Nothing is deleted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LocalMail:
    name: str
    path: Path


class MaildirSource:
    def __init__(self, root: Path, province: str):
        self.root = Path(root)
        self.province = province
        self.key = f"maildir:{self.root.resolve()}"

    def ensure(self) -> None:
        for sub in ("new", "cur", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def pending(self) -> list[LocalMail]:
        """Messages not yet moved on, oldest first."""
        mails = []
        for sub in ("new", "cur"):
            folder = self.root / sub
            if folder.is_dir():
                mails += [LocalMail(p.name, p) for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        return sorted(mails, key=lambda m: (m.path.stat().st_mtime, m.name))

    def move(self, mail: LocalMail, folder: str) -> None:
        """Move into the Maildir++ subfolder `folder`; a mail already gone is fine."""
        target = self.root / f".{folder}" / "cur"
        for sub in ("new", "cur", "tmp"):
            (target.parent / sub).mkdir(parents=True, exist_ok=True)
        try:
            os.replace(mail.path, target / mail.name)
        except FileNotFoundError:
            pass

    def deliver(self, raw: bytes, name: str) -> Path:
        """Put a message into new/ the Maildir way (tmp/ then rename)."""
        self.ensure()
        tmp = self.root / "tmp" / name
        tmp.write_bytes(raw)
        final = self.root / "new" / name
        os.replace(tmp, final)
        return final
