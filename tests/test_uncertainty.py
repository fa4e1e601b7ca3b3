"""The t interval for a mean, against hand-worked values and printed t tables."""

import math

import pytest

from rnnlab.tables.uncertainty import mean_interval, t_quantile

# t_{0.975} from any printed table (e.g. NIST/SEMATECH e-Handbook, 1.3.6.7.2)
PRINTED = {1: 12.706, 2: 4.303, 4: 2.776, 5: 2.571, 19: 2.093, 30: 2.042, 100: 1.984}


@pytest.mark.parametrize("df,expected", PRINTED.items())
def test_t_quantile_matches_the_printed_table(df, expected):
    assert t_quantile(0.95, df) == pytest.approx(expected, abs=6e-4)


def test_t_quantile_tends_to_the_normal_one():
    assert t_quantile(0.95, 100_000) == pytest.approx(1.959964, abs=1e-4)


def test_mean_interval_of_a_hand_worked_case():
    # 1..5: mean 3, s = sqrt(2.5), t_{0.975, 4} = 2.776445; half-width
    # 2.776445 * sqrt(2.5) / sqrt(5) = 2.776445 / sqrt(2) = 1.963243
    low, high = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert low == pytest.approx(3 - 1.963243, abs=1e-6)
    assert high == pytest.approx(3 + 1.963243, abs=1e-6)
    assert 3 - low == pytest.approx(2.776445 / math.sqrt(2), abs=1e-6)


def test_mean_interval_needs_two_values():
    assert mean_interval([]) is None and mean_interval([1.0]) is None
    assert mean_interval([2.0, 2.0]) == (2.0, 2.0)
