"""Registering a worklist at the district: its lines chained, sent in batches, resumable.

Why batches: a kecamatan's list runs to 100,000 lines, and one INSERT of them all passes
PostgreSQL's limit of 65,535 parameters.  Each batch is one transaction, so a registration
cut by a kill or a lost network keeps what it committed, and running the sync again sends
only the lines after them: every line is registered once.

Why two passes over the list: the lines are stored under the list's digest (the link of
its last line, `provisioning.district.rows.line_link`), which the first pass computes and
the sync statement signs.  The second pass builds one batch of rows at a time, so the
rows in memory never outgrow a batch, whatever the list's length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from provisioning.district import schema as s
from provisioning.district.rows import LIST_GENESIS, line_link
from provisioning.district.store import DistrictStore
from storage.model import Resident
from storage.reference import ReferenceKey

#: Lines per transaction: few round trips, and little to send again after a cut.
BATCH = 5_000

#: Told the list's digest and how many of its lines are registered, after each batch.
Registering = Callable[[bytes, int], None]


@dataclass(frozen=True)
class Registered:
    """A worklist as the district holds it: its digest, its lines, how many were new."""

    digest: bytes
    lines: int
    new: int


def keyed_lines(
    residents: Iterable[Resident], references: ReferenceKey
) -> Iterator[dict[str, Any]]:
    """Each line with a worklist reference, as the district keeps it: the places and the
    keyed reference (`storage.reference`), never a NIK, a name or an unkeyed hash."""
    for resident in residents:
        if resident.worklist_ref:
            yield {
                "province": s.province_of(resident.nik),
                "ref_digest": references.keyed(resident.worklist_ref),
                "regency_code": resident.nik[:4],
                "regency": resident.regency,
                "district": resident.district,
                "village": resident.village,
            }


def _chained(
    residents: Iterable[Resident], references: ReferenceKey
) -> Iterator[tuple[int, bytes, dict[str, Any]]]:
    """(line number from 1, link through the line, line) for each keyed line."""
    link = LIST_GENESIS
    for number, line in enumerate(keyed_lines(residents, references), start=1):
        link = line_link(link, line)
        yield number, link, line


def register(
    store: DistrictStore,
    residents: Sequence[Resident],
    references: ReferenceKey,
    *,
    batch: int = BATCH,
    progress: Registering = lambda digest, lines: None,
) -> Registered:
    """Register ``residents`` in batches; resumes a cut registration."""
    digest, lines = LIST_GENESIS, 0
    for number, link, _ in _chained(residents, references):
        lines, digest = number, link  # the last line's link names the list
    held = store.lines_held(digest)
    new, pending = 0, []
    for number, link, line in _chained(residents, references):
        if number <= held:
            continue
        pending.append({**line, "list": digest, "line": number, "link": link})
        if len(pending) == batch or number == lines:
            new += store.add_lines(pending)
            pending = []
            progress(digest, number)
    return Registered(digest, lines, new)
