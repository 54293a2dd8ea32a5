"""The district's blank-card desk: register a batch, hand a range out, take one back, and
reconcile every serial, each against a store whose audit passed.

Why audit first: what a new statement may do depends on the statements held (a serial is
handed out once), and those count only once the audit verified them; a store that fails is
refused as `report` refuses it.  Each new statement is signed, kept, and named in a signed
sync statement (`provisioning.district.sync_log`) in that order, so the audit finds it
removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from provisioning.district import sync_log as log
from provisioning.district.audit import StoreAudit, audit_store
from provisioning.district.blank_stock import BadMove, Move, MoveKind, Stock, sign_move
from provisioning.district.reconcile import Reconciliation, SerialState, reconcile
from provisioning.district.store import DistrictStore
from provisioning.office_log import OfficeEntry
from storage.blanks import SerialRange
from storage.keys import Authority, AuthorityPublic
from storage.reference import ReferenceKey

#: What a blank-card statement's sync statement names as its source.
SOURCE = "jemput-prov district cards"


def audited(
    store: DistrictStore, authority: AuthorityPublic, references: ReferenceKey, *, where: str
) -> StoreAudit:
    """The store's audit; StoreRefused if it finds a problem."""
    with store.snapshot() as connection:
        return audit_store(connection, authority, references, where=where).require_ok()


def reconciliation(
    audit: StoreAudit, office: Sequence[OfficeEntry] | None = None
) -> Reconciliation:
    """Every serial of the audited store, followed (kits by their newest signed ledger; the
    offices by ``office``, or the entries the store holds)."""
    kits = [(row["kit_id"], row["region"], row["ledger"]) for row in audit.newest_ledgers()]
    return reconcile(audit.moves, kits, audit.office if office is None else office)


@dataclass(frozen=True)
class Kept:
    move: Move
    statement: int


class CardDesk:
    """The blank-card statements of one store, signed by ``authority``."""

    def __init__(self, store: DistrictStore, authority: Authority, *, where: str) -> None:
        self.store, self.authority, self.where = store, authority, where

    def _audit(self) -> StoreAudit:
        return audited(
            self.store, self.authority.public, self.authority.references, where=self.where
        )

    def _keep(self, move: Move, stock: Stock) -> Kept:
        why = stock.check(move)
        if why is not None:
            raise BadMove(f"nothing signed: {move}: {why}")
        self.store.add_move({**move.values()})
        statement = self.store.append_statement(
            lambda index, prev: log.sign_statement(
                self.authority,
                log.SyncStatement(
                    index=index,
                    prev=prev,
                    at=datetime.now(UTC),
                    source=SOURCE,
                    blanks=(move.digest,),
                ),
            )
        )
        return Kept(move, statement)

    def register(self, serials: SerialRange, *, regency: str) -> Kept:
        """A batch arrived at the district: its serials are at the warehouse."""
        stock = Stock.of(self._audit().moves)
        move = sign_move(self.authority, MoveKind.REGISTERED, serials, regency=regency)
        return self._keep(move, stock)

    def assign(
        self, holder: str, *, regency: str, serials: SerialRange | None = None, count: int = 0
    ) -> Kept:
        """Hand ``serials`` (or the first ``count`` free at the warehouse) to ``holder``."""
        stock = Stock.of(self._audit().moves)
        if serials is None:
            serials = stock.free_range(regency, count)
            if serials is None:
                raise BadMove(
                    f"nothing signed: the warehouse holds no {count} consecutive blank cards of "
                    f"regency {regency}: register a batch (jemput-prov district cards register)"
                )
        move = sign_move(self.authority, MoveKind.ASSIGNED, serials, regency=regency, holder=holder)
        return self._keep(move, stock)

    def take_back(self, holder: str, serials: SerialRange, *, regency: str) -> Kept:
        """Unused serials come back from ``holder`` to the warehouse; refused for a serial it
        printed, spoiled or began to print."""
        audit = self._audit()
        states = reconciliation(audit).states
        spent = (SerialState.PRINTED, SerialState.SPOILED, SerialState.UNKNOWN)
        used = [serial for serial in serials.serials() if states.get(serial) in spent]
        if used:
            raise BadMove(
                f"nothing signed: serial {used[0]} is {states[used[0]]}, not unused: "
                "return only the cards still blank"
            )
        move = sign_move(self.authority, MoveKind.RETURNED, serials, regency=regency, holder=holder)
        return self._keep(move, Stock.of(audit.moves))
