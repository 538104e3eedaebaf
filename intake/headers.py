"""Header values decoded without ever raising: RFC 2047 words, raw 8-bit bytes, broken syntax.

The stdlib parser keeps undecodable header bytes as surrogates and
`policy.default` can choke on odd syntax, so every value goes through here:
raw text → bytes recovered (UTF-8, else Windows-1252, which is what Italian
Outlook and webmail send) → encoded words decoded → folded whitespace and
control characters removed.
"""

from __future__ import annotations

import email.header
import email.utils
import re
from email import policy
from email.message import Message

# The stdlib header parser is superlinear on long values (a 400 KB Subject of
# encoded words takes seconds) and recursive on nested comments; no real
# header needs more than this, so longer ones are cut before parsing.
MAX_PARSED_CHARS = 4000
MAX_HEADERS = 500  # header_map keeps the first ones; trace headers come first and are few
_MSGID_RE = re.compile(r"<[^<>\s]+>")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PARAM_RE_TEMPLATE = r"""(?:^|;)\s*{name}\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))"""


def raw_values(part: Message, name: str) -> list[str]:
    """Every raw value of header `name`, as stored by the parser (no policy applied)."""
    name = name.lower()
    try:
        return [str(v) for k, v in part.raw_items() if k.lower() == name]
    except Exception:  # noqa: BLE001 - a broken header block must not stop the message
        return []


def first_raw(part: Message, name: str) -> str | None:
    values = raw_values(part, name)
    return values[0] if values else None


def recover_8bit(value: str) -> str:
    """Undo the parser's surrogate escapes: UTF-8 if the bytes are UTF-8, else Windows-1252."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def unstructured(value: str | None) -> str:
    """A free-text header (Subject, a display name) decoded to one clean line."""
    if value is None:
        return ""
    text = recover_8bit(value)[:MAX_PARSED_CHARS]
    try:
        # 'subject' selects the unstructured parser, whatever the real header is.
        decoded = str(policy.default.header_factory("subject", text))
    except Exception:  # noqa: BLE001
        decoded = _compat_decode(text)
    return _one_line(decoded)


def _compat_decode(text: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except Exception:  # noqa: BLE001 - unknown charset, bad base64: keep the raw words
        return text


def _one_line(text: str) -> str:
    text = re.sub(r"\s*[\r\n]+\s*", " ", text)
    return _CONTROL_RE.sub("", text.replace("\t", " ")).strip()


def addresses(value: str | None) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs of an address header; unparseable ones dropped."""
    if not value:
        return []
    text = recover_8bit(value)[:MAX_PARSED_CHARS]
    pairs: list[tuple[str, str]] = []
    try:
        header = policy.default.header_factory("to", text)
        for addr in header.addresses:
            if addr.addr_spec and "@" in addr.addr_spec:
                pairs.append((_one_line(addr.display_name or ""), addr.addr_spec.lower()))
    except Exception:  # noqa: BLE001
        pairs = []
    if not pairs:
        # The compat32 parser is more forgiving with broken phrases and brackets.
        try:
            compat = email.utils.getaddresses([text])
        except Exception:  # noqa: BLE001 - RecursionError on deeply nested comments
            compat = []
        for name, addr in compat:
            if "@" in addr:
                pairs.append((unstructured(name), addr.strip().lower()))
    return pairs


def message_ids(value: str | None) -> list[str]:
    """Every <id> in Message-ID / In-Reply-To / References, in order, without duplicates."""
    if not value:
        return []
    seen: dict[str, None] = {}
    for mid in _MSGID_RE.findall(recover_8bit(value)):
        seen.setdefault(mid, None)
    return list(seen)


def single_message_id(value: str | None) -> str | None:
    """The <id> of a Message-ID header; a bracket-less id is kept as-is rather than lost."""
    if not value:
        return None
    ids = message_ids(value)
    if ids:
        return ids[0]
    bare = _one_line(recover_8bit(value))
    return f"<{bare}>" if bare and " " not in bare and len(bare) < 250 else None


def date(value: str | None):
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(_one_line(recover_8bit(value)[:200]))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def param(part: Message, header: str, name: str) -> str | None:
    """A parameter of Content-Type / Content-Disposition, RFC 2231 and 2047 decoded.

    Read from the raw header so that 8-bit names (`filename="identità.jpg"`
    in Latin-1) come out right; falls back to a plain regex when the value is
    not even quotable (`filename=..\\..\\x.jpg`).
    """
    raw = first_raw(part, header)
    if raw is None:
        return None
    text = recover_8bit(raw)[:MAX_PARSED_CHARS]
    value = None
    try:
        parsed = policy.default.header_factory(header, text)
        value = parsed.params.get(name)
        broken = any("invalid" in str(d) for d in parsed.defects)
    except Exception:  # noqa: BLE001
        broken = True
    if value is None or broken:
        match = re.search(_PARAM_RE_TEMPLATE.format(name=re.escape(name)), text, re.I)
        if match:
            fallback = match.group(1) if match.group(1) is not None else match.group(2)
            if value is None or len(fallback) > len(value):
                value = unstructured(fallback.replace('\\"', '"'))
    if value is not None and "=?" in value:
        value = unstructured(value)  # RFC 2047 words inside a quoted string (not standard, very common)
    return value


def header_map(part: Message) -> dict[str, list[str]]:
    """Every header of `part`, decoded, by lower-cased name."""
    result: dict[str, list[str]] = {}
    try:
        items = list(part.raw_items())
    except Exception:  # noqa: BLE001
        return result
    for name, value in items[:MAX_HEADERS]:
        result.setdefault(str(name).strip().lower(), []).append(unstructured(str(value)))
    return result
