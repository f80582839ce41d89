"""Telegram's text formatting rules: HTML, MarkdownV2 and legacy Markdown parse modes.

Each parser turns formatted source text into the plain text Telegram stores plus the list of
MessageEntity dicts (offsets and lengths in UTF-16 code units, as the Bot API reports them), or
raises :class:`EntityParseError` whose message is what Telegram puts after
``"Bad Request: can't parse entities: "``. The error wording and byte offsets follow Telegram's
own parser (TDLib) so that test failures read like production failures.

One deliberate difference: with ``strict_ampersand=True`` (the default used by the fake server)
an ``&`` that does not start ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;`` or a numeric reference is
refused. Telegram itself keeps such an ``&`` literally, but in a bot it nearly always means a
value was interpolated without ``html.escape`` -- and the same value with a ``<`` in it would be
refused by Telegram.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "EntityParseError",
    "FormattedText",
    "UnsupportedParseMode",
    "detect_entities",
    "parse_formatted",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "strip_whitespace",
    "utf16_len",
]

_SPACES = " \t\n\r\f\v"
_TRIM = " \t\n\r\f\v\u00a0\u2028\u2029"
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_SUPPORTED_TAGS = {*_SIMPLE_TAGS, "a", "span", "blockquote", "tg-emoji"}
MARKDOWN_V2_RESERVED = "_*[]()~`>#+-=|{}.!"


class EntityParseError(ValueError):
    """Formatted text Telegram would refuse; str() is the part after "can't parse entities: "."""


class UnsupportedParseMode(ValueError):
    """A parse_mode other than HTML, MarkdownV2, Markdown or none."""


@dataclass
class FormattedText:
    """Plain text plus Bot API MessageEntity dicts (UTF-16 offsets)."""

    text: str
    entities: list[dict] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, the unit of Telegram's limits and offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(source: str, index: int) -> int:
    """UTF-8 byte offset of source[index], the unit Telegram's error messages use."""
    return len(source[:index].encode("utf-8", "surrogatepass"))


def _byte_offsets(source: str) -> list[int]:
    """UTF-8 byte offset of every index of source (and of its end), computed in one pass."""
    offsets = [0]
    for char in source:
        code = ord(char)
        offsets.append(offsets[-1] + (1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4))
    return offsets


class _Output:
    """Accumulates plain text while tracking the UTF-16 position."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0

    def add(self, chunk: str) -> None:
        """Append chunk to the plain text."""
        self.parts.append(chunk)
        self.pos += utf16_len(chunk)

    def text(self) -> str:
        """The plain text so far."""
        return "".join(self.parts)


def _sorted(entities: list[dict]) -> list[dict]:
    """Entities ordered like Telegram orders them: by offset, longer first."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def _decode_entity(source: str, i: int) -> tuple[str, int] | None:
    """Decode the character reference starting at source[i] == '&'; None if there is none."""
    n = len(source)
    j = i + 1
    if j < n and source[j] == "#":
        j += 1
        hexadecimal = j < n and source[j] == "x"
        if hexadecimal:
            j += 1
        start = j
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while j < n and source[j] in digits:
            j += 1
        if j == start or j - i >= 10:
            return None
        code = int(source[start:j], 16 if hexadecimal else 10)
        if code == 0 or code >= 0x10FFFF:
            return None
        if 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        char = chr(code)
    else:
        start = j
        while j < n and source[j].isascii() and source[j].isalpha():
            j += 1
        name = source[start:j]
        if name not in _NAMED_ENTITIES:
            return None
        char = _NAMED_ENTITIES[name]
    if j < n and source[j] == ";":
        j += 1
    return char, j


def _read_ampersand(source: str, i: int, strict: bool) -> tuple[str, int]:
    """Decode text starting at an '&': a character reference or, when allowed, a literal '&'."""
    decoded = _decode_entity(source, i)
    if decoded is not None:
        char, end = decoded
        if not strict or source[end - 1] == ";":
            return char, end
    if strict:
        raise EntityParseError(
            f'Unescaped "&" at byte offset {_byte_offset(source, i)}: write &amp; '
            "(Telegram would keep it literally; the fake server treats it as a missing html.escape)"
        )
    return "&", i + 1


