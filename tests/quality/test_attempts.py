"""Retry below the threshold; after the last try keep the best, marked forced."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capture.attempts import Decision, Verdict, decide


def test_an_attempt_at_the_threshold_is_accepted_at_once() -> None:
    assert decide([40], threshold=40, tries=3) == Decision(Verdict.ACCEPT, 0)
    assert decide([12, 55], threshold=40, tries=3) == Decision(Verdict.ACCEPT, 1)


def test_below_the_threshold_with_tries_left_is_a_retry() -> None:
    assert decide([39], threshold=40, tries=3) == Decision(Verdict.RETRY)
    assert decide([10, 20], threshold=40, tries=3).verdict is Verdict.RETRY


def test_after_the_last_try_the_best_is_kept_and_forced() -> None:
    decision = decide([20, 35, 30], threshold=40, tries=3)
    assert decision == Decision(Verdict.FORCE, 1)
    assert decision.forced


def test_ties_keep_the_earlier_attempt() -> None:
    assert decide([30, 30, 10], threshold=40, tries=3) == Decision(Verdict.FORCE, 0)


def test_nothing_usable_after_the_last_try_asks_for_an_exception() -> None:
    assert decide([0, 0, 0], threshold=40, tries=3) == Decision(Verdict.EXCEPTION)


def test_a_policy_without_tries_or_a_decision_without_attempts_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one attempt"):
        decide([50], threshold=40, tries=0)
    with pytest.raises(ValueError, match="no attempt yet"):
        decide([], threshold=40, tries=3)


@given(st.lists(st.integers(0, 100), min_size=1, max_size=6), st.integers(1, 100))
def test_a_kept_attempt_is_never_worse_than_any_other(scores: list[int], threshold: int) -> None:
    decision = decide(scores, threshold=threshold, tries=len(scores))
    if decision.keep is not None and decision.forced:
        assert all(scores[decision.keep] >= s for s in scores)
    if decision.verdict is Verdict.ACCEPT:
        assert scores[decision.keep] >= threshold  # type: ignore[index]
