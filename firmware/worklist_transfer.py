"""A worklist that arrives in parts over the provisioning port, used only once it is whole.

Why in parts: a kecamatan's worklist is tens of thousands of residents, megabytes of CBOR,
and one frame carries at most `kitlink.framing.MAX_FRAME` bytes.  Why staged: the kit
must never run on half a list (a resident left out looks like one who never came), so the
parts are held here, in memory only (no personal data at rest outside the encrypted
store), and a ``flash`` may name the transfer only after ``worklist-commit`` checked that
every part came and that the SHA-256 of the whole list is the one the tool computed (a
``round`` names its people's transfer the same way).
A new transfer replaces the one under way; a flash or a failed commit ends it.  Each
part's residents were checked field by field as the request was read
(`kitlink.messages.WorklistPartArgs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kitlink import messages as m
from kitlink.protocol import MessageError
from storage.model import Resident


@dataclass
class _Transfer:
    transfer: bytes
    count: int
    parts: dict[int, tuple[Resident, ...]] = field(default_factory=dict)
    committed: tuple[Resident, ...] | None = None

    @property
    def received(self) -> int:
        return sum(len(part) for part in self.parts.values())


class WorklistStaging:
    """The one worklist transfer under way on a kit (see the module's docstring)."""

    def __init__(self) -> None:
        self._transfer: _Transfer | None = None

    def add_part(self, part: m.WorklistPartArgs) -> m.WorklistPartResult:
        """Stage one part (again, if it came before: a retry after a lost answer)."""
        staged = self._transfer
        if staged is None or staged.transfer != part.transfer or staged.committed is not None:
            staged = self._transfer = _Transfer(part.transfer, part.count)
        if staged.count != part.count:
            raise MessageError(f"transfer says {staged.count} parts, this part says {part.count}")
        held = staged.received - len(staged.parts.get(part.index, ()))
        if held + len(part.residents) > m.MAX_RESIDENTS:
            raise MessageError(f"a worklist holds at most {m.MAX_RESIDENTS} residents")
        staged.parts[part.index] = part.residents
        return m.WorklistPartResult(staged.received)

    def commit(self, commit: m.WorklistCommitArgs) -> m.WorklistCommitResult:
        """Check that the transfer is whole; any mismatch ends it (the tool sends it again
        from the first part)."""
        staged = self._transfer
        if staged is None or staged.transfer != commit.transfer:
            raise MessageError("worklist-commit names no transfer under way on this kit")
        try:
            staged.committed = self._checked(staged, commit)
        except MessageError:
            self._transfer = None
            raise
        return m.WorklistCommitResult(len(staged.committed))

    @staticmethod
    def _checked(staged: _Transfer, commit: m.WorklistCommitArgs) -> tuple[Resident, ...]:
        missing = [index for index in range(staged.count) if index not in staged.parts]
        if commit.count != staged.count or missing:
            raise MessageError(
                f"worklist transfer incomplete: {commit.count} part(s) announced, "
                f"{staged.count} staged, missing {missing[:10]}; send the worklist again"
            )
        residents = tuple(row for index in range(commit.count) for row in staged.parts[index])
        if len(residents) != commit.residents:
            raise MessageError(
                f"worklist has {len(residents)} residents, commit says {commit.residents}"
            )
        if m.worklist_digest(residents) != commit.sha256:
            raise MessageError("worklist SHA-256 differs from the tool's: send it again")
        return residents

    def take(self, transfer: bytes) -> tuple[Resident, ...]:
        """The committed list of ``transfer``, handed to a flash (its worklist) or a round
        (its people); the transfer ends."""
        staged = self._transfer
        if staged is None or staged.transfer != transfer:
            raise MessageError("the request names a worklist transfer this kit does not hold")
        if staged.committed is None:
            raise MessageError("the request names a worklist transfer that was never committed")
        self._transfer = None
        return staged.committed
