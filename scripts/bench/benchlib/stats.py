"""Percentiles of measured values, and how numbers are printed in the table."""


def percentile(values, p):
    """Nearest-rank percentile: a value that was measured, never interpolated."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values):
    return percentile(values, 50)


def ms(value):
    return f"{value:.1f} ms" if value >= 10 else f"{value:.2f} ms"


def ratio(ours, reference):
    return f"{ours / reference:.2f}×" if reference else "n/a"


def p50_p99(values):
    return f"{ms(median(values))} / {ms(percentile(values, 99))}"
