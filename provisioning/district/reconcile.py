"""Every serial of every range, accounted for: printed, spoiled, returned or still held.

Why per serial and not per count: a count agrees with itself whatever happened to the
cards; a serial printed twice, or by a kit the district never handed it to, shows only
when each serial is followed.  The district's signed statements say who holds each serial
(`provisioning.district.blank_stock`); the kits' signed ledgers and the office desks'
signed ledgers say which serials they printed or spoiled.  Everything here comes from what
the store's audit verified (`provisioning.district.audit.StoreAudit`).

Each serial of a registered batch ends in one state: printed, spoiled, unknown (a print
whose outcome its kit does not know: the card is still with the kit), held (by a kit or an
office, unused), returned (back at the warehouse from a holder) or at the warehouse (never
handed out).  A serial used twice, used outside its holder's range, or held by a kit that
was never handed it, is a `Finding` naming both sources and what to do.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from provisioning.district.arrival import Ledger
from provisioning.district.blank_stock import WAREHOUSE, Move, MoveKind, Stock, where_held
from provisioning.office_log import OfficeAct, OfficeEntry
from storage.blanks import parse_serial, serial_text


class SerialState(enum.StrEnum):
    PRINTED = "printed"
    SPOILED = "spoiled"
    UNKNOWN = "unknown"
    HELD = "held"
    RETURNED = "returned"
    WAREHOUSE = "warehouse"


class FindingKind(enum.StrEnum):
    SERIAL_TWICE = "serial-twice"
    OUTSIDE_RANGE = "outside-range"
    RANGE_NOT_HANDED = "range-not-handed"
    STATEMENT_REFUSED = "statement-refused"


#: What to do about each kind of finding (Bahasa Indonesia, as the report's reader works).
TODO = {
    FindingKind.SERIAL_TWICE: (
        "periksa nomor seri yang tercetak pada kedua kartu; kartu yang nomornya tidak sama "
        "dengan catatannya dirusakkan di kantor (jemput-prov office spoil) dan dicetak ulang, "
        "dan kit yang mencatat nomor yang tidak pernah ia pegang dilaporkan"
    ),
    FindingKind.OUTSIDE_RANGE: (
        "cari blangko itu: bila dipakai pemegang lain, catat penyerahannya di kabupaten "
        "(jemput-prov district cards assign); bila tidak ada dalam batch mana pun, kit "
        "di-flash ulang dengan rentang nomor seri dari kabupaten"
    ),
    FindingKind.RANGE_NOT_HANDED: (
        "flash ulang kit dengan rentang yang diserahkan kepadanya, atau catat penyerahan "
        "rentang itu (jemput-prov district cards assign)"
    ),
    FindingKind.STATEMENT_REFUSED: (
        "pernyataan itu tidak dihitung; buat pernyataan yang benar dengan jemput-prov "
        "district cards"
    ),
}


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    serial: str
    what: str

    @property
    def todo(self) -> str:
        return TODO[self.kind]

    def as_map(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "serial": self.serial,
            "what": self.what,
            "todo": self.todo,
        }

    def __str__(self) -> str:
        return f"{self.what}: {self.todo}"


@dataclass
class Holding:
    """One holder's serials: handed to it, and where each went."""

    holder: str
    regency: str
    assigned: int = 0
    printed: int = 0
    spoiled: int = 0
    unknown: int = 0
    held: int = 0
    returned: int = 0

    def as_map(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BatchStock:
    """One registered batch: its serials, and those at the warehouse (never handed out or
    returned)."""

    batch: str
    regency: str
    registered: int = 0
    warehouse: int = 0
    returned: int = 0

    def as_map(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Use:
    """A serial a kit or an office printed, spoiled or began to print."""

    serial: str
    state: SerialState
    holder: str
    source: str
    regency: str


@dataclass
class Reconciliation:
    batches: list[BatchStock] = field(default_factory=list)
    holdings: list[Holding] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    #: Each registered serial's state (for tests and the technician's listing).
    states: dict[str, SerialState] = field(default_factory=dict)
    #: Serials printed and spoiled per regency, those outside any batch included.
    used: dict[str, Counter[SerialState]] = field(default_factory=dict)

    @property
    def accounted(self) -> bool:
        """Every registered serial has exactly one state (by construction) and every
        holder's serials add up: assigned = printed + spoiled + unknown + held + returned."""
        return all(
            h.assigned == h.printed + h.spoiled + h.unknown + h.held + h.returned
            for h in self.holdings
        )


def kit_uses(kit_id: str, region: str, ledger: Ledger) -> Iterator[Use]:
    """What a kit's newest signed ledger says it did with its serials."""
    for cards, state in (
        (ledger.printed_cards, SerialState.PRINTED),
        (ledger.spoiled_cards, SerialState.SPOILED),
        (ledger.begun_cards, SerialState.UNKNOWN),
    ):
        for seq, serial in cards:
            yield Use(serial, state, kit_id, f"kit {kit_id} (record {seq})", region[:4])


def office_uses(entries: Iterable[OfficeEntry]) -> Iterator[Use]:
    """What the offices' ledgers say they did with theirs: a serial printed and later
    spoiled is one card, spoiled; printed twice is two uses."""
    last: dict[tuple[str, str], Use] = {}
    for entry in entries:
        if entry.serial is None:
            continue
        source = entry.label
        if entry.act is OfficeAct.SPOILED:
            key = (entry.office, entry.serial)
            if key in last and last[key].state is SerialState.PRINTED:
                last[key] = Use(
                    entry.serial, SerialState.SPOILED, entry.office, source, entry.regency
                )
                continue
            yield Use(entry.serial, SerialState.SPOILED, entry.office, source, entry.regency)
        elif entry.act in (OfficeAct.PRINTED, OfficeAct.REPRINTED):
            use = Use(entry.serial, SerialState.PRINTED, entry.office, source, entry.regency)
            if (entry.office, entry.serial) in last:
                yield last[(entry.office, entry.serial)]
            last[(entry.office, entry.serial)] = use
    yield from last.values()


def reconcile(
    moves: Iterable[Move],
    kits: Iterable[tuple[str, str, Ledger]],
    offices: Iterable[OfficeEntry],
) -> Reconciliation:
    """Follow every serial: ``kits`` are (kit id, region, newest signed ledger) per chain."""
    moves = list(moves)
    stock = Stock.of(moves)
    result = Reconciliation()
    for move, why in stock.refused:
        result.findings.append(
            Finding(FindingKind.STATEMENT_REFUSED, move.range.text, f"{move}: {why}")
        )
    kit_list = list(kits)
    uses: dict[str, list[Use]] = defaultdict(list)
    for use in [u for kit in kit_list for u in kit_uses(*kit)] + list(office_uses(offices)):
        uses[use.serial].append(use)
    last_move = _last_moves(moves, stock)
    for serial, found in uses.items():
        if len(found) > 1:
            both = " and ".join(f"{use.source} ({use.state})" for use in found)
            result.findings.append(
                Finding(FindingKind.SERIAL_TWICE, serial, f"serial {serial} used twice: {both}")
            )
        for use in found:
            key = parse_serial(serial)
            holder = stock.held.get(key) if key else None
            if holder != use.holder:
                moved = last_move.get(key) if key else None
                result.findings.append(
                    Finding(
                        FindingKind.OUTSIDE_RANGE,
                        serial,
                        f"{use.source} {use.state} serial {serial}, which is "
                        f"{where_held(holder)}" + (f" ({moved})" if moved else ""),
                    )
                )
    _check_ranges(kit_list, moves, stock, result)
    _account(stock, uses, moves, result)
    return result


def _last_moves(moves: list[Move], stock: Stock) -> dict[tuple[str, int], Move]:
    """The statement that last moved each serial (the one that put it where it is)."""
    refused = {move.digest for move, _ in stock.refused}
    last: dict[tuple[str, int], Move] = {}
    for move in moves:
        if move.digest not in refused:
            for number in range(move.range.first, move.range.last + 1):
                before = last.get((move.range.batch, number))
                if before is None or before.at <= move.at:
                    last[(move.range.batch, number)] = move
    return last


def _check_ranges(
    kits: list[tuple[str, str, Ledger]], moves: list[Move], stock: Stock, result: Reconciliation
) -> None:
    """Each range a kit's ledger holds must be one the district handed that kit (a part
    returned since is still one it was handed)."""
    refused = {move.digest for move, _ in stock.refused}
    handed: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for move in moves:
        if move.kind is MoveKind.ASSIGNED and move.digest not in refused:
            handed[move.holder].update(
                (move.range.batch, number)
                for number in range(move.range.first, move.range.last + 1)
            )
    for kit_id, _, ledger in kits:
        for held in ledger.ranges:
            stray = next(
                (
                    n
                    for n in range(held.first, held.last + 1)
                    if (held.batch, n) not in handed[kit_id]
                ),
                None,
            )
            if stray is not None:
                holder = stock.held.get((held.batch, stray))
                result.findings.append(
                    Finding(
                        FindingKind.RANGE_NOT_HANDED,
                        held.text,
                        f"kit {kit_id} holds range {held}, but the district never handed it "
                        f"serial {held.serial(stray)}, which is {where_held(holder)}",
                    )
                )


def _account(
    stock: Stock, uses: dict[str, list[Use]], moves: list[Move], result: Reconciliation
) -> None:
    returned: Counter[tuple[str, int]] = Counter()
    returned_by: dict[str, int] = Counter()
    holdings: dict[str, Holding] = {}
    batches: dict[str, BatchStock] = {}
    for move in moves:
        if move.kind is MoveKind.ASSIGNED:
            holding = holdings.setdefault(move.holder, Holding(move.holder, move.regency))
            holding.assigned += move.range.size
        elif move.kind is MoveKind.RETURNED:
            returned_by[move.holder] += move.range.size
            for number in range(move.range.first, move.range.last + 1):
                returned[(move.range.batch, number)] += 1
    for holder, count in returned_by.items():
        holdings.setdefault(holder, Holding(holder, "")).returned = count
    for key, holder in stock.held.items():
        batch, number = key
        regency = stock.regency[key]
        serial = serial_text(batch, number)
        row = batches.setdefault(batch, BatchStock(batch, regency))
        row.registered += 1
        found = uses.get(serial)
        if found:
            state = found[0].state
        elif holder == WAREHOUSE:
            state = SerialState.RETURNED if returned[key] else SerialState.WAREHOUSE
        else:
            state = SerialState.HELD
        result.states[serial] = state
        if state is SerialState.WAREHOUSE:
            row.warehouse += 1
        elif state is SerialState.RETURNED:
            row.returned += 1
        elif holder != WAREHOUSE:
            holding = holdings.setdefault(holder, Holding(holder, regency))
            setattr(holding, state.value, getattr(holding, state.value) + 1)
    for found in uses.values():
        use = found[0]
        parsed = parse_serial(use.serial)
        regency = stock.regency.get(parsed, use.regency) if parsed else use.regency
        result.used.setdefault(regency, Counter())[use.state] += 1
    result.batches = sorted(batches.values(), key=lambda b: b.batch)
    result.holdings = sorted(holdings.values(), key=lambda h: h.holder)
