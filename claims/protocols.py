"""The retest protocols a claim may name, read from the packages that ship them.

The core may not import `retest`; the retest package lists its protocols under the
`claims.protocols` entry-point group (`retest.protocols:PROTOCOLS`, a dict of specs with
`name`, `claim_hint`, `interval_days`, `description`). That dict is the one source of the
protocols' claim hints: the bundled document's protocols (C1..C3) are derived from it,
and `claims protocol list` shows the hints as suggestions.
Protocols with one hint are the parts of one test (`serving_protocols`): a claim's
retests propose its status only when every part has a replicated strong run and they
agree (`claims.status_rules`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from claims.errors import BadInput

PROTOCOL_NAME_LENGTH = 60  # claims.protocol is a String(60)


@dataclass(frozen=True)
class ProtocolInfo:
    """What the core knows of a protocol: its name, the claim it was written for, how often it is due."""

    name: str
    claim_hint: str
    interval_days: int | None
    description: str
    source: str  # the entry point that listed it, e.g. "retest"


def _info(spec: Any, name: str, source: str) -> ProtocolInfo:
    interval = getattr(spec, "interval_days", None)
    return ProtocolInfo(name=str(getattr(spec, "name", name)), claim_hint=str(getattr(spec, "claim_hint", "") or ""),
                        interval_days=int(interval) if interval else None,
                        description=str(getattr(spec, "description", "") or ""), source=source)


def protocol_catalog() -> dict[str, ProtocolInfo]:
    """The installed protocols by name (empty when no package lists any)."""
    from importlib.metadata import entry_points

    out: dict[str, ProtocolInfo] = {}
    for ep in sorted(entry_points(group="claims.protocols"), key=lambda e: e.name):
        specs = ep.load()
        for name, spec in (specs.items() if isinstance(specs, dict) else ((getattr(s, "name", ""), s) for s in specs)):
            out.setdefault(str(name), _info(spec, str(name), ep.name))
    return out


def bundled_hints(catalog: dict[str, ProtocolInfo] | None = None) -> dict[str, str]:
    """Claim key -> protocol, from the protocols' own hints (the bundled document's C1..C5).

    A claim holds one protocol: where several name the same claim (C4, C5), the first in
    the package's registry order is its default; the others still serve it: its retests
    propose only when all of them agree (`serving_protocols`, `claims.status_rules`).
    """
    catalog = protocol_catalog() if catalog is None else catalog
    out: dict[str, str] = {}
    for p in catalog.values():
        if p.claim_hint:
            out.setdefault(p.claim_hint, p.name)
    return out


def suggestions(key: str, catalog: dict[str, ProtocolInfo] | None = None) -> list[str]:
    """The protocols whose hint names this claim key."""
    catalog = protocol_catalog() if catalog is None else catalog
    return sorted(p.name for p in catalog.values() if p.claim_hint == key)


def check_protocol(name: str, catalog: dict[str, ProtocolInfo] | None = None) -> str:
    """`name`, stripped, if it is an installed protocol; BadInput naming the known ones otherwise.

    With no protocol package installed any plain name up to 60 characters is accepted
    (the planner skips it as "unknown protocol" until one is).
    """
    name = (name or "").strip()
    catalog = protocol_catalog() if catalog is None else catalog
    if not name or len(name) > PROTOCOL_NAME_LENGTH or not all(c.isalnum() or c in "-_." for c in name):
        raise BadInput(f"a protocol name is 1-{PROTOCOL_NAME_LENGTH} letters, digits, '-', '_' or '.', got {name!r}")
    if catalog and name not in catalog:
        raise BadInput(f"unknown protocol {name!r}: choose one of {', '.join(sorted(catalog))} (`claims protocol list`)")
    return name


_CATALOG: dict[str, ProtocolInfo] | None = None


def installed_catalog() -> dict[str, ProtocolInfo]:
    """`protocol_catalog()`, read once per process (the proposal rules ask for it per claim)."""
    global _CATALOG
    if _CATALOG is None:
        _CATALOG = protocol_catalog()
    return _CATALOG


def serving_protocols(names: Iterable[str], catalog: dict[str, ProtocolInfo] | None = None) -> tuple[str, ...]:
    """The protocols that together test a claim that uses `names` (its attached protocol and
    the protocols of its strong runs): each name, and every protocol whose claim hint is the
    hint of one of them. Protocols written for one claim are its parts (C5: hard-samples,
    calibration, prior-corruption), and retests propose its status only when all of them
    agree (`claims.status_rules`). Sorted; unknown names are kept as they are."""
    catalog = installed_catalog() if catalog is None else catalog
    names = {n for n in names if n}
    hints = {catalog[n].claim_hint for n in names if n in catalog and catalog[n].claim_hint}
    return tuple(sorted(names | {p.name for p in catalog.values() if p.claim_hint in hints}))
