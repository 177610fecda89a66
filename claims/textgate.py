"""The one gate for text that people put in: documents, JSON files, add, edit, review decisions,
comments and reviewer names all pass through here before anything is stored.

- Normalised (`clean_text`): NFC, curly quotes and non-breaking spaces folded, line ends
  unified, zero-width characters and bidi marks (U+200B-U+200F, U+2060-U+2064, U+FEFF)
  stripped.
- Refused (`hidden_character`, one line naming the field and the character): NUL and the
  other C0 controls but tab and line end, DEL, the C1 controls (U+0080-U+009F), the
  bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the line and
  paragraph separators (U+2028, U+2029): they hide, reorder or act on what a reviewer or a
  terminal shows.
- Required text (`check_text`) may not be blank; a comment (`check_comment`) may be.

Text stored before this gate existed is escaped on every output path (the CLI's
`safe_text`, the export's and the app's plain-text rendering).
"""

from __future__ import annotations

import re
import unicodedata

from claims.errors import BadInput

MAX_TEXT = 2000  # characters: the bundled findings are under 300
MAX_NAME = 200

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff]")
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class TextRefused(BadInput):
    """Text the gate refuses (exit 2); the message names the field and why."""


def clean_text(text: str) -> str:
    """Normalise what editors vary: NFC, curly quotes, non-breaking spaces, line ends, zero-width characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH.sub("", text.replace("\u00a0", " "))
    for a, b in (("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"')):
        text = text.replace(a, b)
    return text


def hidden_character(text: str) -> str | None:
    """Why `text` is refused (its first control or bidi-override character, and where), or None."""
    m = _REFUSED.search(text)
    if m is None:
        return None
    name = unicodedata.name(m.group(), "control character")
    return (f"refusing U+{ord(m.group()):04X} ({name}) at column {m.start() + 1}: control and "
            "bidirectional-override characters hide or reorder text; remove it")


def gate(text: str | None, what: str, single_line: bool = True, limit: int = MAX_TEXT, required: bool = True) -> str:
    """The cleaned text, or TextRefused naming `what`: a refused character, blank when required, too long."""
    cleaned = clean_text(text or "")
    why = hidden_character(cleaned)
    if why:
        raise TextRefused(f"{what}: {why}")
    cleaned = " ".join(cleaned.split()) if single_line else cleaned.strip()
    if required and not cleaned:
        raise TextRefused(f"{what} is empty")
    if len(cleaned) > limit:
        raise TextRefused(f"{what} has {len(cleaned)} characters; the limit is {limit}")
    return cleaned


def comment(text: str | None, what: str = "--comment") -> str:
    """A comment through the gate: cleaned, one line; may be empty."""
    return gate(text, what, required=False)


def name(text: str | None, what: str = "a reviewer name") -> str:
    """A person's name through the gate: 1-200 characters, one line."""
    return gate(text, what, limit=MAX_NAME)


# Invisible or direction-changing characters that are not controls (Unicode category Cf
# covers most; line and paragraph separators are Zl/Zp).
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def safe_text(value: object, multiline: bool = False) -> str:
    """`value` as text that cannot control a terminal: shown as it is written, never obeyed (every output path).

    Control characters (C0 incl. ESC and BEL, DEL, C1), bidi overrides, zero-width and
    other invisible format characters become visible escapes (`\\x1b`, `\\u202e`); tabs
    stay, newlines stay only if `multiline`. Print the result with Rich markup off
    (`console()` or `rich.text.Text`), so brackets such as `[/]` are shown literally.
    """
    text = "" if value is None else str(value)
    if text.isascii() and text.isprintable():
        return text
    out = []
    for ch in text:
        if ch == "\t" or (ch == "\n" and multiline):
            out.append(ch)
        elif unicodedata.category(ch) in _INVISIBLE_CATEGORIES:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)