def _skip_spaces(source: str, i: int) -> int:
    """Index of the first non-space character at or after i."""
    while i < len(source) and source[i] in _SPACES:
        i += 1
    return i


@dataclass
class _OpenTag:
    """A start tag waiting for its end tag."""

    name: str
    attrs: dict[str, str]
    start: int
    byte_offset: int


def _read_attributes(source: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Parse the attributes of a start tag; returns them and the index after '>'."""
    n = len(source)
    attrs: dict[str, str] = {}
    while True:
        i = _skip_spaces(source, i)
        if i >= n:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if source[i] == ">":
            return attrs, i + 1
        name_start = i
        while i < n and source[i] not in _SPACES and source[i] not in "=>":
            i += 1
        name = source[name_start:i].lower()
        if not name:
            raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        i = _skip_spaces(source, i)
        if i >= n:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if source[i] != "=":
            if tag == "blockquote" and name == "expandable":
                attrs[name] = ""
                continue
            raise EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {begin}'
            )
        i = _skip_spaces(source, i + 1)
        if i >= n:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        if source[i] in "'\"":
            quote = source[i]
            i += 1
            value: list[str] = []
            while i < n and source[i] != quote:
                if source[i] == "&":
                    decoded = _decode_entity(source, i)
                    if decoded is not None:
                        value.append(decoded[0])
                        i = decoded[1]
                        continue
                value.append(source[i])
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            i += 1
            attrs[name] = "".join(value)
        else:
            token_start = i
            while i < n and source[i].isascii() and (source[i].isalnum() or source[i] in ".-"):
                i += 1
            if i < n and source[i] not in _SPACES and source[i] != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(source, token_start)}"
                )
            attrs[name] = source[token_start:i].lower()


def _user_id_from_link(url: str) -> int | None:
    """The user id of a tg://user?id=N link, else None."""
    match = re.fullmatch(r"tg://user\?id=(\d{1,19})", url.strip(), flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


def _valid_link(url: str) -> bool:
    """Whether Telegram would keep a text_link to url (http(s)/tg/ton/mailto, or a bare domain)."""
    url = url.strip()
    if re.match(r"(?i)^(tg|ton|mailto):", url):
        return True
    return re.match(r"(?i)^(https?://)?[^\s/?#:@]+\.[^\s/?#:@]+", url) is not None


def _close_html_tag(tag: _OpenTag, out: _Output, entities: list[dict], inner_text: str, parent: _OpenTag | None):
    """Emit the entity for a closed HTML tag (nothing for empty ranges or invalid links)."""
    name = tag.name
    if parent is not None and {name, parent.name} == {"code", "pre"}:
        # <pre><code class="language-x">…</code></pre> is a single pre entity, emitted by the outer tag.
        code = tag if name == "code" else parent
        language = code.attrs.get("class", "")
        if language.startswith("language-") and len(language) > len("language-"):
            parent.attrs["language"] = language[len("language-") :]
        if name == "pre":
            parent.attrs["absorbed"] = "pre"
        return
    length = out.pos - tag.start
    if length <= 0:
        return
    entity: dict = {"offset": tag.start, "length": length}
    if name == "a":
        url = tag.attrs.get("href", inner_text)
        user_id = _user_id_from_link(url)
        if user_id is not None:
            entity.update(type="text_mention", user={"id": user_id, "is_bot": False, "first_name": ""})
        elif _valid_link(url):
            entity.update(type="text_link", url=url.strip())
        else:
            return
    elif name == "span":
        entity["type"] = "spoiler"
    elif name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    elif name == "tg-emoji":
        entity.update(type="custom_emoji", custom_emoji_id=tag.attrs["emoji-id"])
    elif name == "pre" or tag.attrs.get("absorbed") == "pre":
        entity["type"] = "pre"
        language = tag.attrs.get("language")
        if language:
            entity["language"] = language
    else:
        entity["type"] = _SIMPLE_TAGS[name]
    entities.append(entity)


def parse_html(source: str, *, strict_ampersand: bool = True) -> FormattedText:
    """Parse Telegram HTML into plain text and entities; raise EntityParseError like Telegram."""
    out = _Output()
    entities: list[dict] = []
    byte_at = _byte_offsets(source)
    stack: list[_OpenTag] = []
    starts: list[int] = []  # index into out.parts where each open tag's text begins
    n = len(source)
    i = 0
    while i < n:
        c = source[i]
        if c == "&":
            char, i = _read_ampersand(source, i, strict_ampersand)
            out.add(char)
            continue
        if c != "<":
            j = i
            while j < n and source[j] not in "&<":
                j += 1
            out.add(source[i:j])
            i = j
            continue
        begin = byte_at[i]
        i += 1
        if i < n and source[i] == "/":
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
            i += 1
            name_start = i
            while i < n and source[i] not in _SPACES and source[i] != ">":
                i += 1
            end_name = source[name_start:i].lower()
            i = _skip_spaces(source, i)
            if i >= n or source[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
            i += 1
            tag = stack.pop()
            part_index = starts.pop()
            if end_name and end_name != tag.name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", found "</{end_name}>"'
                )
            inner = "".join(out.parts[part_index:])
            _close_html_tag(tag, out, entities, inner, stack[-1] if stack else None)
            continue
        name_start = i
        while i < n and source[i] not in _SPACES and source[i] != ">":
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        tag_name = source[name_start:i].lower()
        if tag_name not in _SUPPORTED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag_name}" at byte offset {begin}')
        attrs, i = _read_attributes(source, i, tag_name, begin)
        if tag_name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        if tag_name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {begin}')
        stack.append(_OpenTag(tag_name, attrs, out.pos, begin))
        starts.append(len(out.parts))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return FormattedText(out.text(), _sorted(entities))


# --------------------------------------------------------------------------------------------
# MarkdownV2
# --------------------------------------------------------------------------------------------

_MD_KIND_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "link": "TextUrl",
    "emoji": "CustomEmoji",
}


