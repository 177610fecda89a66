"""The retest protocols a claim may name, read from the packages that ship them.

The core may not import `retest`; the retest package lists its protocols under the
`claims.protocols` entry-point group (`retest.protocols:PROTOCOLS`): a mapping of name to
spec, each spec a `ProtocolEntry` (`name`, `claim_hint`, `interval_days`, `description`,
typed; `catalog_of` checks them and refuses a listing that breaks the contract, naming
it). That mapping is the one source of the
protocols' claim hints: the bundled document's protocols (C1..C3) are derived from it,
and `claims protocol list` shows the hints as suggestions.
Protocols with one hint are the parts of one test (`serving_protocols`): a claim's
retests propose its status only when every part has a replicated strong run and they
agree (`claims.status_rules`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class ProtocolEntry(Protocol):
    """What a package lists for each protocol under the `claims.protocols` entry point (the
    contract `retest.protocols.spec.ProtocolSpec` meets): the core reads these fields only."""

    name: str
    claim_hint: str  # the claim key it was written for ("" for none)
    interval_days: int  # how often it is due (0: never by itself)
    description: str


_FIELDS = {"name": str, "claim_hint": str, "interval_days": int, "description": str}


def catalog_of(specs: object, source: str) -> dict[str, ProtocolInfo]:
    """The `ProtocolInfo` of each spec a package lists (`specs`: name -> `ProtocolEntry`);
    TypeError naming `source` and the spec when the listing breaks the contract."""
    if not isinstance(specs, Mapping):
        raise TypeError(f"protocol listing {source!r}: expected a mapping of name to spec, got {type(specs).__name__}")
    out: dict[str, ProtocolInfo] = {}
    for key, spec in specs.items():
        if not isinstance(spec, ProtocolEntry):
            raise TypeError(f"protocol listing {source!r}: {key!r} lacks {', '.join(_FIELDS)}")
        wrong = [f"{f} ({type(getattr(spec, f)).__name__}, not {t.__name__})" for f, t in _FIELDS.items()
                 if not isinstance(getattr(spec, f), t) or (t is int and isinstance(getattr(spec, f), bool))]
        if wrong or spec.name != key:
            raise TypeError(f"protocol listing {source!r}: {key!r} has " + (", ".join(wrong) or f"name {spec.name!r}"))
        out[key] = ProtocolInfo(name=spec.name, claim_hint=spec.claim_hint, interval_days=spec.interval_days or None,
                                description=spec.description, source=source)
    return out


def protocol_catalog() -> dict[str, ProtocolInfo]:
    """The installed protocols by name (empty when no package lists any); the first listing of a name wins."""
    out: dict[str, ProtocolInfo] = {}
    for ep in sorted(entry_points(group="claims.protocols"), key=lambda e: e.name):
        for name, info in catalog_of(ep.load(), ep.name).items():
            out.setdefault(name, info)
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
