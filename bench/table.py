"""The one table `make bench` prints: each SPEC §7 figure, its baseline from the same run, the
ratio, the target and a pass/fail mark. Pure helpers (tested in tests/unit/test_bench_table.py)."""
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass
class Row:
    figure: str
    value: float | None
    unit: str
    baseline: str = ""
    base_value: float | None = None
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None
    note: str = ""


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(ours: float | None, base: float | None, lower_is_better: bool = False) -> float | None:
    """How many times better than the baseline: rate / rate, or time / time inverted."""
    if not ours or not base:
        return None
    return base / ours if lower_is_better else ours / base


def at_least(value: float | None, threshold: float) -> bool | None:
    return None if value is None else value >= threshold


def at_most(value: float | None, threshold: float) -> bool | None:
    return None if value is None else value <= threshold


def both(*checks: bool | None) -> bool | None:
    """Pass only if every check passed; unknown if one is unknown and none failed."""
    if any(c is False for c in checks):
        return False
    return None if any(c is None for c in checks) else True


def window_rate(samples: Sequence[tuple[float, int]], low: int, high: int) -> float | None:
    """Events/s while progress went from `low` to `high`, from (seconds, position) samples in
    time order; None if progress never reached `high`."""
    start = next((s for s in samples if s[1] >= low), None)
    end = next((s for s in samples if s[1] >= high), None)
    if start is None or end is None or end[0] <= start[0]:
        return None
    return (end[1] - start[1]) / (end[0] - start[0])


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f}{' ' + unit if unit else ''}"


def mark(ok: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a"}[ok]


def format_table(rows: Sequence[Row]) -> str:
    header = ("figure", "dealtrail", "baseline (same run)", "ratio", "target", "", "note")
    cells = [header] + [(r.figure, number(r.value, r.unit),
                         f"{r.baseline} {number(r.base_value, r.unit)}" if r.baseline else "",
                         f"{r.ratio:.2f}x" if r.ratio is not None else "", r.target, mark(r.ok), r.note)
                        for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header) - 1)]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(widths))) + "  " + c[-1] for c in cells]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(line.rstrip() for line in lines)


def as_json(rows: Sequence[Row], **meta) -> dict:
    return {**meta, "rows": [asdict(r) for r in rows]}
