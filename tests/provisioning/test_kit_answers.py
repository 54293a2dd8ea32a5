"""Answers the tool takes from a kit, checked before use: a stolen or broken kit signs what
it likes, and the tool must name it, never crash or build a list of 2^63 seqs."""

from __future__ import annotations

from typing import Any

import pytest

from kitlink import protocol as p
from provisioning.collect import MAX_CHAIN, Head, head_of, sizes_of
from storage.codec import MAX_BYTES

HASH = bytes(range(32))


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
        {"records": [[1, 10]] * (p.LIST_MAX + 1)},
    ],
)
def test_a_list_that_cannot_be_is_refused(result: dict[str, Any]) -> None:
    with pytest.raises(p.MessageError, match="list answer is malformed"):
        sizes_of(result)


def test_a_list_that_can_be() -> None:
    assert sizes_of({"records": [[1, 900], [2, 1200]]}) == {1: 900, 2: 1200}
