"""A round's list checked against the district store, and the round registered there.

Why against the store, and after its audit: whoever is already recorded is left off a
round's list, so a person wrongly found recorded would never be visited.  The check runs
the store's audit first, in one snapshot (as a report does), and looks the list's people
up among the live records the audit derived from signed headers: by the keyed reference
of their NIK (a worklist resident, a round's person) and of "walk-in:<NIK>" (a walk-in).
The NIKs never reach the store: only their keyed references are sent, in the query.

Registering keeps the plan as the authority signed it, and the list the kit is given as
a chain of keyed references, which the plan signs (`storage.rounds`): the audit derives
every column again from those, and the report counts the round by them.  In the same
transaction it appends a statement to the store's sync log naming the plan's digest (and
any round held that no statement named yet, registered before rounds were listed), so a
round deleted whole, list and all, is found even when no record names it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, select

from provisioning.district import audited
from provisioning.district import schema as s
from provisioning.district import sync_log as log
from provisioning.district.audit import audit_store
from provisioning.district.figures import live_records
from provisioning.district.rows import round_values
from provisioning.district.store import (
    DistrictStore,
    append_statement,
    insert_new,
    lock_log,
    stream,
)
from provisioning.round_list import ListLine
from storage.groups import first_time_voter
from storage.keys import Authority, AuthorityPublic
from storage.model import walk_in_ref
from storage.reference import ReferenceKey
from storage.rounds import ROUND_GENESIS, Round, RoundError, ref_link

#: The source its sync statements name.
SOURCE = "jemput-prov round plan"

#: Keyed references looked up per query: well under PostgreSQL's 65,535 parameters.
LOOKUP = 5_000


@dataclass(frozen=True)
class CheckedLine:
    """One line of an institution's list, as the office sees it before the round."""

    line: ListLine
    #: A live record names this person (by their NIK's keyed reference, or as a walk-in).
    recorded: bool
    #: Votes for the first time on the election day (`storage.groups.first_time_voter`);
    #: None: only a marriage would make them a voter, and the list does not say.
    first_voter: bool | None

    @property
    def goes_to_kit(self) -> bool:
        """On the kit's list: a NIK to name them by, and not recorded yet."""
        return self.line.nik is not None and not self.recorded


@dataclass(frozen=True)
class ListCheck:
    lines: tuple[CheckedLine, ...]

    @property
    def recorded(self) -> int:
        return sum(line.recorded for line in self.lines)

    @property
    def no_nik(self) -> int:
        return sum(line.line.nik is None for line in self.lines)

    @property
    def first_voters(self) -> int:
        """First-time voters among those the round is for (not yet recorded)."""
        return sum(line.first_voter is True and not line.recorded for line in self.lines)

    @property
    def marriage_unknown(self) -> int:
        """Those the round is for who vote first on the election day if married, where the
        list does not say whether they are: not counted as first-time voters."""
        return sum(line.first_voter is None and not line.recorded for line in self.lines)

    @property
    def people(self) -> tuple[ListLine, ...]:
        """Whom the kit lists, in the list's order."""
        return tuple(line.line for line in self.lines if line.goes_to_kit)


def _chunks(items: Sequence[bytes]) -> Iterator[Sequence[bytes]]:
    for start in range(0, len(items), LOOKUP):
        yield items[start : start + LOOKUP]


def check_list(
    store: DistrictStore,
    authority: AuthorityPublic,
    references: ReferenceKey,
    lines: Sequence[ListLine],
    *,
    election_day: date | None,
    where: str,
) -> ListCheck:
    """Who on ``lines`` is already recorded and who votes for the first time on
    ``election_day``; StoreRefused (nothing checked) if the store fails its audit."""
    keyed = {
        line.line: (references.keyed(line.nik), references.keyed(walk_in_ref(line.nik)))
        for line in lines
        if line.nik is not None
    }
    wanted = [ref for pair in keyed.values() for ref in pair]
    found: set[bytes] = set()
    with store.snapshot() as c, audited.tables(c) as sink:
        audit_store(c, authority, references, where=where, sink=sink).require_ok()
        live = live_records()
        for chunk in _chunks(wanted):
            found.update(c.scalars(select(live.c.ref_digest).where(live.c.ref_digest.in_(chunk))))
            found.update(c.scalars(select(live.c.walk_in_ref).where(live.c.walk_in_ref.in_(chunk))))
    return ListCheck(
        tuple(
            CheckedLine(
                line,
                recorded=bool(found & set(keyed.get(line.line, ()))),
                first_voter=election_day is not None
                and first_time_voter(line.birth_date, election_day, married=line.married),
            )
            for line in lines
        )
    )


def register_round(
    store: DistrictStore, authority: Authority, signed: bytes, plan: Round, keyed: Sequence[bytes]
) -> bool:
    """Keep the round's signed plan and its list (``keyed``: the people's keyed references,
    in order), and name it in the sync log (``authority`` signs the statement); True when
    it was new.  RoundError if the code is planned otherwise already."""
    lines, link = [], ROUND_GENESIS
    for number, ref in enumerate(keyed, start=1):
        link = ref_link(link, ref)
        lines.append(
            {
                "province": plan.province,
                "round": plan.code,
                "line": number,
                "ref_digest": ref,
                "link": link,
            }
        )
    if link != plan.refs or len(lines) != plan.listed:
        raise RoundError(f"round {plan.code}: the list given is not the one its plan signs")
    with store.engine.begin() as c:
        lock_log(c)  # no other statement between reading what the log names and adding to it
        added = c.execute(insert_new(c, s.rounds).values(**round_values(plan, signed))).rowcount
        held = c.execute(
            select(s.rounds.c.plan).where(
                s.rounds.c.province == plan.province, s.rounds.c.code == plan.code
            )
        ).scalar_one()
        if held != signed:
            raise RoundError(
                f"round {plan.code} is already planned, with another plan: give this round a "
                "code of its own"
            )
        if lines:
            c.execute(insert_new(c, s.round_people), lines)
        unlisted = _unlisted(c, authority.public)
        if unlisted:
            append_statement(
                c,
                lambda index, prev: log.sign_statement(
                    authority,
                    log.SyncStatement(
                        index=index, prev=prev, at=datetime.now(UTC), source=SOURCE, rounds=unlisted
                    ),
                ),
            )
    return bool(added)


def _unlisted(c: Connection, authority: AuthorityPublic) -> tuple[log.ListedRound, ...]:
    """Each round the store holds that no statement of its log names yet: the one being
    registered, and those registered before statements named rounds."""
    named: set[tuple[str, str]] = set()
    for (data,) in stream(c, select(s.sync_log.c.statement)):
        try:
            statement = log.read_statement(data, authority)
        except log.BadSyncStatement:
            continue  # the audit names it; it names nothing here
        named.update((listed.province, listed.code) for listed in statement.rounds)
    r = s.rounds.c
    held = c.execute(select(r.province, r.code, r.plan).order_by(r.province, r.code))
    return tuple(
        log.ListedRound.of(province, code, plan)
        for province, code, plan in held
        if (province, code) not in named
    )
