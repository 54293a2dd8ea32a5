"""A worklist that arrives in parts over the provisioning port, used only once it is whole.

Why in parts: a kecamatan's worklist is tens of thousands of residents, megabytes of CBOR,
and one frame carries at most `kitlink.framing.MAX_FRAME` bytes.  Why staged: the kit
must never run on half a list (a resident left out looks like one who never came), so the
parts are held here, in memory only (no personal data at rest outside the encrypted
store), and a ``flash`` may name the transfer only after ``worklist-commit`` checked that
every part came and that the SHA-256 of the whole list is the one the tool computed.
A new transfer replaces the one under way; a flash or a failed commit ends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kitlink import protocol as p
from storage.model import Resident
from storage.profile import resident_from_map

#: The most parts one transfer may have, and the most residents a kit takes.
MAX_PARTS = 1_000
MAX_RESIDENTS = 200_000


@dataclass
class _Transfer:
    transfer: bytes
    count: int
    parts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    committed: tuple[Resident, ...] | None = None

    @property
    def received(self) -> int:
        return sum(len(part) for part in self.parts.values())


class WorklistStaging:
    """The one worklist transfer under way on a kit (see the module's docstring)."""

    def __init__(self) -> None:
        self._transfer: _Transfer | None = None

    def add_part(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """``worklist-part {transfer, index, count, residents}`` -> ``{received}``."""
        transfer = _transfer_id(args["transfer"])
        count = p.whole(args["count"], "count", low=1, high=MAX_PARTS)
        index = p.whole(args["index"], "index", low=0, high=count - 1)
        residents = args["residents"]
        if not isinstance(residents, list):
            raise p.MessageError("field 'residents' must be a list of resident maps")
        for position, resident in enumerate(residents):
            _check_resident(resident, where=f"part {index}, resident {position}")
        staged = self._transfer
        if staged is None or staged.transfer != transfer or staged.committed is not None:
            staged = self._transfer = _Transfer(transfer, count)
        if staged.count != count:
            raise p.MessageError(f"transfer says {staged.count} parts, this part says {count}")
        if staged.received - len(staged.parts.get(index, [])) + len(residents) > MAX_RESIDENTS:
            raise p.MessageError(f"a worklist holds at most {MAX_RESIDENTS} residents")
        staged.parts[index] = [dict(resident) for resident in residents]
        return {"received": staged.received}

    def commit(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """``worklist-commit {transfer, count, residents, sha256}`` -> ``{residents}``.

        Any mismatch ends the transfer: the tool sends it again from the first part.
        """
        transfer = _transfer_id(args["transfer"])
        staged = self._transfer
        if staged is None or staged.transfer != transfer:
            raise p.MessageError("worklist-commit names no transfer under way on this kit")
        try:
            staged.committed = self._checked(staged, args)
        except p.MessageError:
            self._transfer = None
            raise
        return {"residents": len(staged.committed)}

    @staticmethod
    def _checked(staged: _Transfer, args: Mapping[str, Any]) -> tuple[Resident, ...]:
        count = p.whole(args["count"], "count", low=1, high=MAX_PARTS)
        total = p.whole(args["residents"], "residents", low=0, high=MAX_RESIDENTS)
        missing = [index for index in range(staged.count) if index not in staged.parts]
        if count != staged.count or missing:
            raise p.MessageError(
                f"worklist transfer incomplete: {count} part(s) announced, {staged.count} "
                f"staged, missing {missing[:10]}; send the worklist again"
            )
        residents = [row for index in range(count) for row in staged.parts[index]]
        if len(residents) != total:
            raise p.MessageError(f"worklist has {len(residents)} residents, commit says {total}")
        if p.worklist_digest(residents) != args["sha256"]:
            raise p.MessageError("worklist SHA-256 differs from the tool's: send it again")
        return tuple(resident_from_map(row) for row in residents)

    def take(self, transfer: object) -> tuple[Resident, ...]:
        """The committed worklist of ``transfer``, handed to a flash; the transfer ends."""
        staged = self._transfer
        if staged is None or staged.transfer != _transfer_id(transfer):
            raise p.MessageError("flash names a worklist transfer this kit does not hold")
        if staged.committed is None:
            raise p.MessageError("flash names a worklist transfer that was never committed")
        self._transfer = None
        return staged.committed


def _transfer_id(value: object) -> bytes:
    if not isinstance(value, bytes) or len(value) != p.TRANSFER_BYTES:
        raise p.MessageError(f"field 'transfer' must be {p.TRANSFER_BYTES} bytes")
    return value


def _check_resident(value: object, *, where: str) -> None:
    """A resident map the kit can load; MessageError naming where it is otherwise."""
    if not isinstance(value, Mapping):
        raise p.MessageError(f"{where} is not a resident map")
    try:
        resident_from_map(dict(value))
    except (KeyError, TypeError, ValueError) as exc:
        raise p.MessageError(f"{where} cannot be loaded: {exc}") from exc
