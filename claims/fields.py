"""Field types shared by the records the engines hand to the claims store (pydantic)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator


def _naive_utc(v: dt.datetime | None) -> dt.datetime | None:
    if v is not None and v.tzinfo is not None:
        raise ValueError("must be a naive UTC datetime")
    return v


NaiveUtc = Annotated[dt.datetime | None, AfterValidator(_naive_utc)]  # what the tables store (claims.models.utcnow)


def one_of(values: tuple[str, ...], what: str, optional: bool = False) -> AfterValidator:
    """A validator refusing a word not in `values`, naming `what` and the allowed words (None too if `optional`)."""

    def check(v: Any) -> Any:
        if v is None and optional:
            return v
        if v not in values:
            raise ValueError(f"{what} {v!r}: expected one of {values}" + (" or None" if optional else ""))
        return v

    check.__name__ = f"check_{what.replace(' ', '_')}"
    return AfterValidator(check)

