import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims.dates import format_as_of, parse_as_of


@pytest.mark.parametrize(
    "text,start,end,precision",
    [
        ("~2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31), "year"),
        ("~2024\u20132025", dt.date(2024, 1, 1), dt.date(2025, 12, 31), "range"),
        ("\u223c2025\u20142026", dt.date(2025, 1, 1), dt.date(2026, 12, 31), "range"),
        ("2025-05", dt.date(2025, 5, 1), dt.date(2025, 5, 31), "month"),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29), "month"),
        ("2025-05-12", dt.date(2025, 5, 12), dt.date(2025, 5, 12), "day"),
        ("(~2025)", dt.date(2025, 1, 1), dt.date(2025, 12, 31), "year"),
    ],
)
def test_parses_document_dates(text, start, end, precision):
    got = parse_as_of(text)
    assert (got.start, got.end, got.precision) == (start, end, precision)
    assert got.raw == text.strip()


@pytest.mark.parametrize("text", ["2025-13", "sometime", "~20255", "2026-2024", "2025-02-30", ""])
def test_rejects_bad_dates_with_a_message(text):
    with pytest.raises(ValueError, match="expected|range|day|month"):
        parse_as_of(text)


dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


@given(dates, st.sampled_from(["year", "month", "day"]), st.booleans(), st.sampled_from(["-", "\u2013", "\u2014"]))
def test_format_then_parse_round_trips(d, precision, approx, dash):
    text = {"year": f"{d.year}", "month": f"{d.year}{dash}{d.month:02d}", "day": f"{d.year}{dash}{d.month:02d}{dash}{d.day:02d}"}[precision]
    text = ("~" if approx else "") + text
    got = parse_as_of(text)
    assert got.precision == precision
    assert got.start <= d <= got.end
    assert interval(parse_as_of(format_as_of(got))) == interval(got)
    assert format_as_of(parse_as_of(format_as_of(got))) == format_as_of(got)


def interval(value):
    return value.start, value.end, value.precision, value.approximate


@given(dates, dates, st.sampled_from(["year", "month", "day"]), st.booleans(), st.sampled_from(["-", "\u2013", " to "]))
def test_ranges_of_any_unit_round_trip_through_their_canonical_text(a, b, unit, approx, sep):
    a, b = min(a, b), max(a, b)
    point = {"year": lambda d: f"{d.year}", "month": lambda d: f"{d.year}-{d.month:02d}", "day": lambda d: d.isoformat()}[unit]
    got = parse_as_of(("~" if approx else "") + point(a) + sep + point(b))
    assert got.precision == "range" and got.start <= a and b <= got.end
    assert interval(parse_as_of(format_as_of(got))) == interval(got)


def test_canonical_text_of_a_month_range_keeps_the_months():
    assert format_as_of(parse_as_of("2025-05\u20132025-07")) == "2025-05 to 2025-07"
    assert format_as_of(parse_as_of("\u223c2024\u20132025")) == "~2024-2025"


@given(st.integers(1900, 2100), st.integers(0, 5), st.sampled_from(["-", "\u2013", " to "]))
def test_year_ranges_cover_both_years(a, span, sep):
    b = min(a + span, 2100)
    got = parse_as_of(f"~{a}{sep}{b}")
    assert got.start == dt.date(a, 1, 1) and got.end == dt.date(b, 12, 31)
    assert got.precision == ("range")