@dataclass
class _MdFrame:
    """An open MarkdownV2 entity."""

    kind: str
    start: int
    byte_offset: int
    language: str = ""


def _md_reserved(source: str, i: int) -> EntityParseError:
    """The error for an unescaped reserved character at source[i]."""
    return EntityParseError(f"Character '{source[i]}' is reserved and must be escaped with the preceding '\\'")


def _md_read_url(source: str, i: int, bracket_offset: int) -> tuple[str, int]:
    """Read '(url)' starting at source[i] == '('; returns the url and the index after ')'."""
    n = len(source)
    j = i + 1
    url: list[str] = []
    while j < n and source[j] != ")":
        if source[j] == "\\" and j + 1 < n and source[j + 1] in ")\\":
            url.append(source[j + 1])
            j += 2
            continue
        url.append(source[j])
        j += 1
    if j >= n:
        raise EntityParseError(f"Can't find end of a URL at byte offset {bracket_offset}")
    return "".join(url), j + 1


def _md_close(frame: _MdFrame, out: _Output, entities: list[dict], extra: dict | None = None) -> None:
    """Emit the entity of a closed MarkdownV2 frame when it covers some text."""
    length = out.pos - frame.start
    if length <= 0:
        return
    entity = {"type": frame.kind, "offset": frame.start, "length": length}
    if frame.kind == "pre" and frame.language:
        entity["language"] = frame.language
    if extra:
        entity.update(extra)
    entities.append(entity)


