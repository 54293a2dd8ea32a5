"""The simulated sensor's matcher gives, with array arithmetic, the score its plain
definition gives: votes for an offset, the three most voted, greedy pairing in order."""

from __future__ import annotations

import random

from hw_sim.fingerprints import (
    _ANGLE_TOLERANCE,
    _POSITION_TOLERANCE,
    _VOTE_BIN,
    MATCH_THRESHOLD,
    MAX_SCORE,
    _decode,
    match_score,
    template_of,
)


def _close(a: int, b: int) -> bool:
    turn = abs(a - b) % 256
    return min(turn, 256 - turn) <= _ANGLE_TOLERANCE


def plain_score(a: bytes, b: bytes) -> int:
    """The matcher's definition, pair by pair (docs: hw_sim.fingerprints.match_score)."""
    first, second = _decode(a), _decode(b)
    if not first or not second:
        return 0
    votes: dict[tuple[int, int], int] = {}
    for x1, y1, a1, _ in first:
        for x2, y2, a2, _ in second:
            if _close(a1, a2):
                key = (round((x2 - x1) / _VOTE_BIN), round((y2 - y1) / _VOTE_BIN))
                votes[key] = votes.get(key, 0) + 1
    best = sorted(votes, key=votes.__getitem__, reverse=True)[:3]  # stable: first voted
    matched = 0
    for bx, by in best:
        free, count = list(second), 0
        for x1, y1, a1, k1 in first:
            for j, (x2, y2, a2, k2) in enumerate(free):
                dx, dy = x1 + bx * _VOTE_BIN - x2, y1 + by * _VOTE_BIN - y2
                near = abs(dx) <= _POSITION_TOLERANCE and abs(dy) <= _POSITION_TOLERANCE
                if k1 == k2 and near and _close(a1, a2):
                    del free[j]
                    count += 1
                    break
        matched = max(matched, count)
    return min(MAX_SCORE, round(MAX_SCORE * matched * matched / (len(first) * len(second))))


def test_the_array_matcher_scores_as_the_plain_definition_same_fingers_and_strangers() -> None:
    rng = random.Random(11)
    same = strangers = 0
    for _ in range(400):
        seed, position = rng.randrange(1, 5000), rng.randrange(1, 11)
        probe = template_of(seed, position, rng.randrange(6))
        if rng.random() < 0.5:
            other = template_of(seed, position, rng.randrange(6))
        else:
            other = template_of(rng.randrange(1, 5000), rng.randrange(1, 11), rng.randrange(6))
        score = match_score(probe, other)
        assert score == plain_score(probe, other)
        same += score >= MATCH_THRESHOLD
        strangers += score < MATCH_THRESHOLD
    assert same and strangers, "both sides of the threshold were compared"


def test_bytes_that_are_no_template_score_zero() -> None:
    real = template_of(7, 2)
    assert match_score(b"junk", real) == 0 == match_score(real, b"JT\x01\x00" + bytes(508))
