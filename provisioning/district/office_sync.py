"""`jemput-prov sync --office FILE`: an office desk's signed ledger into the district store.

Why as a sync: the office's prints, spoils, reprints, batches and returns are figures at
the district, like a kit's records, and arrive the same way: verified again on arrival
(`provisioning.office_log.read_ledger`: every entry the authority's, numbered from 1,
linked), pushed idempotently (the store's keys decide what is new), and named in a signed
sync statement (`provisioning.district.sync_log`) with the ledger's last entry, so the
audit finds entries removed from the end.  An entry that differs from the one the store
holds at its number is a fork of the office's file: nothing from it on is taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from provisioning.district import schema as s
from provisioning.district import sync_log as log
from provisioning.district.store import DistrictStore
from provisioning.office_log import OfficeDB
from storage.keys import Authority


@dataclass
class OfficeSync:
    """What one office file brought."""

    office: str
    offered: int = 0
    new: int = 0
    statement: int = 0
    problems: list[str] = field(default_factory=list)


def sync_office(
    office: OfficeDB, store: DistrictStore, authority: Authority, *, source: str
) -> OfficeSync:
    """Push ``office``'s verified entries into ``store`` and sign the sync's statement.

    `provisioning.office_log.OfficeLogError`, before anything is written, if the file's
    ledger does not verify.
    """
    entries = office.entries(authority.public)
    done = OfficeSync(office.office, offered=len(entries))
    held = store.office_entries(office.office)
    taken = []
    for entry in entries:
        if entry.n in held and held[entry.n] != entry.digest:
            done.problems.append(
                f"office {office.office} entry {entry.n} differs from the one the district "
                "holds: two office files were written from one; nothing from it on is taken"
            )
            break
        taken.append(entry)
    if len(held) > len(entries):
        done.problems.append(
            f"the district holds {len(held)} entries of office {office.office}, the file "
            f"{office.path} only {len(entries)}: the file went back (restored from a backup?)"
        )
    province = s.province_of(office.regency)
    done.new = store.add_office_entries(
        [
            {**entry.values(), "province": province, "source": source}
            for entry in taken
            if entry.n not in held
        ]
    )
    heads = (log.OfficeHead(office.office, taken[-1].n, taken[-1].digest),) if taken else ()
    done.statement = store.append_statement(
        lambda index, prev: log.sign_statement(
            authority,
            log.SyncStatement(
                index=index, prev=prev, at=datetime.now(UTC), source=source, offices=heads
            ),
        )
    )
    return done
