"""Property tests of the small parsers: the CSV cell guard and the Luhn checksum."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aisec.data._checks import luhn_ok
from aisec.data._render import safe_cell


@given(st.text())
def test_safe_cell_never_starts_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell.removeprefix("'") == text or cell == text


@given(st.lists(st.integers(0, 9), min_size=12, max_size=18))
def test_luhn_check_digit_completes_any_number(digits: list[int]) -> None:
    for check in range(10):
        number = "".join(map(str, digits)) + str(check)
        if luhn_ok(number):
            break
    else:
        raise AssertionError("no check digit makes the number valid")
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not luhn_ok(wrong)
    assert luhn_ok("4111 1111 1111 1111") and not luhn_ok("4111 1111 1111 1112")
