"""Blank cards by serial: the ranges' text, and a kit ledger that names cards from its ranges."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.blanks import (
    BadSerialRange,
    SerialRange,
    first_overlap,
    nth_serial,
    parse_serial,
    serial_text,
)
from storage.errors import StateError
from storage.state import SqliteLedger, open_database

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


@given(
    batch=st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,23}", fullmatch=True),
    number=st.integers(1, 9_999_999),
)
def test_a_serial_reads_back_as_its_batch_and_number(batch: str, number: int) -> None:
    assert parse_serial(serial_text(batch, number)) == (batch, number)
    assert serial_text(batch, number) in SerialRange(batch, number, number)


@pytest.mark.parametrize("text", ["KIT-3505-01-C00001", "B1-12", "b1-0000001", "-0000001", ""])
def test_a_serial_no_range_could_name_reads_as_none(text: str) -> None:
    assert parse_serial(text) is None


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("B3505:20-10", "first before last"),
        ("b3505:1-10", "upper-case"),
        ("B3505:1-2000000", "more than 1000000"),
        ("B3505-1-10", "BATCH:FIRST-LAST"),
        ("B3505:0-10", "from 1"),
    ],
)
def test_a_range_that_cannot_be_is_named(text: str, said: str) -> None:
    with pytest.raises(BadSerialRange, match=said):
        SerialRange.parse(text)


def test_ranges_count_in_their_order_and_overlaps_are_found() -> None:
    ranges = [SerialRange("A", 5, 6), SerialRange("B", 1, 2)]
    assert [nth_serial(ranges, i) for i in range(5)] == [
        "A-0000005",
        "A-0000006",
        "B-0000001",
        "B-0000002",
        None,
    ]
    assert first_overlap(ranges) is None
    assert first_overlap([SerialRange("A", 1, 5), SerialRange("A", 5, 9)]) is not None
    assert SerialRange.parse(" A:5-6 ") == ranges[0]


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger(open_database(tmp_path / "state.db"), threading.Lock(), lambda: NOW)


def test_the_kit_names_each_card_by_the_next_serial_of_its_ranges(ledger: SqliteLedger) -> None:
    ledger.hold((SerialRange("B1", 100, 101), SerialRange("B2", 7, 7)), officer_id="TECH")
    ledger.load(3, officer_id="TECH")
    serials = [ledger.begin_print(seq) for seq in (1, 2, 3)]
    assert serials == ["B1-0000100", "B1-0000101", "B2-0000007"]
    ledger.printed(serials[0])
    ledger.spoiled(serials[1], "jam")
    assert ledger.printed_cards() == [(1, "B1-0000100")]
    assert ledger.spoiled_cards() == [(2, "B1-0000101")]
    assert [(a.seq, a.serial) for a in ledger.unresolved()] == [(3, "B2-0000007")]


def test_no_card_loads_beyond_the_ranges_the_district_handed(ledger: SqliteLedger) -> None:
    with pytest.raises(StateError, match="only 0 blank card"):
        ledger.load(1, officer_id="TECH")  # a kit flashed without a range prints nothing
    ledger.receive((SerialRange("B1", 1, 2),), officer_id="TECH")
    with pytest.raises(StateError, match="only 0 blank card"):
        ledger.load(1, officer_id="TECH")
    with pytest.raises(StateError, match="overlap"):
        ledger.hold((SerialRange("B1", 2, 4),), officer_id="TECH")
    assert ledger.held() == [SerialRange("B1", 1, 2)]
    assert ledger.counts()["stock"] == 2
