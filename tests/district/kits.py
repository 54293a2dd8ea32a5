"""Kits sealed directly by `storage.kit.KitStore`, and collector databases filled by
`CollectorDB` as `collect` fills them: for forks, tampering and the benchmarks, where a
pty per kit would only add time.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from provisioning.collector import CollectorDB
from storage.certificate import verify_certificate
from storage.keys import Authority
from storage.kit import KitStore, provision
from storage.model import Enrolment, FingerRecord, Policy, Resident
from storage.officers import make_officer
from storage.record import read_header
from vocabulary.people import Role, Sex

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
OFFICER = make_officer("OFC-1", "Budi", Role.OFFICER, "123456")
#: A token photo: records stay small unless a test gives one of a real photo's size.
FACE = b"\xff\xd8face"


def resident(number: int, village: str = "SAWENTAR") -> Resident:
    return Resident(
        f"350508{number:010d}",
        f"WARGA {number}",
        Sex.FEMALE,
        "BLITAR",
        date(1990, 1, 1),
        province="JAWA TIMUR",
        regency="KABUPATEN BLITAR",
        district="KANIGORO",
        village=village,
        worklist_ref=f"REF-{number}",
    )


def enrolment(person: Resident, *, print_card: bool = False, face: bytes = FACE) -> Enrolment:
    return Enrolment(
        resident=person,
        officer_id=OFFICER.officer_id,
        started_at=NOW,
        face_jpeg=face,
        fingers=(FingerRecord(1, image_png=b"\x89PNG1", template=b"t1", quality=70),),
        print_card=print_card,
    )


def make_kit(
    folder: Path,
    authority: Authority,
    kit_id: str,
    residents: tuple[Resident, ...],
    *,
    training: bool = False,
) -> Path:
    """A provisioned kit's data folder (no records yet); a training kit with ``training``."""
    provision(
        folder,
        authority=authority,
        kit_id=kit_id,
        region="3505",
        officers=(OFFICER,),
        worklist=residents,
        policy=Policy(),
        now=NOW,
        training=training,
    )
    return folder


def seal(folder: Path, people: list[Resident], *, day: int = 0, face: bytes = FACE) -> None:
    """Seal one record per person on the kit in ``folder``, on day ``day`` after NOW;
    ``face`` (a photo's bytes) makes records of a real one's size."""
    when = NOW + timedelta(days=day)
    store = KitStore(folder, now=lambda: when)
    try:
        for person in people:
            store.seal(enrolment(person, face=face))
    finally:
        store.close()


def fork_kit(folder: Path, copy: Path) -> Path:
    """A copy of a kit's data folder: the same key, so both can seal "the next record"."""
    shutil.copytree(folder, copy)
    return copy


def collector_of(folder: Path, authority: Authority, db_path: Path) -> Path:
    """A collector database holding the kit's records, as `collect` keeps them."""
    records = folder / "records"
    certificate = verify_certificate((records / "kit.cert").read_bytes(), authority.public)
    with CollectorDB(db_path) as db:
        chain = db.add_chain(certificate)
        for path in sorted(records.glob("*.cose")):
            data = path.read_bytes()
            db.add_record(chain, read_header(data), data)
    return db_path
