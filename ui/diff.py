"""A readable word-level diff of two texts, as HTML: deletions red and struck, insertions green.

The texts are untrusted (a claim text may come from an edit or a document): every piece
goes through `ui.plaintext.inert`, so no Markdown link, image or autolink can form when
the diff is rendered with st.markdown.
"""

from __future__ import annotations

import difflib
import re

from ui.plaintext import inert

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
DEL_STYLE = "background:#f8c4c4;color:#7a0000;text-decoration:line-through;margin-right:0.15em"
INS_STYLE = "background:#bfeccb;color:#0b4d1a"


def tokens(text: str) -> list[str]:
    """Words, punctuation marks and the whitespace between them (joining gives the text back)."""
    return _TOKEN.findall(text or "")


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """(op, text) pieces with op in equal | delete | insert; concatenating equal+insert gives `new`."""
    a, b = tokens(old), tokens(new)
    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("equal", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            pieces.append(("delete", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            pieces.append(("insert", "".join(b[j1:j2])))
    return pieces


def diff_html(old: str, new: str) -> str:
    """The diff as inline HTML (inert); identical texts come back unmarked."""
    out = []
    for op, piece in word_diff(old, new):
        esc = inert(piece)
        if op == "equal":
            out.append(esc)
        elif op == "delete":
            out.append(f'<del style="{DEL_STYLE}">{esc}</del>')
        else:
            out.append(f'<ins style="{INS_STYLE};text-decoration:none">{esc}</ins>')
    return "".join(out)
