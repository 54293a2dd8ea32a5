"""The rounds' figures: per round, and per venue kind, kecamatan and day, by group.

Why from the audited tables, as every district figure: a round's plan and list are counted
only once the audit verified the authority's signature over the plan and the chain of its
list (`provisioning.district.audit`), and its records only from their signed headers.

What counts, for a round:

- **listed**: people on the list the kit was given; **left out**: lines of the
  institution's list whose person was already recorded when the office planned the round;
  **no NIK**: lines without a NIK, recorded as walk-ins at the round (they match no line);
- **recorded**: people on the list with a live record (on any kit: someone recorded the
  week after elsewhere is not missing); **printed**: those whose card a kit's signed
  ledger lists; **missing**: listed, not recorded;
- **records**: live records whose header names the round (its walk-ins included), and
  among them **walk-ins** and each group (`vocabulary.rounds.Group`).

The roll-ups add rounds up: per venue kind, per kecamatan of the place, per round day,
and all rounds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.sql import Subquery

from provisioning.district import audited
from provisioning.district.rows import GROUP_COLUMNS

#: What each group is counted as in a row (the ``records`` column's name).
GROUPS = tuple(GROUP_COLUMNS.values())


class RoundLevel(StrEnum):
    ROUND = "round"
    VENUE = "venue"
    KECAMATAN = "kecamatan"
    DAY = "day"
    ALL = "all"


@dataclass
class RoundFigures:
    """One round, or rounds added up (``level``): see the module's doc for each count."""

    level: RoundLevel
    code: str = ""
    venue: str = ""
    place: str = ""
    kecamatan: str = ""
    day: date | None = None
    rounds: int = 0
    listed: int = 0
    left_out: int = 0
    no_nik: int = 0
    recorded: int = 0
    printed: int = 0
    records: int = 0
    walk_ins: int = 0
    first_voter: int = 0
    kia: int = 0
    domicile: int = 0
    disability: int = 0

    @property
    def missing(self) -> int:
        return self.listed - self.recorded

    def add(self, other: RoundFigures) -> None:
        for name in ("rounds", "listed", "left_out", "no_nik", "recorded", "printed", "records"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.walk_ins += other.walk_ins
        for name in GROUPS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_map(self) -> dict[str, Any]:
        day = None if self.day is None else self.day.isoformat()
        return {**asdict(self), "day": day, "missing": self.missing}


def _list_coverage(connection: Connection, live: Subquery) -> dict[str, tuple[int, int]]:
    """Per round: (people on its list recorded, of them printed)."""
    per_ref = (
        select(live.c.ref_digest, func.max(live.c.printed).label("printed"))
        .where(live.c.ref_digest.is_not(None))
        .group_by(live.c.ref_digest)
        .subquery("round_refs")
    )
    people = audited.round_people
    query = (
        select(
            people.c.round,
            func.count(per_ref.c.ref_digest),
            func.coalesce(func.sum(per_ref.c.printed), 0),
        )
        .select_from(people.outerjoin(per_ref, per_ref.c.ref_digest == people.c.ref_digest))
        .group_by(people.c.round)
    )
    return {
        code: (int(recorded), int(printed)) for code, recorded, printed in connection.execute(query)
    }


def _records(connection: Connection, live: Subquery) -> dict[str, dict[str, int]]:
    """Per round: its live records, walk-ins and each group, from the signed headers."""
    query = (
        select(
            live.c.round_code,
            func.count().label("records"),
            func.sum(live.c.walk_in).label("walk_ins"),
            *(func.sum(live.c[name]).label(name) for name in GROUPS),
        )
        .where(live.c.round_code.is_not(None))
        .group_by(live.c.round_code)
    )
    return {
        row.round_code: {
            name: int(value) for name, value in row._mapping.items() if name != "round_code"
        }
        for row in connection.execute(query)
    }


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def round_figures(connection: Connection, live: Subquery) -> list[RoundFigures]:
    """Each verified round, then per venue kind, kecamatan, day and all rounds (nothing
    when no round is planned)."""
    covered = _list_coverage(connection, live)
    made = _records(connection, live)
    rows = []
    for plan in connection.execute(select(audited.rounds).order_by(audited.rounds.c.day)):
        recorded, printed = covered.get(plan.code, (0, 0))
        counts = made.get(plan.code, {})
        rows.append(
            RoundFigures(
                RoundLevel.ROUND,
                plan.code,
                plan.venue,
                plan.place or "",
                plan.kecamatan,
                _day(plan.day),
                1,
                plan.listed,
                plan.left_out,
                plan.no_nik,
                recorded,
                printed,
                **{name: counts.get(name, 0) for name in ("records", "walk_ins", *GROUPS)},
            )
        )
    return rolled_up(rows)


def rolled_up(rounds: list[RoundFigures]) -> list[RoundFigures]:
    """The rounds by day and code, then per venue kind, kecamatan, day and all rounds
    (nothing when no round is planned)."""
    rows = sorted(rounds, key=lambda row: (row.day or date.min, row.code))
    rolled: dict[tuple[RoundLevel, str], RoundFigures] = {}
    everything = RoundFigures(RoundLevel.ALL)
    for row in rows:
        for level, key, fields in (
            (RoundLevel.VENUE, row.venue, {"venue": row.venue}),
            (RoundLevel.KECAMATAN, row.kecamatan, {"kecamatan": row.kecamatan}),
            (RoundLevel.DAY, str(row.day), {"day": row.day}),
        ):
            rolled.setdefault((level, key), RoundFigures(level, **fields)).add(row)
        everything.add(row)
    if not rows:
        return []  # no round planned: no figure, not a row of zeros
    order = list(RoundLevel)
    return [
        *rows,
        *sorted(
            rolled.values(), key=lambda r: (order.index(r.level), r.venue, r.kecamatan, str(r.day))
        ),
        everything,
    ]
