from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aisec.core.stats import wilson
from aisec.evaluation import CalibrationCard, Verdict, clopper_pearson, estimate_rate


def test_honest_upper_bound_at_zero_successes() -> None:
    assert clopper_pearson(0, 59)[1] < 0.05 < clopper_pearson(0, 58)[1]
    assert clopper_pearson(0, 299)[1] < 0.01 < clopper_pearson(0, 297)[1]
    assert clopper_pearson(0, 59)[0] == 0.0


def test_known_values() -> None:
    low, high = clopper_pearson(5, 10)
    assert low == pytest.approx(0.187086, abs=1e-5)
    assert high == pytest.approx(0.812914, abs=1e-5)
    assert clopper_pearson(0, 0) == (0.0, 1.0)
    w_low, w_high = wilson(5, 10)
    assert w_low == pytest.approx(0.2366, abs=1e-3)
    assert w_high == pytest.approx(0.7634, abs=1e-3)


@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_interval_contains_point_and_correction_widens(kn: tuple[int, int]) -> None:
    k, n = kn
    low, high = clopper_pearson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    card = CalibrationCard("d", tp=240, fn=0, tn=240, fp=0)
    corrected = estimate_rate(k, n, card=card)
    assert corrected.reliable
    assert corrected.ci_low <= low + 1e-12
    assert corrected.ci_high >= high - 1e-12


def test_false_positives_shift_the_rate_down_without_clipping_to_a_point() -> None:
    card = CalibrationCard("noisy", tp=90, fn=10, tn=90, fp=10)
    est = estimate_rate(30, 100, card=card)
    # Rogan-Gladen point: (0.3 + 0.9 - 1) / (0.9 + 0.9 - 1) = 0.25
    assert est.rate == pytest.approx(0.25)
    assert est.ci_low < est.rate < est.ci_high
    assert est.ci_high - est.ci_low > 0.1


def test_unreliable_detector_is_inconclusive_not_clipped() -> None:
    card = CalibrationCard("coin", tp=6, fn=4, tn=6, fp=4)
    est = estimate_rate(52, 100, card=card)
    assert not est.reliable
    assert (est.ci_low, est.ci_high) == (0.0, 1.0)
    assert "detector unreliable" in est.note
    assert est.verdict(0.05) is Verdict.INCONCLUSIVE


def test_hits_below_the_false_positive_rate_are_inconclusive() -> None:
    # a detector that flags ~30 % of safe replies, seeing 5 %: the card does not fit
    card = CalibrationCard("fp-heavy", tp=1000, fn=0, tn=700, fp=300)
    est = estimate_rate(5, 100, card=card)
    assert not est.reliable
    assert "does not fit" in est.note


def test_sequential_looks_widen_the_interval() -> None:
    one = estimate_rate(3, 100, looks=1)
    six = estimate_rate(3, 100, looks=6)
    assert six.ci_low < one.ci_low and six.ci_high > one.ci_high


def test_verdicts() -> None:
    assert estimate_rate(0, 300).verdict(0.05) is Verdict.NOT_VULNERABLE
    assert estimate_rate(40, 100).verdict(0.05) is Verdict.VULNERABLE
    assert estimate_rate(3, 60).verdict(0.05) is Verdict.INCONCLUSIVE
    assert estimate_rate(0, 0).verdict(0.05) is Verdict.INCONCLUSIVE
