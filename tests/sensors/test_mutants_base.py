"""What every decoder shares: number parsing never lets a non-finite value through.

Written to kill mutants that survived `make mutation` (tools/mutation/).
"""

from __future__ import annotations

import math

import pytest

from sensors.base import finite_number, parse_number


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 10**400, "1e400", "nan", True])
def test_finite_number_is_none_for_anything_that_is_not_a_finite_number(value: object) -> None:
    assert finite_number(value) is None


@pytest.mark.parametrize("value, number", [(72, 72.0), (72.5, 72.5), (" 72 ", 72.0), (-3, -3.0)])
def test_finite_number_reads_ints_floats_and_number_text(value: object, number: float) -> None:
    assert finite_number(value) == number


def test_parse_number_is_none_for_text_that_is_not_a_finite_number() -> None:
    assert parse_number("inf") is None
    assert parse_number("9" * 400 + ".0e999") is None
    assert parse_number("12,5") is None
    assert parse_number(" 12.5\t") == 12.5
