"""The bundled sample requests of the demo (sportello/samples/XX-*.eml)."""

from __future__ import annotations

from importlib import resources

from intake.maildir import MaildirSource
from db.app import App


def sample_files() -> list:
    folder = resources.files("sportello").joinpath("samples")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".eml")), key=lambda f: f.name)


def deliver_samples(app: App) -> int:
    """Copy every sample into the new/ folder of its province's Maildir.

    Delivering twice is harmless: intake recognises a message it has stored.
    """
    count = 0
    for f in sample_files():
        province = f.name[:2]
        MaildirSource(app.settings.maildir_root / province, province).deliver(f.read_bytes(), f"sample-{f.name}")
        count += 1
    return count
