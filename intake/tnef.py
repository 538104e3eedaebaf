"""The files inside an Outlook winmail.dat (TNEF, MS-OXTNEF).

tnefparse.TNEF copies the rest of the stream for every attribute it reads
(quadratic in the number of attributes) and its MAPI decoder loops on the
count a file declares, so a hostile 25 MB winmail.dat could stall a worker.
This reader walks the same structure once, bounds every count by the bytes
actually present, and borrows tnefparse only for codepage names.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from tnefparse.codepage import Codepage
from tnefparse.mapi import IMESSAGE_SIG

SIGNATURE = 0x223E9F78
LVL_MESSAGE, LVL_ATTACHMENT = 1, 2
ATT_BODY = 0x800C
ATT_ATTACH_DATA = 0x800F
ATT_ATTACH_TITLE = 0x8010
ATT_ATTACH_REND_DATA = 0x9002  # starts every attachment
ATT_MAPI_PROPS = 0x9003
ATT_ATTACHMENT = 0x9005
ATT_OEM_CODEPAGE = 0x9007

PR_BODY = 0x1000
PR_DISPLAY_NAME = 0x3001
PR_ATTACH_DATA = 0x3701
PR_ATTACH_FILENAME = 0x3704
PR_ATTACH_LONG_FILENAME = 0x3707

_FIXED_SIZES = {0x0002: 4, 0x000B: 4, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8, 0x0014: 8, 0x0040: 8, 0x0048: 16, 0x0001: 0}
_VARIABLE = {0x001E, 0x001F, 0x0102, 0x000D, 0x0000}
MAX_OBJECTS = 20_000


class TnefError(ValueError):
    pass


@dataclass
class TnefFile:
    name: str
    data: bytes
    embedded: TnefContent | None = None  # an attached Outlook item


@dataclass
class TnefContent:
    body: str | None = None
    files: list[TnefFile] = field(default_factory=list)
    damage: str | None = None  # why part of the stream could not be read (what was before it is kept)


def read_tnef(data: bytes, max_nesting: int = 3) -> TnefContent:
    if len(data) < 6 or struct.unpack_from("<I", data)[0] != SIGNATURE:
        raise TnefError("no TNEF signature")
    content = TnefContent()
    codepage = "cp1252"
    current: dict | None = None
    attachments: list[dict] = []
    seen = 0
    for level, attr, value in _objects(data, content):
        seen += 1
        if level == LVL_MESSAGE:
            if attr == ATT_OEM_CODEPAGE and len(value) >= 4:
                codepage = _codec(struct.unpack_from("<I", value)[0])
            elif attr == ATT_BODY and content.body is None:
                content.body = value.decode(codepage, "replace").rstrip("\x00")
            elif attr == ATT_MAPI_PROPS and content.body is None:
                props = _mapi_props(value, codepage)
                if isinstance(props.get(PR_BODY), str):
                    content.body = props[PR_BODY]
        elif level == LVL_ATTACHMENT:
            if attr == ATT_ATTACH_REND_DATA or current is None:
                current = {}
                attachments.append(current)
            if attr == ATT_ATTACH_TITLE:
                current["title"] = value.decode(codepage, "replace").rstrip("\x00")
            elif attr == ATT_ATTACH_DATA:
                current["data"] = value
            elif attr == ATT_ATTACHMENT:
                current.setdefault("props", {}).update(_mapi_props(value, codepage))
    if not seen:
        raise TnefError("no TNEF attributes")
    for att in attachments:
        props = att.get("props", {})
        name = props.get(PR_ATTACH_LONG_FILENAME) or props.get(PR_ATTACH_FILENAME) or att.get("title") or props.get(PR_DISPLAY_NAME) or ""
        # attAttachData holds the exact bytes; the MAPI copy may carry padding.
        blob = att.get("data") or props.get(PR_ATTACH_DATA) or b""
        if not isinstance(blob, bytes) or not blob:
            if name:
                content.damage = content.damage or f"attachment {str(name)[:80]!r} without data"
            continue
        embedded = None
        if blob.startswith(IMESSAGE_SIG) and max_nesting > 0:
            try:
                embedded = read_tnef(blob[len(IMESSAGE_SIG) :], max_nesting - 1)
            except TnefError:
                embedded = None
        content.files.append(TnefFile(str(name), blob, embedded))
    return content


def _codec(number: int) -> str:
    try:
        name = Codepage(number).codepage()
        "".encode(name)
        return name
    except Exception:  # noqa: BLE001 - unknown code page: Western European is the likely one
        return "cp1252"


def _objects(data: bytes, content: TnefContent):
    """(level, attribute id, value) for each TNEF attribute; stops at a truncation, saying so in content.damage."""
    offset, count = 6, 0
    while offset + 9 <= len(data):
        level, attr, _type, length = struct.unpack_from("<BHHI", data, offset)
        start = offset + 9
        end = start + length
        if end > len(data):
            # A false length (or a cut file): what follows cannot be located.
            content.damage = f"attribute 0x{attr:04x} declares {length} bytes, {len(data) - start} present"
            return
        yield level, attr, data[start:end]
        offset = end + 2  # 2-byte checksum, not checked: Outlook's are right, ours do not matter
        count += 1
        if count > MAX_OBJECTS:
            raise TnefError("too many TNEF attributes")


def _mapi_props(data: bytes, codepage: str) -> dict[int, object]:
    """The first value of each MAPI property in a property list (MS-OXTNEF 2.1.3.4)."""
    props: dict[int, object] = {}
    reader = _Reader(data)
    try:
        count = reader.u32()
        for _ in range(min(count, len(data) // 8)):
            ptype, pid = reader.u16(), reader.u16()
            if pid >= 0x8000:  # named property: GUID, then an id or a name
                reader.skip(16)
                if reader.u32() == 0:
                    reader.skip(4)
                else:
                    reader.skip_padded(reader.u32())
            multi = bool(ptype & 0x1000)
            ptype &= ~0x1000
            values = reader.u32() if multi else 1
            if ptype in (0x0002, 0x000B) and multi:  # 16-bit values, the run padded to 4 bytes
                reader.skip(2 * values + 2 * (values % 2))
                continue
            if ptype in _FIXED_SIZES:
                reader.skip(_FIXED_SIZES[ptype] * values)
                continue
            if ptype not in _VARIABLE:
                break  # unknown type: its size is unknown, nothing after it can be trusted
            if not multi:
                values = reader.u32()
            first = None
            for index in range(values):
                length = reader.u32()
                raw = reader.take(length)
                reader.skip((-length) % 4)
                if index == 0:
                    first = raw
            if first is None or pid in props:
                continue
            if ptype == 0x001F:
                props[pid] = first.decode("utf-16-le", "replace").rstrip("\x00")
            elif ptype == 0x001E:
                props[pid] = first.decode(codepage, "replace").rstrip("\x00")
            else:
                props[pid] = first
    except TnefError:
        pass  # keep what was read before the damage
    return props


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise TnefError("truncated MAPI property")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.data):
            raise TnefError("truncated MAPI property")
        self.pos += n

    def skip_padded(self, n: int) -> None:
        self.skip(n + (-n) % 4)

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]
