"""What the capture loop needs from the kit's store, and from the loop that runs it.

`storage.kit.KitStore` satisfies :class:`RecordKeeper`; tests may hand in the real store
on a temporary folder.  Keeping the seam as a Protocol lets `capture/` be read without
knowing how records reach the disk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Protocol

from capture.events import Job, Lane
from storage.audit import AuditKind
from storage.handover import HandoverBatch, HandoverEvent
from storage.model import Enrolment, Officer, Policy, PrintAttempt, Resident, SealedRecord


class Journal(Protocol):
    """The enrolment in progress, saved after every completed step."""

    def save(self, state: Mapping[str, Any]) -> None: ...

    def load(self) -> Mapping[str, Any] | None: ...

    def clear(self) -> None: ...


class CardLedger(Protocol):
    """Blank cards: loaded, printed for one record, or spoiled. Stock is always derived."""

    def stock(self) -> int: ...

    def load(self, count: int, *, officer_id: str) -> None:
        """Load the next ``count`` cards of the kit's serial ranges; StateError if fewer."""
        ...

    def unloaded(self) -> int:
        """Cards of the kit's serial ranges not loaded yet."""
        ...

    def begin_print(self, seq: int) -> str:
        """Take one card for record ``seq``; returns its serial. Raises when stock is 0."""
        ...

    def printed(self, serial: str) -> None: ...

    def spoiled(self, serial: str, reason: str) -> None: ...

    def unresolved(self) -> list[PrintAttempt]:
        """Prints begun but neither printed nor spoiled: a crash hid their outcome."""
        ...

    def printed_for(self, seq: int) -> list[str]:
        """Serials of cards printed for record ``seq`` (more than one means reprints)."""
        ...


class Handovers(Protocol):
    """The office's batches of printed cards on this kit, and what the kit recorded of them
    (`storage.handover_state.SqliteHandovers`)."""

    def batches(self) -> list[HandoverBatch]: ...

    def record(self, event: HandoverEvent) -> None: ...

    def acknowledged(self, batch: str) -> bool: ...

    def received(self) -> set[tuple[bytes, int]]: ...

    def signature_evidence(
        self, strokes: Sequence[Sequence[tuple[int, int]]], *, batch: str, card: tuple[bytes, int]
    ) -> bytes:
        """The resident's signature encrypted to the authority, bound to the card."""
        ...


class AuditLog(Protocol):
    def append(self, kind: AuditKind, **detail: Any) -> None: ...


class RecordKeeper(Protocol):
    """The kit's store as the capture loop sees it."""

    @property
    def journal(self) -> Journal: ...

    @property
    def ledger(self) -> CardLedger: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def handovers(self) -> Handovers: ...

    @property
    def kit_id(self) -> str: ...

    @property
    def training(self) -> bool:
        """A simulator's training kit: what it prints carries the LATIHAN mark."""
        ...

    @property
    def region(self) -> str:
        """The region code the kit was provisioned for ("3505"): a walk-in NIK starts so."""
        ...

    @property
    def policy(self) -> Policy: ...

    @property
    def officers(self) -> Mapping[str, Officer]: ...

    @property
    def worklist(self) -> tuple[Resident, ...]: ...

    def recorded_refs(self) -> AbstractSet[str]:
        """Worklist references of residents already sealed on this kit."""
        ...

    def clear_journal_if_sealed(self, worklist_ref: str | None) -> bool:
        """Drop a journal of a person already sealed (audited); True when it was dropped."""
        ...

    def recent(self, limit: int = 10) -> list[tuple[int, str | None]]:
        """The last sealed records (seq, worklist ref) not voided, newest first."""
        ...

    def seal(self, enrolment: Enrolment) -> SealedRecord:
        """Sign and write the record durably; raises storage WriteError if not safe."""
        ...

    def refusal(self) -> str | None:
        """Why no new enrolment may start now (storage nearly full), or None."""
        ...

    def sensor_pages(
        self, replace: Mapping[int, tuple[int, int]] | None = None
    ) -> dict[int, tuple[int, int]]:
        """page -> (seq, finger position) of people on the sensor; ``replace`` writes first."""
        ...

    def officer_for_page(self, page: int) -> Officer | None:
        """The officer whose finger template sits at ``page`` of the sensor library."""
        ...

    def check_pin(self, officer_id: str, pin: str) -> Officer | None:
        """The officer if ``pin`` is theirs, else None (PINs are kept as salted hashes)."""
        ...

    def pin_wait(self) -> int:
        """Seconds the keypad must wait after wrong PINs in a row (0: a PIN may be tried)."""
        ...


class RunJob(Protocol):
    """Hands slow device work to the loop: ``run_job(name, work, lane=...)`` runs
    ``work()`` off the loop, after the jobs given to ``lane`` before it, and later delivers
    ``JobDone(name, result or error)`` to the machine."""

    def __call__(self, name: Job, work: Callable[[], object], *, lane: Lane) -> None: ...