def parse_markdown_v2(source: str) -> FormattedText:
    """Parse MarkdownV2 into plain text and entities; raise EntityParseError like Telegram."""
    out = _Output()
    entities: list[dict] = []
    stack: list[_MdFrame] = []
    quote: _MdFrame | None = None
    byte_at = _byte_offsets(source)
    n = len(source)
    i = 0
    line_start = True
    while i < n:
        c = source[i]
        top = stack[-1].kind if stack else None
        if c == "\\" and i + 1 < n and 0 < ord(source[i + 1]) < 127:
            out.add(source[i + 1])
            i += 2
            line_start = False
            continue
        if top in ("code", "pre"):
            if top == "pre" and source.startswith("```", i):
                _md_close(stack.pop(), out, entities)
                i += 3
            elif top == "code" and c == "`":
                _md_close(stack.pop(), out, entities)
                i += 1
            else:
                out.add(c)
                i += 1
            continue
        if line_start and quote is None and (c == ">" or source.startswith("**>", i)):
            expandable = c == "*"
            quote = _MdFrame("expandable_blockquote" if expandable else "blockquote", out.pos, byte_at[i])
            i += 3 if expandable else 1
            line_start = False
            continue
        if line_start and quote is not None:
            if c == ">":
                i += 1
                line_start = False
                continue
            _md_end_quote(quote, out, entities)
            quote = None
        line_start = False
        offset = byte_at[i]
        if c == "\n":
            out.add(c)
            i += 1
            line_start = True
            continue
        if c == "`":
            if source.startswith("```", i):
                j = i + 3
                k = j
                while k < n and source[k] not in _SPACES and source[k] != "`":
                    k += 1
                frame = _MdFrame("pre", out.pos, offset)
                if k > j and k < n and source[k] in _SPACES:
                    frame.language = source[j:k]
                    j = k + 1 if source[k] == "\n" else k
                    frame.start = out.pos
                stack.append(frame)
                i = j
            else:
                stack.append(_MdFrame("code", out.pos, offset))
                i += 1
            continue
        if c == "|" and i + 1 < n and source[i + 1] == "|":
            if quote is not None and quote.kind == "expandable_blockquote" and _at_line_end(source, i + 2):
                i += 2
                continue
            if top == "spoiler":
                _md_close(stack.pop(), out, entities)
            else:
                stack.append(_MdFrame("spoiler", out.pos, offset))
            i += 2
            continue
        if c == "_":
            double = i + 1 < n and source[i + 1] == "_"
            if top == "underline" and double:
                _md_close(stack.pop(), out, entities)
                i += 2
            elif top == "italic" and not double:
                _md_close(stack.pop(), out, entities)
                i += 1
            else:
                stack.append(_MdFrame("underline" if double else "italic", out.pos, offset))
                i += 2 if double else 1
            continue
        if c in "*~":
            kind = "bold" if c == "*" else "strikethrough"
            if top == kind:
                _md_close(stack.pop(), out, entities)
            else:
                stack.append(_MdFrame(kind, out.pos, offset))
            i += 1
            continue
        if c == "[" or (c == "!" and i + 1 < n and source[i + 1] == "["):
            kind = "emoji" if c == "!" else "link"
            stack.append(_MdFrame(kind, out.pos, offset))
            i += 2 if c == "!" else 1
            continue
        if c == "]" and top in ("link", "emoji"):
            frame = stack.pop()
            if i + 1 >= n or source[i + 1] != "(":
                raise EntityParseError(f"Can't find end of a URL at byte offset {byte_at[i + 1]}")
            url, i = _md_read_url(source, i + 1, byte_at[i + 2])
            if frame.kind == "emoji":
                match = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
                if not match:
                    raise EntityParseError(f"Custom emoji URL must have an emoji identifier at byte offset {offset}")
                _md_close(
                    _MdFrame("custom_emoji", frame.start, frame.byte_offset),
                    out,
                    entities,
                    {"custom_emoji_id": match.group(1)},
                )
            else:
                user_id = _user_id_from_link(url)
                if user_id is not None:
                    extra = {"user": {"id": user_id, "is_bot": False, "first_name": ""}}
                    _md_close(_MdFrame("text_mention", frame.start, frame.byte_offset), out, entities, extra)
                elif _valid_link(url):
                    _md_close(_MdFrame("text_link", frame.start, frame.byte_offset), out, entities, {"url": url})
            continue
        if c in MARKDOWN_V2_RESERVED:
            raise _md_reserved(source, i)
        out.add(c)
        i += 1
    if stack:
        frame = stack[-1]
        kind = "PreCode" if frame.kind == "pre" and frame.language else _MD_KIND_NAMES[frame.kind]
        raise EntityParseError(f"Can't find end of {kind} entity at byte offset {frame.byte_offset}")
    if quote is not None:
        _md_end_quote(quote, out, entities)
    return FormattedText(out.text(), _sorted(entities))


