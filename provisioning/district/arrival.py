"""What the district checks of a laptop's signed heads, ledgers and receipts on arrival.

Why again: a laptop is a file anyone could edit, so the district trusts nothing of it
that a signature does not cover.  Records go through `storage.verify.Verifier` (in
`provisioning.district.sync`); a head and its card ledger must be an answer signed by the
certified key of the kit whose chain it describes; a receipt must be the authority's; a
kit's status at a collection must be signed by the kit and named by the collector's
statement of that collection, which the authority's key signs with the laptop's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kitlink import protocol as p
from kitlink.messages import StatusResult, kept_ledger, kept_status
from provisioning import collection_log
from storage.blanks import SerialRange
from storage.certificate import Certificate
from storage.errors import RecordError
from storage.handover import HandoverEvent
from storage.keys import AuthorityPublic

#: The card counts every kit's signed ledger carries.
COUNTS = ("loaded", "printed", "spoiled", "unresolved")


class BadLedger(RecordError):
    """A head and card ledger that the kit it names did not sign, or malformed."""


class BadReceipt(RecordError):
    """A collection receipt the authority did not sign for this head."""


class BadStatus(RecordError):
    """A kit's status at a collection that the kit, or the collector's signed statement,
    does not vouch for."""


@dataclass(frozen=True)
class Ledger:
    """A kit's signed head, card counts and cards at one collection."""

    signed: bytes
    at: datetime
    head_seq: int
    head: bytes | None
    loaded: int
    printed: int
    spoiled: int
    unresolved: int
    printed_cards: tuple[tuple[int, str], ...]
    #: The serial ranges the kit held, and the cards it spoiled or whose print it could not
    #: finish (record seq, serial): where the serials the district handed it went.
    ranges: tuple[SerialRange, ...] = ()
    spoiled_cards: tuple[tuple[int, str], ...] = ()
    begun_cards: tuple[tuple[int, str], ...] = ()
    #: What the kit recorded of the office's handover batches: acknowledgements, receipts,
    #: fingers that did not match (`storage.handover.HandoverEvent`).
    handovers: tuple[HandoverEvent, ...] = ()
    #: The id of the last entry of the kit's audit log the ledger carries: it only grows on
    #: a kit, so of two ledgers of one chain the one with the higher is the later, whatever
    #: the kit's clock said (a clock set back at a settime, two collections in one second).
    audit_last: int = 0


def verify_ledger(signed: bytes, certificate: Certificate) -> Ledger:
    """The ledger answer ``signed`` if the kit of ``certificate`` signed it; BadLedger if not.

    Read by the same typed reader as the collector's (`kitlink.messages.kept_ledger`), so
    a field the one takes the other cannot miss.
    """
    kit = certificate.kit_id
    try:
        result = kept_ledger(signed, kit_public=certificate.kit_public)
    except p.MessageError as exc:
        raise BadLedger(f"a head and card ledger of kit {kit} does not verify: {exc}") from exc
    if result.kit_id != kit:
        raise BadLedger(
            f"a head and card ledger of kit {kit} does not verify: names kit {result.kit_id!r}"
        )
    counts = result.cards
    missing = sorted(set(COUNTS) - set(counts))
    if missing:
        raise BadLedger(f"a head and card ledger of kit {kit} counts no {', '.join(missing)}")
    return Ledger(
        signed=signed,
        at=result.at,
        head_seq=result.head.seq,
        head=result.head.digest,
        loaded=counts["loaded"],
        printed=counts["printed"],
        spoiled=counts["spoiled"],
        unresolved=counts["unresolved"],
        printed_cards=result.printed,
        ranges=result.ranges,
        spoiled_cards=result.spoiled,
        begun_cards=result.begun,
        handovers=result.handovers,
        audit_last=max((line.entry_id for line in result.audit), default=0),
    )


def verify_receipt(receipt: bytes, authority: AuthorityPublic, ledger: Ledger, kit_id: str) -> None:
    """BadReceipt unless ``authority`` signed this receipt for exactly ``ledger``'s head."""
    try:
        signed = p.verify_receipt(receipt, authority, kit_id=kit_id)
    except p.MessageError as exc:
        raise BadReceipt(f"a receipt for kit {kit_id}: {exc}") from exc
    if (signed.seq, signed.head) != (ledger.head_seq, ledger.head):
        raise BadReceipt(
            f"a receipt for kit {kit_id} covers record {signed.seq}, not the head "
            f"{ledger.head_seq} it was kept with"
        )


@dataclass(frozen=True)
class KitStatusAt:
    """A kit's signed status answer at one collection, and the laptop's time beside it.

    ``signed`` is the answer as the kit signed it, ``statement`` the collector's statement
    of the collection (`provisioning.collection_log`), signed by the authority, naming
    ``signed`` by its SHA-256 and the laptop's time ``collected_at`` when it arrived.
    """

    signed: bytes
    statement: bytes
    collected_at: datetime
    status: StatusResult

    @property
    def drift_seconds(self) -> int:
        """The kit's clock minus the laptop's, in seconds (the answer's time is whole)."""
        return int((self.status.time - self.collected_at).total_seconds())


def verify_status(
    signed: bytes, statement: bytes, certificate: Certificate, authority: AuthorityPublic
) -> KitStatusAt:
    """The status answer ``signed`` with the laptop's time of ``statement``, if the kit of
    ``certificate`` signed the one and the authority the other for this very answer."""
    kit = certificate.kit_id
    try:
        said = collection_log.read_statement(statement, authority)
        if said.chain != certificate.digest or said.kit_id != kit:
            raise BadStatus(f"the collection statement is of kit {said.kit_id}'s chain")
        if said.status is None or said.status != collection_log.digest(signed):
            raise BadStatus("the collection statement names another status answer")
        status = kept_status(signed, kit_public=certificate.kit_public)
        if status.kit_id != kit:
            raise BadStatus(f"the status names kit {status.kit_id!r}")
    except (collection_log.BadCollectionStatement, p.MessageError, BadStatus, TypeError) as exc:
        raise BadStatus(f"a status of kit {kit} at a collection does not verify: {exc}") from exc
    return KitStatusAt(signed, statement, said.at, status)
