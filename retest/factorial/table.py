"""Outcome tables of a prior x optimizer grid as CSV, so a grid run elsewhere can be analysed.

One row per run and outcome; the header names (in any order; other columns are ignored)::

    prior,optimizer,pretrain_seed,rl_seed,outcome,value
    A-rich/long,grpo,0,0,pass@1,0.412

Pretraining seeds are nested in priors: seed 0 under two priors is two different base
models, and a seed may appear under one prior only. Seeds are labels (any text).
`parse_table` is pure (text in, runs per outcome out) and raises `TableError` naming the
line; `analyse_table` analyses every outcome of a table.
"""

from __future__ import annotations

import csv
import io
import math

from retest.factorial.analysis import COMPONENTS, DRAWS, METHOD, Analysis, AnalysisError, Row, analyse

COLUMNS = ("prior", "optimizer", "pretrain_seed", "rl_seed", "outcome", "value")


class TableError(ValueError):
    """The table cannot be read; `line` is the 1-based line of the file at fault (None: the whole file)."""

    def __init__(self, message: str, line: int | None = None):
        self.line, self.reason = line, message
        super().__init__(f"line {line}: {message}" if line is not None else message)


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (a byte-order mark allowed); a binary file is refused."""
    if b"\x00" in data[:65536]:
        raise TableError("a binary file (NUL bytes), not a CSV table")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TableError("not UTF-8 text (a binary file?)", line) from None


def parse_table(text: str) -> dict[str, list[Row]]:
    """Runs per outcome, in the order the outcomes first appear; TableError on the first fault."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(h.strip() for h in header):
            header = next(reader, None)
        if header is None:
            raise TableError("an empty table: expected the header " + ",".join(COLUMNS))
        names = [h.strip().lower() for h in header]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise TableError(f"the header lacks {', '.join(missing)} (expected {','.join(COLUMNS)})", reader.line_num)
        at = {c: names.index(c) for c in COLUMNS}
        out: dict[str, list[Row]] = {}
        seen: dict[tuple[str, ...], int] = {}
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) < len(names):
                raise TableError(f"{len(fields)} fields, the header has {len(names)}", line)
            row = {c: fields[i].strip() for c, i in at.items()}
            for c in COLUMNS[:-1]:
                if not row[c]:
                    raise TableError(f"empty {c}", line)
            try:
                value = float(row["value"])
            except ValueError:
                raise TableError(f"value {row['value']!r} is not a number", line) from None
            if not math.isfinite(value):
                raise TableError(f"value {row['value']!r} is not a finite number", line)
            key = tuple(row[c] for c in COLUMNS[:-1])
            if key in seen:
                raise TableError(f"the same run and outcome as line {seen[key]}", line)
            seen[key] = line
            out.setdefault(row["outcome"], []).append(
                (row["prior"], row["optimizer"], row["pretrain_seed"], row["rl_seed"], value))
    except csv.Error as exc:
        raise TableError(f"not a CSV table ({exc})", reader.line_num) from None
    if not out:
        raise TableError("an empty table: a header and no runs")
    return out


def analyse_table(text: str, draws: int = DRAWS, seed: int = 0) -> dict[str, Analysis]:
    """Each outcome of the table analysed (`retest.factorial.analysis.analyse`), in table order.

    TableError for a table that cannot be read, or an outcome whose runs cannot separate the
    components (named, with the reason)."""
    out: dict[str, Analysis] = {}
    for name, rows in parse_table(text).items():
        try:
            out[name] = analyse(rows, draws=draws, seed=seed)
        except AnalysisError as exc:
            raise TableError(f"outcome {name}: {exc}") from None
    return out


def report(analyses: dict[str, Analysis]) -> dict[str, object]:
    """The analyses as JSON-ready data: ``shares[outcome][component] = {estimate, low, high}``, and per
    outcome the variance estimates, degrees of freedom, ranges and notes. An outcome with the
    same value in every run has no shares (a note says so)."""
    notes = {o: [*a.notes, *([] if a.shares else ["the same value in every run: no variance to share"])]
             for o, a in analyses.items()}
    return {
        "method": METHOD,
        "level": 0.95,
        "components": list(COMPONENTS),
        "shares": {o: a.shares.model_dump(mode="json") for o, a in analyses.items() if a.shares is not None},
        "variances": {o: {c: round(v, 8) for c, v in a.components.items()} for o, a in analyses.items() if a.components},
        "df": {o: a.df for o, a in analyses.items()},
        "ranges": {o: {k: round(v, 4) for k, v in a.ranges.items()} for o, a in analyses.items()},
        "notes": {o: n for o, n in notes.items() if n},
    }