def _at_line_end(source: str, i: int) -> bool:
    """Whether source[i:] is empty or starts with a newline."""
    return i >= len(source) or source[i] == "\n"


def _md_end_quote(quote: _MdFrame, out: _Output, entities: list[dict]) -> None:
    """Close a block quote at the end of its last line (the newline is not part of it)."""
    text = out.text()
    end = out.pos - (1 if text.endswith("\n") else 0)
    length = end - quote.start
    if length > 0:
        entities.append({"type": quote.kind, "offset": quote.start, "length": length})


# --------------------------------------------------------------------------------------------
# Legacy Markdown
# --------------------------------------------------------------------------------------------


def parse_markdown(source: str) -> FormattedText:
    """Parse legacy Markdown (*bold* _italic_ `code` ```pre``` [text](url)) like Telegram."""
    out = _Output()
    entities: list[dict] = []
    n = len(source)
    i = 0
    while i < n:
        c = source[i]
        if c == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            out.add(source[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            out.add(c)
            i += 1
            continue
        begin = _byte_offset(source, i)
        start = out.pos
        if c == "[":
            close = source.find("]", i + 1)
            if close < 0 or close + 1 >= n or source[close + 1] != "(":
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
            url_end = source.find(")", close + 2)
            if url_end < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
            out.add(source[i + 1 : close])
            url = source[close + 2 : url_end]
            if out.pos > start and _valid_link(url):
                entities.append({"type": "text_link", "offset": start, "length": out.pos - start, "url": url})
            i = url_end + 1
            continue
        if source.startswith("```", i):
            end = source.find("```", i + 3)
            if end < 0:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
            body = source[i + 3 : end]
            language = ""
            first_line, newline, rest = body.partition("\n")
            if newline and first_line and " " not in first_line:
                language, body = first_line, rest
            out.add(body)
            if out.pos > start:
                entity = {"type": "pre", "offset": start, "length": out.pos - start}
                if language:
                    entity["language"] = language
                entities.append(entity)
            i = end + 3
            continue
        end = source.find(c, i + 1)
        if end < 0:
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
        out.add(source[i + 1 : end])
        if out.pos > start:
            kind = {"*": "bold", "_": "italic", "`": "code"}[c]
            entities.append({"type": kind, "offset": start, "length": out.pos - start})
        i = end + 1
    return FormattedText(out.text(), _sorted(entities))


# --------------------------------------------------------------------------------------------
# Shared post-processing
# --------------------------------------------------------------------------------------------


def parse_formatted(text: str, parse_mode: str | None, *, strict_ampersand: bool = True) -> FormattedText:
    """Parse text in the given Bot API parse_mode (case-insensitive; None/"" for plain text)."""
    mode = (parse_mode or "").lower()
    if mode in ("", "none"):
        return FormattedText(text, [])
    if mode == "html":
        return parse_html(text, strict_ampersand=strict_ampersand)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise UnsupportedParseMode(parse_mode)


def strip_whitespace(formatted: FormattedText) -> FormattedText:
    """Trim leading/trailing whitespace like Telegram does, shifting and clipping entities."""
    text = formatted.text
    stripped_left = text.lstrip(_TRIM)
    stripped = stripped_left.rstrip(_TRIM)
    shift = utf16_len(text) - utf16_len(stripped_left)
    limit = utf16_len(stripped)
    entities = []
    for entity in formatted.entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(stripped, entities)


_AUTO_PATTERNS = [
    ("url", re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)\]'}]")),
    ("email", re.compile(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b")),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#[^\W\d_][\w]*|(?<![\w#])#\d*[^\W\d][\w]*")),
]


def detect_entities(text: str, existing: list[dict] | None = None) -> list[dict]:
    """Entities Telegram finds by itself (urls, emails, /commands, @mentions, #hashtags)."""
    taken: list[tuple[int, int]] = [
        (e["offset"], e["offset"] + e["length"])
        for e in existing or []
        if e["type"] in ("code", "pre", "text_link", "text_mention", "custom_emoji")
    ]
    found: list[dict] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(match.group(0))
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    return _sorted(found)
