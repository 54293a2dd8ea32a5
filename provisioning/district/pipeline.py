"""The report's after-the-day figures: per village, how far its cards came; per regency, the
blank cards used; every finding with what to do.

Why per village and cumulative: the news this project serves quotes "recorded but not yet
printed" (Blitar) and "handed to 124 village officials" (Batanghari), so each village's row
says how many of its recorded residents have a card printed, how many cards went through
its official, and how many residents hold their card, and how long the oldest card still
on its way has been waiting.  Per regency, blank cards as the ministry counts them (printed
of those registered), with the same threshold flag as the kits'.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from provisioning.district.after_day import AfterDay
from provisioning.district.card_states import NOT_WITH_RESIDENT, CardState
from provisioning.district.reconcile import SerialState

#: States of a card that was printed, wherever.
PRINTED = frozenset(CardState) - {CardState.WAITING}
#: States of a card that went through a village official.
HANDED = frozenset({CardState.HANDED, CardState.RECEIVED, CardState.RETURNED})
#: States of a card the resident holds (taken at the kit, or printed there for them).
WITH_RESIDENT = frozenset({CardState.RECEIVED, CardState.PRINTED_ON_SITE})


@dataclass
class VillagePipeline:
    """One village's cards: recorded, printed, handed over, received; returned; and the age
    in whole days of the oldest card not yet with its resident."""

    regency_code: str
    regency: str
    kecamatan: str
    village: str
    recorded: int = 0
    printed: int = 0
    handed: int = 0
    received: int = 0
    returned: int = 0
    waiting: int = 0
    oldest_waiting_days: int | None = None

    def as_map(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RegencyCards:
    """One regency's blank cards: registered at the district, handed to kits and offices,
    printed and spoiled (its kits' and offices' together), flagged below the threshold."""

    regency_code: str
    regency: str
    registered: int = 0
    handed_out: int = 0
    printed: int = 0
    spoiled: int = 0
    flagged: bool = False

    @property
    def share_used(self) -> float | None:
        """Printed of registered, as the ministry quotes it ("27% used")."""
        return round(100.0 * self.printed / self.registered, 1) if self.registered else None

    def as_map(self) -> dict[str, Any]:
        return {**asdict(self), "share_used": self.share_used}


def village_pipeline(day: AfterDay, now: datetime) -> list[VillagePipeline]:
    rows: dict[tuple[str, str, str], VillagePipeline] = {}
    for card in day.cards:
        status = day.book.cards[card.card]
        row = rows.setdefault(
            (card.regency_code, card.kecamatan, card.village),
            VillagePipeline(card.regency_code, card.regency, card.kecamatan, card.village),
        )
        row.recorded += 1
        row.printed += status.state in PRINTED
        row.handed += status.state in HANDED
        row.received += status.state in WITH_RESIDENT
        row.returned += status.state is CardState.RETURNED
        row.waiting += status.state is CardState.WAITING
        if status.state in NOT_WITH_RESIDENT:
            age = (now - status.sealed_at).days
            row.oldest_waiting_days = max(age, row.oldest_waiting_days or 0)
    return sorted(rows.values(), key=lambda r: (r.regency, r.kecamatan, r.village))


def regency_cards(day: AfterDay, names: dict[str, str], threshold: int) -> list[RegencyCards]:
    """Per regency code, from the reconciliation of every serial (``names``: code -> name)."""
    rows: dict[str, RegencyCards] = {}

    def row(code: str) -> RegencyCards:
        return rows.setdefault(code, RegencyCards(code, names.get(code, code)))

    for batch in day.blanks.batches:
        row(batch.regency).registered += batch.registered
    for holding in day.blanks.holdings:
        if holding.regency:
            row(holding.regency).handed_out += holding.assigned
    for code, used in day.blanks.used.items():
        row(code).printed += used[SerialState.PRINTED]
        row(code).spoiled += used[SerialState.SPOILED]
    for regency in rows.values():
        regency.flagged = regency.printed < threshold
    return sorted(rows.values(), key=lambda r: r.regency_code)


def findings(day: AfterDay) -> list[dict[str, Any]]:
    """Every finding of the cards and the serials, each with what to do."""
    return [f.as_map() for f in day.book.findings] + [f.as_map() for f in day.blanks.findings]
