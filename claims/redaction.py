"""Showing database URLs and error messages without their secrets.

Every place that prints, logs or stores a database URL goes through `redact_url`; an
error text that may quote a URL or its password goes through `scrub`.

Secrets scrubbed at the source: the configured secret values (the LLM key, the Semantic
Scholar key, the database password) are registered once when the settings are loaded
(`register_secrets`), and `hide_secrets` removes them from any text the tool prints or
writes: error lines, progress, JSON output, reports, a run's recorded errors, judge
failures. An upstream error that echoes the key (as providers' 401 answers do) so
never shows it.
"""

from __future__ import annotations

import re

HIDDEN = "***"
MIN_SECRET = 4  # shorter values ("EMPTY" aside) are not hidden: they would mangle ordinary text
_SECRETS: set[str] = set()
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def redact_url(url: str) -> str:
    """`url` with its password replaced by ***; never the raw userinfo, even when unparsable.

    >>> redact_url("postgresql+psycopg://me:secret@db.example/claims")
    'postgresql+psycopg://me:***@db.example/claims'
    """
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - any parse failure: fall back to a form without userinfo
        m = _SCHEME.match(url)
        if m is None:
            return HIDDEN
        rest = url[m.end():]
        if "@" in rest:
            return f"{m.group(1)}://{HIDDEN}@{rest.rsplit('@', 1)[1]}"
        return url  # no userinfo to hide


def url_password(url: str) -> str | None:
    """The password in `url`, if any (so that `scrub` can remove it from error texts)."""
    from sqlalchemy.engine import make_url

    try:
        password = make_url(url).password
    except Exception:  # noqa: BLE001
        m = _SCHEME.match(url)
        rest = url[m.end():] if m else ""
        if "@" not in rest:
            return None
        user, colon, password = rest.rsplit("@", 1)[0].partition(":")
        return password or None
    return str(password) if password else None


def scrub(text: str, url: str | None) -> str:
    """`text` with `url` shown redacted and its password (raw or URL-quoted) replaced by ***."""
    if not url:
        return text
    from urllib.parse import quote_plus

    text = text.replace(url, redact_url(url))
    password = url_password(url)
    if password:
        for form in {password, quote_plus(password)}:
            text = text.replace(form, HIDDEN)
    return text


def register_secrets(*values: str | None) -> None:
    """Remember secret values (and their URL-quoted forms) for `hide_secrets`; blanks and "EMPTY" are ignored."""
    from urllib.parse import quote, quote_plus

    for value in values:
        if value and value != "EMPTY" and len(value) >= MIN_SECRET:
            _SECRETS.update({value, quote_plus(value), quote(value, safe="")})


def hide_secrets(text: str) -> str:
    """`text` with every registered secret value replaced by ***."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, HIDDEN)
    return text


def secrets_of(settings: object) -> list[str]:
    """The secret values a `claims.settings.Settings` holds (LLM key, Semantic Scholar key, database password),
    and the reviewer token of the environment (`CLAIMS_REVIEWER_TOKEN`)."""
    import os

    out = [os.environ.get("CLAIMS_REVIEWER_TOKEN") or ""]
    for name in ("llm_api_key", "s2_api_key"):
        value = getattr(settings, name, None)
        if value is not None:
            out.append(value.get_secret_value())
    url = getattr(settings, "database_url", None)
    if url:
        out.append(url_password(str(url)) or "")
    return out
