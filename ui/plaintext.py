"""Untrusted text (paper titles, quotes, LLM rationales, notes) made inert for `st.markdown`.

`html.escape` alone is not enough inside Markdown: `![x](https://host/pixel.png)` has no
HTML in it and still becomes an `<img>` that every reviewer's browser fetches, and
`[text](url)` or a bare URL becomes a link. `plain` turns every ASCII punctuation mark
into a numeric character reference, so no Markdown, HTML or LaTeX syntax can form, and
puts an invisible zero-width space after `:`, `@` and `www`, because the renderer
autolinks URLs and e-mail addresses after decoding references (seen in Chromium: five
links to a loopback address before this). The browser shows the characters as written. Links to papers are built by the
app itself (`arxiv_link`), never taken from paper text.
"""

from __future__ import annotations

import re
import string

_PUNCT = {ord(c): f"&#{ord(c)};" for c in string.punctuation}
_ZWSP = "\u200b"
_AUTOLINK = re.compile(r"(?i)(:|@|\bwww)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")


def inert(text: object) -> str:
    """`text` made inert as `plain` does, its whitespace kept (pieces of a diff, which are joined again)."""
    cleaned = _CONTROL.sub("\ufffd", "" if text is None else str(text))
    cleaned = _AUTOLINK.sub(lambda m: m.group(1) + _ZWSP, cleaned)
    return cleaned.translate(_PUNCT)


def plain(text: object) -> str:
    """`text` as inert HTML for st.markdown(..., unsafe_allow_html=True) or plain st.markdown."""
    return " ".join(inert(text).split())


def arxiv_link(arxiv_id: str, label: str | None = None) -> str:
    """An `<a>` to https://arxiv.org/abs/<id>, built by the app; a malformed id gets no link."""
    shown = plain(label if label is not None else arxiv_id)
    if not _ARXIV_ID.match(arxiv_id or ""):
        return shown
    return f"<a href='https://arxiv.org/abs/{arxiv_id}' target='_blank' rel='noopener noreferrer'>{shown}</a>"
