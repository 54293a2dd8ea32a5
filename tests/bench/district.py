"""District: `sync` into PostgreSQL against the verifier, and the district report against
a bare ``GROUP BY``.

* ingest: `sync` of a laptop's records into the store (audit, verify, insert) against the
  verifier's own time for the same chain (`Verifier.verify_chain`).  Goal: at most 1.25.
* report: `build_figures` over registered residents and records against a bare
  ``GROUP BY`` that joins the same rows (1,000,000 residents and 150,000 records, as
  issue 16 asks).  Both read the audited tables (`provisioning.district.audited`), filled
  here directly: this times the counting, not the audit that fills them before a report.

Both run on a throwaway cluster (`provisioning.district.server`) in a folder of its own,
which the server user can reach.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import text

from provisioning.collector import CollectorDB
from provisioning.district import audited
from provisioning.district.arrival import Ledger
from provisioning.district.audit import StoreAudit
from provisioning.district.figures import build_figures
from provisioning.district.server import LocalCluster
from provisioning.district.store import DistrictStore
from provisioning.district.sync import sync
from storage.certificate import certify_kit, verify_certificate
from storage.files import record_name
from storage.keys import Authority, KitKey
from storage.model import Enrolment, FingerRecord
from storage.record import read_header, record_hash, seal_record
from storage.verify import Verifier
from tests.bench.core import REPORTED, Goal, Row, Run, benchmark, timed
from tests.district.kits import resident

INGEST_GOAL = Goal(ratio_max=1.25)
#: Timings per figure; the best is kept (the least disturbed by other load).
REPEAT = 3


def seconds(work: Callable[[], object]) -> float:
    """The best of ``REPEAT`` timings of ``work``."""
    return min(timed(work) for _ in range(REPEAT))


def laptop_with(scratch: Path, authority: Authority, count: int) -> Path:
    """A collector database with one kit's chain of ``count`` full-size-ish records."""
    key = KitKey.create(scratch / "kit.key")
    now = datetime(2025, 6, 1, 9, tzinfo=UTC)
    cert_bytes = certify_kit(
        authority, kit_id="BENCH-01", region="3505", kit_public=key.public_bytes, now=now
    )
    certificate = verify_certificate(cert_bytes, authority.public)
    path = scratch / "laptop.db"
    prev = certificate.digest
    with CollectorDB(path) as db:
        chain = db.add_chain(certificate)
        for seq in range(1, count + 1):
            enrolment = Enrolment(
                resident=resident(seq),
                officer_id="OFC-1",
                started_at=now,
                face_jpeg=os.urandom(60_000),  # a photo's size; noise does not compress
                fingers=tuple(
                    FingerRecord(p, image_png=os.urandom(8_000), template=bytes(512), quality=80)
                    for p in range(1, 11)
                ),
            )
            data = seal_record(
                enrolment, kit_id="BENCH-01", seq=seq, prev_hash=prev,
                sealed_at=now + timedelta(minutes=seq), kit_key=key, authority=authority.public,
                reference_key=authority.references,
            )  # fmt: skip
            db.add_record(chain, read_header(data), data)
            prev = record_hash(data)
    return path


def sync_seconds(
    cluster: LocalCluster, laptop: CollectorDB, authority: Authority, count: int, attempt: int
) -> float:
    """Seconds of one sync of ``laptop`` into a fresh store (its schema made untimed)."""
    url = cluster.create_database(f"ingest{attempt}")
    with DistrictStore.open(url, create=True) as store:
        new: list[int] = []
        took = timed(
            lambda: new.append(
                sync(laptop, store, authority, references=authority.references, source="b").new
            )
        )
    if new != [count]:
        raise AssertionError(f"sync took {new} of {count} new records")
    return took


def ingest_row(cluster: LocalCluster, scratch: Path, count: int) -> Row:
    """Seconds to sync ``count`` records against seconds to verify them."""
    authority = Authority.init(scratch / "authority", name="BENCH", demo=True)
    path = laptop_with(scratch, authority, count)
    with CollectorDB(path) as laptop:
        (chain,) = laptop.chains()
        items = [(record_name(seq), data) for seq, data in laptop.record_bytes(chain)]
        verify = seconds(lambda: Verifier(authority.public).verify_chain(items, chain.cert))
        synced = min(sync_seconds(cluster, laptop, authority, count, n) for n in range(REPEAT))
    return Row(
        "district",
        f"district sync of {count} records",
        synced,
        "s",
        verify,
        "Verifier.verify_chain of the same records",
        INGEST_GOAL,
    )


