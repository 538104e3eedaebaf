"""Zip members listed and read within limits, never trusting what the archive says about itself."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from intake.filenames import clean_filename

# Files that archivers add on their own and no citizen means to send.
_JUNK_PREFIXES = ("__MACOSX/",)
_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
_FLAG_ENCRYPTED = 0x1
_FLAG_UTF8 = 0x800
# Below this size a high ratio is harmless (a blank page scan compresses 1000:1).
RATIO_FLOOR_BYTES = 256 * 1024


class ArchiveError(ValueError):
    pass


@dataclass(frozen=True)
class Member:
    name: str  # cleaned: last path component only
    size: int  # as declared by the archive
    compressed_size: int
    encrypted: bool
    info: zipfile.ZipInfo

    def ratio_exceeds(self, max_ratio: int) -> bool:
        return self.size > RATIO_FLOOR_BYTES and self.size > max_ratio * max(self.compressed_size, 1)


class ZipReader:
    def __init__(self, data: bytes):
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise ArchiveError("zip: corrupt archive") from exc

    def members(self):
        """The archive's files, junk and directories left out."""
        for info in self._zip.infolist():
            if info.is_dir() or info.filename.startswith(_JUNK_PREFIXES):
                continue
            decoded = _decoded_name(info)
            basename = re.split(r"[/\\]", decoded)[-1]
            if basename.lower() in _JUNK_NAMES or basename.startswith("._"):
                continue
            name = clean_filename(decoded)
            if not name:
                continue
            yield Member(name, info.file_size, info.compress_size, bool(info.flag_bits & _FLAG_ENCRYPTED), info)

    def read(self, member: Member) -> bytes:
        """The member's bytes; never more than it declared (zipfile stops at file_size and checks the CRC)."""
        try:
            with self._zip.open(member.info) as fh:
                return fh.read(member.size + 1)
        except NotImplementedError as exc:
            raise ArchiveError("zip: unsupported compression method") from exc
        except RuntimeError as exc:  # zipfile's "encrypted, password required"
            raise ArchiveError("zip: encrypted member") from exc
        except Exception as exc:  # noqa: BLE001 - bad CRC, truncated stream, zlib errors
            raise ArchiveError("zip: corrupt member") from exc

    def close(self) -> None:
        self._zip.close()


def _decoded_name(info: zipfile.ZipInfo) -> str:
    """Windows' zip tool writes names in the OEM code page (cp850 in Italy) without saying so;
    macOS writes UTF-8 without the flag. zipfile assumed cp437: undo that and try both."""
    if info.flag_bits & _FLAG_UTF8:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp850", "replace")
