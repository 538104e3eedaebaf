"""The readable text of a body part: charset errors tolerated, HTML reduced to plain text."""

from __future__ import annotations

import codecs
import re
from email.message import Message
from html.parser import HTMLParser
from urllib.parse import unquote

_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr", "pre"}
_HIDDEN_TAGS = {"script", "style", "head", "title"}


def part_text(part: Message) -> str:
    """The decoded text of a text/* part; wrong or missing charsets fall back to UTF-8, then Windows-1252."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if data is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = _charset(part)
    if charset:
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _charset(part: Message) -> str | None:
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        return None
    if not charset:
        return None
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_endtag(self, tag):
        if tag in _HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser is lenient, but be sure
        return re.sub(r"<[^>]*>", " ", html)
    text = "".join(parser.chunks).replace("\xa0", " ")
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_CID_RE = re.compile(r"""cid:([^"'\s>)]+)""", re.I)


def cid_references(html: str) -> set[str]:
    """The Content-IDs an HTML body shows (<img src="cid:…">), lower-cased."""
    refs = set()
    for cid in _CID_RE.findall(html):
        refs.add(cid.lower())
        refs.add(unquote(cid).lower())
    return refs