FILL = """
INSERT INTO audited_residents SELECT sha256(('ref' || i)::bytea), '3505', 'KABUPATEN BLITAR',
    'KEC ' || (i % 20), 'DESA ' || (i % 400) FROM generate_series(1, :residents) i;
INSERT INTO audited_records SELECT '35', sha256(('chain' || (i % 30))::bytea), i / 30 + 1,
    current_date - (i % 7), '3505',
    CASE WHEN i % 20 = 0 THEN NULL ELSE sha256(('ref' || (i * 7 % :residents + 1))::bytea) END,
    i % 20 = 0, CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END, CASE WHEN i % 500 = 0 THEN i / 30 END,
    NULL, NULL, false, false, false, false, NULL,
    now() - (i % 7) * interval '1 day',
    CASE WHEN i % 4 = 0 THEN 'keperluan: dicetak di Disdukcapil' ELSE 'tidak dicetak di lokasi' END
    FROM generate_series(0, :records - 1) i;
INSERT INTO audited_cards SELECT province, chain, seq FROM audited_records WHERE seq % 3 <> 0;
ANALYZE audited_residents;
ANALYZE audited_records;
ANALYZE audited_cards
"""

BARE = """
SELECT r.regency_code, r.district, r.village, count(*), count(x.ref_digest)
FROM audited_residents r
LEFT JOIN (SELECT DISTINCT ref_digest FROM audited_records) x USING (ref_digest)
GROUP BY 1, 2, 3
"""

KITS = 30


def _audit() -> StoreAudit:
    """What an audit of the filled store would hand the report besides its tables."""
    keys = Authority(
        name="BENCH",
        demo=True,
        signing=Ed25519PrivateKey.generate(),
        decryption=X25519PrivateKey.generate(),
    )
    found = StoreAudit("bench", keys.public)
    for k in range(KITS):
        chain = hashlib.sha256(f"chain{k}".encode()).digest()
        found.kits[("35", chain)] = f"KIT-{k}"
        ledger = Ledger(
            signed=b"", at=datetime.now(UTC), head_seq=300, head=None, loaded=400,
            printed=300, spoiled=2, unresolved=1, printed_cards=(),
        )  # fmt: skip
        found.ledgers.append(
            {"kit_id": f"KIT-{k}", "region": "3505", "chain": chain, "loaded": 400,
             "printed": 300, "spoiled": 2, "unresolved": 1, "ledger": ledger}
        )  # fmt: skip
    return found


def report_row(cluster: LocalCluster, residents: int, records: int) -> Row:
    """Seconds of the district report against seconds of a bare GROUP BY."""
    url = cluster.create_database("report")
    with (
        DistrictStore.open(url, create=True) as store,
        store.snapshot() as c,
        audited.tables(c),
    ):
        for statement in filter(str.strip, FILL.split(";")):
            c.execute(text(statement), {"residents": residents, "records": records})
        baseline = seconds(lambda: c.execute(text(BARE)).all())
        facts = _audit()
        report = seconds(lambda: build_figures(c, facts))
        figures = build_figures(c, facts)
    if figures.district.registered != residents or not figures.records:
        raise AssertionError(f"the report counted {figures.district.registered} residents")
    return Row(
        "district",
        f"district report ({residents} residents, {records} records)",
        report,
        "s",
        baseline,
        "a bare GROUP BY joining the same rows",
        REPORTED,
    )


@benchmark("district")
def district(run: Run) -> list[Row]:
    folder = Path(tempfile.mkdtemp(prefix="jemput-bench-district-"))
    folder.chmod(0o711)  # the server user may pass through to pg/, not list the rest
    cluster = LocalCluster(folder / "pg")
    scratch = run.scratch / "district"
    scratch.mkdir(mode=0o700)
    try:
        cluster.start()
        return [
            ingest_row(cluster, scratch, run.size(1000, 3)),
            report_row(cluster, run.size(1_000_000, 200), run.size(150_000, 60)),
        ]
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
