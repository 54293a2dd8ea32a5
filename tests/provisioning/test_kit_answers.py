"""Answers the tool takes from a kit, checked before use: a stolen or broken kit signs what
it likes, and the tool must name it, never crash or build a list of 2^63 seqs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kitlink import protocol as p
from kitlink.messages import LIST_MAX, MAX_CHAIN, Head, LedgerResult, ListResult
from storage.codec import MAX_BYTES

HASH = bytes(range(32))


def head_of(result: dict[str, Any]) -> Head:
    """The head of a ledger answer whose other fields are well formed, its head ``result``'s."""
    empty = LedgerResult("K1", Head(0, None), {}, (), (), True, datetime(2025, 6, 1, tzinfo=UTC))
    others = {name: value for name, value in empty.to_map().items() if name != "head"}
    return LedgerResult.from_map({**others, **result}).head


def sizes_of(result: dict[str, Any]) -> dict[int, int]:
    return ListResult.from_map(result).sizes


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"head": None},
        {"head": [1]},
        {"head": "1"},
        {"head": [2**63, HASH]},
        {"head": [MAX_CHAIN + 1, HASH]},
        {"head": [-1, HASH]},
        {"head": [True, HASH]},
        {"head": [1.0, HASH]},
        {"head": [3, None]},
        {"head": [3, b"short"]},
        {"head": [0, HASH]},
        {"head": [3, "00" * 32]},
    ],
)
def test_a_head_that_cannot_be_is_refused(result: dict[str, Any]) -> None:
    with pytest.raises(p.MessageError, match="ledger answer is malformed"):
        head_of(result)


def test_heads_that_can_be() -> None:
    assert head_of({"head": [0, None]}) == Head(0, None)
    assert head_of({"head": [7, HASH]}) == Head(7, HASH)


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"records": None},
        {"records": [[1]]},
        {"records": [[1, 0]]},
        {"records": [[1, -1]]},
        {"records": [[1, MAX_BYTES + 1]]},
        {"records": [["1", 10]]},
        {"records": [[1, 10.5]]},
        {"records": [[1, 10]] * (LIST_MAX + 1)},
    ],
)
def test_a_list_that_cannot_be_is_refused(result: dict[str, Any]) -> None:
    with pytest.raises(p.MessageError, match="list answer is malformed"):
        sizes_of(result)


def test_a_list_that_can_be() -> None:
    assert sizes_of({"records": [[1, 900], [2, 1200]]}) == {1: 900, 2: 1200}
