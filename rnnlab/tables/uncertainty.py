"""How sure a table's mean is: Student's t confidence interval for the mean of n seeds.

With a handful of seeds (5, sometimes 20) the normal 1.96 understates the interval (at
n = 5 the factor is 2.78), so the interval uses the t quantile with n - 1 degrees of
freedom, computed here exactly from the t distribution's closed form for integer degrees
of freedom (no scipy in the base install).
"""

import math
import statistics


def t_two_sided_probability(t: float, df: int) -> float:
    """P(|T| < t) for Student's T with `df` (a positive integer) degrees of freedom: the
    closed-form series in theta = atan(t / sqrt(df)) (Abramowitz & Stegun 26.7.3-4)."""
    if df < 1:
        raise ValueError(f"df must be a positive integer, got {df!r}")
    theta = math.atan(abs(t) / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    if df % 2 == 0:  # sin(theta) (1 + 1/2 cos^2 + 1·3/(2·4) cos^4 + ... up to cos^(df-2))
        term = total = 1.0
        for k in range(1, df // 2):
            term *= cos2 * (2 * k - 1) / (2 * k)
            total += term
        return math.sin(theta) * total
    if df == 1:
        return 2 * theta / math.pi
    term = total = 1.0  # (2/pi)(theta + sin cos (1 + 2/3 cos^2 + ... up to cos^(df-3)))
    for k in range(1, (df - 1) // 2):
        term *= cos2 * (2 * k) / (2 * k + 1)
        total += term
    return 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)


def t_quantile(confidence: float, df: int) -> float:
    """t such that P(|T| < t) = `confidence` (0.95: the 0.975 quantile), by bisection."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    low, high = 0.0, 1.0
    while t_two_sided_probability(high, df) < confidence:
        high *= 2
    for _ in range(200):
        middle = (low + high) / 2
        if t_two_sided_probability(middle, df) < confidence:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def mean_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """The `confidence` interval for the mean of `values` (seeds' results, assumed drawn
    independently from one normal): mean ± t_{n-1} s / sqrt(n), s the sample standard
    deviation. None with fewer than two values."""
    if len(values) < 2:
        return None
    mean, std = statistics.fmean(values), statistics.stdev(values)
    half = t_quantile(confidence, len(values) - 1) * std / math.sqrt(len(values))
    return mean - half, mean + half
