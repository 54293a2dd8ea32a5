"""Which attempt to keep: retry below the threshold, keep the best when retries run out.

MOSIP's registration client does the same per modality: a threshold and a number of
tries from the policy, and after the last try the best attempt, marked as forced in the
record so the authority knows no attempt reached the threshold.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class Verdict(enum.Enum):
    """What the capture does after an attempt."""

    ACCEPT = "accept"  # the last attempt reached the threshold
    RETRY = "retry"  # below it, and tries are left
    FORCE = "force"  # no tries left: keep the best attempt, marked forced
    EXCEPTION = "exception"  # no tries left and no attempt was usable at all


@dataclass(frozen=True)
class Decision:
    """The verdict and, for ACCEPT and FORCE, which attempt (0-based) to keep."""

    verdict: Verdict
    keep: int | None = None

    @property
    def forced(self) -> bool:
        return self.verdict is Verdict.FORCE


def decide(scores: Sequence[int], *, threshold: int, tries: int, usable: int = 1) -> Decision:
    """The decision after the attempts scored ``scores`` so far, in order.

    ``threshold`` and ``tries`` come from the policy (MOSIP: slaps 40, 3 tries).  An
    attempt scoring below ``usable`` (no finger, a bandage) is never kept, even forced:
    the officer records an exception instead.  Ties keep the earlier attempt.
    """
    if tries < 1:
        raise ValueError(f"tries is {tries}: the policy must allow at least one attempt")
    if not scores:
        raise ValueError("no attempt yet: decide after the first one")
    if scores[-1] >= threshold:
        return Decision(Verdict.ACCEPT, len(scores) - 1)
    if len(scores) < tries:
        return Decision(Verdict.RETRY)
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    if scores[best] < usable:
        return Decision(Verdict.EXCEPTION)
    return Decision(Verdict.FORCE, best)
