"""The protocol catalog's contract (`claims.protocols.ProtocolEntry`): the core reads typed fields
of the specs a package lists, and refuses a listing that breaks the contract, naming it."""

from __future__ import annotations

import dataclasses

import pytest

from claims.protocols import ProtocolEntry, catalog_of
from retest.protocols import PROTOCOLS


def test_the_retest_package_meets_the_contract() -> None:
    assert all(isinstance(spec, ProtocolEntry) for spec in PROTOCOLS.values())
    catalog = catalog_of(PROTOCOLS, "retest")
    c1 = catalog["passk-boundary"]
    assert (c1.claim_hint, c1.interval_days, c1.source) == ("C1", PROTOCOLS["passk-boundary"].interval_days, "retest")
    assert c1.description == PROTOCOLS["passk-boundary"].description


@dataclasses.dataclass
class Spec:
    name: str = "toy"
    claim_hint: str = "C9"
    interval_days: object = 14
    description: str = "a toy protocol"


@dataclasses.dataclass
class NoHint:
    name: str = "toy"
    interval_days: int = 14
    description: str = ""


@pytest.mark.parametrize("listing, message", [
    ([Spec()], "expected a mapping of name to spec, got list"),
    ({"toy": NoHint()}, "'toy' lacks name, claim_hint, interval_days, description"),
    ({"toy": Spec(interval_days="14")}, "'toy' has interval_days (str, not int)"),
    ({"toy": Spec(interval_days=True)}, "'toy' has interval_days (bool, not int)"),
    ({"other": Spec()}, "'other' has name 'toy'"),
])
def test_a_listing_that_breaks_the_contract_is_refused_by_name(listing: object, message: str) -> None:
    with pytest.raises(TypeError, match=r"protocol listing 'thirdparty': ") as err:
        catalog_of(listing, "thirdparty")
    assert message in str(err.value)


def test_a_protocol_due_never_has_no_interval() -> None:
    assert catalog_of({"toy": Spec(interval_days=0)}, "x")["toy"].interval_days is None
    assert catalog_of({"toy": Spec()}, "x")["toy"].interval_days == 14
