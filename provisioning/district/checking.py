"""`jemput-prov verify --db postgresql://...`: every chain in the store verified again.

Why again, after sync verified on arrival: the store is a database others can write to,
and a report is only worth the records under it.  Each chain goes through the same
`provisioning.checks.verify_items` as a laptop's; each fork the store refused is listed
as a problem of its chain, so `verify` exits 1 until someone has looked at the kit.
"""

from __future__ import annotations

from pathlib import Path

from provisioning.checks import KitReport, verify_items
from provisioning.district.store import DistrictStore
from storage.files import record_name
from storage.keys import AuthorityPublic
from storage.verify import BrokenChain


def verify_store(
    store: DistrictStore, authority: AuthorityPublic, *, where: str
) -> list[KitReport]:
    forks = store.forks()
    reports = []
    for chain in store.chains():
        items = [(record_name(seq), data) for seq, data in store.record_bytes(chain)]
        report = verify_items(Path(where) / chain.folder, items, chain.cert, authority)
        report.chain.problems.extend(
            (record_name(fork.seq), BrokenChain(str(fork), seq=fork.seq))
            for fork in forks
            if fork.chain == chain.digest
        )
        reports.append(report)
    return reports
