"""Blank cards by serial: the ranges the district hands out, and the serial of each card.

Why serials: blank e-KTP cards ("blangko") are scarce and counted by the ministry, card
by card.  A count typed on a kit proves nothing; a serial follows one card from the
district's warehouse to a kit or the office's printer, and from there to a printed card,
a spoiled one, or back to the warehouse.  The district registers each batch it receives
as a range of numbers, hands a range to each kit at `flash` (the kit's card ledger then
names the serial of every card it prints or spoils, `storage.state.SqliteLedger`) and
another to the office's printer; `jemput-prov sync` reconciles every range
(`provisioning.district.blanks`).

A serial is the batch's name, a hyphen and the card's number in seven digits:
``B3505-25A-0000101`` is card 101 of batch ``B3505-25A``.  One function writes it and one
reads it back, so the kit, the office and the district cannot spell it differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

#: A batch's name: upper-case letters, digits and hyphens, starting with a letter or digit.
BATCH_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{0,23}")
#: Digits of a card's number within its batch.
NUMBER_DIGITS = 7
NUMBER_MAX = 10**NUMBER_DIGITS - 1
#: The most cards one range may hold: a province's yearly allotment, not a typo's worth.
RANGE_MAX = 1_000_000


class BadSerialRange(ValueError):
    """A range of serials that cannot be: a bad batch name, or numbers out of order."""


def serial_text(batch: str, number: int) -> str:
    """The serial of card ``number`` of ``batch``, as every ledger writes it."""
    return f"{batch}-{number:0{NUMBER_DIGITS}d}"


def parse_serial(serial: str) -> tuple[str, int] | None:
    """(batch, number) of a serial `serial_text` wrote; None for anything else (a serial a
    kit flashed without a range invented, or an edit)."""
    batch, _, digits = serial.rpartition("-")
    if len(digits) != NUMBER_DIGITS or not digits.isdigit() or not BATCH_PATTERN.fullmatch(batch):
        return None
    return batch, int(digits)


@dataclass(frozen=True, order=True)
class SerialRange:
    """Cards ``first`` .. ``last`` (inclusive) of ``batch``."""

    batch: str
    first: int
    last: int

    def __post_init__(self) -> None:
        if not isinstance(self.batch, str) or not BATCH_PATTERN.fullmatch(self.batch):
            raise BadSerialRange(
                f"batch {self.batch!r:.40} is not 1-24 upper-case letters, digits or hyphens "
                "starting with a letter or digit"
            )
        if not (
            type(self.first) is int
            and type(self.last) is int
            and 1 <= self.first <= self.last <= NUMBER_MAX
        ):
            raise BadSerialRange(
                f"numbers {self.first!r:.20}-{self.last!r:.20} of batch {self.batch} are not "
                f"a range from 1 to {NUMBER_MAX}, first before last"
            )
        if self.size > RANGE_MAX:
            raise BadSerialRange(
                f"range {self.text} holds {self.size} cards, more than {RANGE_MAX}: split it"
            )

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    @property
    def text(self) -> str:
        """``BATCH:FIRST-LAST``, as `flash --cards` takes it and messages name it."""
        return f"{self.batch}:{self.first}-{self.last}"

    def __str__(self) -> str:
        return self.text

    def serial(self, number: int) -> str:
        return serial_text(self.batch, number)

    def serials(self) -> Iterator[str]:
        return (self.serial(number) for number in range(self.first, self.last + 1))

    def __contains__(self, serial: object) -> bool:
        found = parse_serial(serial) if isinstance(serial, str) else None
        return found is not None and found[0] == self.batch and self.first <= found[1] <= self.last

    def overlaps(self, other: SerialRange) -> bool:
        return self.batch == other.batch and self.first <= other.last and other.first <= self.last

    def to_list(self) -> list[Any]:
        """``[batch, first, last]``: how the wire, the profile and signed statements carry it."""
        return [self.batch, self.first, self.last]

    @classmethod
    def from_list(cls, value: object) -> SerialRange:
        """The range a `to_list` wrote; BadSerialRange for anything else."""
        if not isinstance(value, list | tuple) or len(value) != 3:
            raise BadSerialRange(f"{value!r:.60} is not [batch, first, last]")
        return cls(*value)

    @classmethod
    def parse(cls, text: str) -> SerialRange:
        """``BATCH:FIRST-LAST`` (``B3505-25A:101-120``); BadSerialRange naming what is wrong."""
        batch, colon, numbers = text.strip().partition(":")
        first, dash, last = numbers.partition("-")
        if not colon or not dash or not first.isdigit() or not last.isdigit():
            raise BadSerialRange(
                f"{text!r:.60} is not a range of serials: write BATCH:FIRST-LAST, e.g. "
                "B3505-25A:101-120"
            )
        return cls(batch, int(first), int(last))


def nth_serial(ranges: Sequence[SerialRange], index: int) -> str | None:
    """The serial ``index`` places (from 0) into ``ranges`` in their order; None past them."""
    for held in ranges:
        if index < held.size:
            return held.serial(held.first + index)
        index -= held.size
    return None


def total(ranges: Sequence[SerialRange]) -> int:
    return sum(held.size for held in ranges)


def first_overlap(ranges: Sequence[SerialRange]) -> tuple[SerialRange, SerialRange] | None:
    """Two of ``ranges`` that share a serial, if any: one card cannot be handed out twice."""
    ordered = sorted(ranges)
    for before, after in zip(ordered, islice(ordered, 1, None), strict=False):
        if before.overlaps(after):
            return before, after
    return None
