"""The bench's pure helpers: percentiles, ratios, pass/fail, window rates and the table layout."""
from bench.table import Row, as_json, at_least, at_most, both, format_table, number, percentile, ratio, window_rate


def test_nearest_rank_percentile():
    values = list(range(100, 0, -1))  # 1..100, unsorted
    assert percentile(values, 99) == 99
    assert percentile(values, 50) == 50
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 99) is None


def test_ratio_is_times_better_than_the_baseline():
    assert ratio(500, 1000) == 0.5                             # a rate: ours / baseline
    assert ratio(0.010, 0.400, lower_is_better=True) == 40     # a time: baseline / ours
    assert ratio(None, 1000) is None and ratio(10, 0) is None and ratio(0, 10) is None


def test_checks_stay_unknown_without_a_value():
    assert at_least(5000, 5000) is True and at_least(4999, 5000) is False and at_least(None, 1) is None
    assert at_most(0.05, 0.05) is True and at_most(0.06, 0.05) is False and at_most(None, 1) is None
    assert both(True, True) is True
    assert both(True, None) is None
    assert both(None, False) is False


def test_window_rate_over_progress_samples():
    samples = [(0.0, 0), (1.0, 0), (2.0, 1000), (4.0, 5000), (6.0, 9000)]
    assert window_rate(samples, 1000, 9000) == 2000
    assert window_rate(samples, 1, 5000) == 2000                # from the first sample that moved
    assert window_rate(samples, 1000, 10_000) is None           # never got there
    assert window_rate(samples, 9000, 9000) is None             # no time elapsed


def test_numbers_keep_sensible_digits():
    assert number(12345.6, "ev/s") == "12,346 ev/s"
    assert number(42.25, "ms") == "42.2 ms"
    assert number(3.14159) == "3.14"
    assert number(None, "ms") == "n/a"


def test_table_has_one_line_per_row_with_aligned_columns():
    rows = [Row("relay publish", 30_000, "ev/s", "raw producer", 40_000, 0.75, ">= 0.7x raw", True),
            Row("peak RSS, API", 120, "MB", target="<= 300 MB", ok=None, note="sampled")]
    lines = format_table(rows).splitlines()
    assert len(lines) == 4 and set(lines[1]) == {"-"}
    assert lines[2].index("30,000 ev/s") == lines[3].index("120 MB") == lines[0].index("dealtrail")
    assert "raw producer 40,000 ev/s" in lines[2] and "0.75x" in lines[2] and "PASS" in lines[2]
    assert lines[3].split()[-2:] == ["n/a", "sampled"]
    assert as_json(rows, events=10)["rows"][0]["ratio"] == 0.75
