"""A small demo district for the interchange exports: two kits, a laptop, a district store.

Kit 1 has an R307 (256 x 288 fingers) and seals: a resident with ten fingers, face and
signature; a resident with two fingers excepted (amputated, bandaged) and one kept below
the quality threshold; a KIA child with a face only; a resident sealed in error and the
record that voids her.  Kit 2 has an R503 (192 x 192) and seals one resident with two
fingers.  The images are the simulator's (ridges quantised to the sensor's 16 grey levels,
synthetic portraits) and the records are sealed by `KitStore` itself, collected into a
collector database as `collect` keeps them, and synced into a SQLite district store: the
same code paths as a real day, without a pty per kit.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from hal.signature_pad import render_signature
from hal.types import PenPoint
from hw_sim.fingerprints import ridge_image
from hw_sim.portraits import portrait_jpeg
from provisioning.collector import CollectorDB
from provisioning.district.store import DistrictStore
from provisioning.district.sync import sync
from storage.keys import Authority
from storage.kit import KitStore
from storage.model import CardKind, Enrolment, FingerRecord, Resident
from tests.district.kits import NOW, OFFICER, collector_of, make_kit
from vocabulary.people import Sex

SUPERVISOR = "SPV-1"
#: The pad's strokes of every signature in the day (pad counts, y downwards).
STROKES = (
    ((100, 500), (180, 420), (260, 470), (340, 380)),
    ((400, 300), (420, 520)),
)


@dataclass(frozen=True)
class Sealed:
    """One record as the kit sealed it: what the export must carry, or leave out."""

    kit_id: str
    seq: int
    enrolment: Enrolment
    live: bool


@dataclass(frozen=True)
class DemoDistrict:
    folder: Path
    authority: Authority
    laptop: Path
    store_url: str
    sealed: tuple[Sealed, ...]

    @property
    def authority_dir(self) -> Path:
        return self.folder / "authority"

    def live(self) -> dict[tuple[str, int], Enrolment]:
        return {(s.kit_id, s.seq): s.enrolment for s in self.sealed if s.live}


def finger_png(person: int, position: int, size: tuple[int, int]) -> bytes:
    """A simulated capture as the kit keeps it: 16 grey levels in an 8-bit grey PNG."""
    pixels = bytes((value // 16) * 17 for value in ridge_image(person, position, 0, size=size))
    out = io.BytesIO()
    Image.frombytes("L", size, pixels).save(out, format="PNG")
    return out.getvalue()


def signature_png() -> bytes:
    strokes = [[PenPoint(x, y) for x, y in stroke] for stroke in STROKES]
    return render_signature(strokes, 2048, 768, (600, 225))


def person(number: int, *, sex: Sex = Sex.FEMALE, born: date = date(1990, 5, 17)) -> Resident:
    return Resident(
        f"3505{number:02d}{born.day + (40 if sex is Sex.FEMALE else 0):02d}"
        f"{born.month:02d}{born.year % 100:02d}0001",
        f"WARGA NOMOR {number}",
        sex,
        "BLITAR",
        born,
        province="JAWA TIMUR",
        regency="KABUPATEN BLITAR",
        district="KANIGORO",
        village="SAWENTAR",
        address="JL. MAWAR 3",
        rt_rw="002/004",
        religion="ISLAM",
        marital_status="KAWIN",
        occupation="PETANI/PEKEBUN",
        blood_type="O",
        worklist_ref=f"REF-{number}",
    )


def enrolment(
    resident: Resident,
    fingers: tuple[FingerRecord, ...],
    *,
    face: bool = True,
    signs: bool = True,
    kind: CardKind = CardKind.EKTP,
) -> Enrolment:
    return Enrolment(
        resident=resident,
        officer_id=OFFICER.officer_id,
        started_at=NOW,
        face_jpeg=portrait_jpeg(int(resident.nik[4:6])) if face else None,
        fingers=fingers,
        signature_strokes=STROKES if signs else (),
        signature_png=signature_png() if signs else None,
        kind=kind,
        approvals=(SUPERVISOR,) if any(f.exception for f in fingers) else (),
    )


def fingers_of(number: int, positions: range | tuple[int, ...], size: tuple[int, int]):
    return tuple(
        FingerRecord(p, image_png=finger_png(number, p, size), template=b"t", quality=60 + p)
        for p in positions
    )


def _kit_one(authority: Authority, folder: Path) -> list[Sealed]:
    r307 = (256, 288)
    full = enrolment(person(1, sex=Sex.MALE), fingers_of(1, range(1, 11), r307))
    partial = fingers_of(2, (1, 2, 3, 4, 5, 6, 8, 10), r307)
    partial = (
        *partial[:6],
        FingerRecord(7, exception="amputated", approved_by=SUPERVISOR),
        replace(partial[6], quality=31, forced=True),
        FingerRecord(9, exception="bandaged", approved_by=SUPERVISOR),
        partial[7],
    )
    excepted = enrolment(person(2), partial)
    child = enrolment(
        person(3, born=date(2015, 2, 3)), (), signs=False, kind=CardKind.KIA
    )  # a KIA: no fingers, no signature
    wrong = enrolment(person(4), fingers_of(4, (1, 6), r307))
    void = Enrolment.void(
        voids=4,
        resident=wrong.resident,
        officer_id=OFFICER.officer_id,
        approved_by=SUPERVISOR,
        at=NOW,
    )
    kit = make_kit(folder, authority, "KIT-3505-01", ())
    store = KitStore(kit, now=lambda: NOW)
    try:
        for item in (full, excepted, child, wrong, void):
            store.seal(item)
    finally:
        store.close()
    lives = (True, True, True, False, False)
    return [
        Sealed("KIT-3505-01", seq, item, live)
        for seq, (item, live) in enumerate(
            zip((full, excepted, child, wrong, void), lives, strict=True), 1
        )
    ]


def _kit_two(authority: Authority, folder: Path) -> list[Sealed]:
    r503 = (192, 192)
    item = enrolment(person(5, sex=Sex.MALE), fingers_of(5, (1, 6), r503))
    kit = make_kit(folder, authority, "KIT-3505-02", ())
    store = KitStore(kit, now=lambda: NOW)
    try:
        store.seal(item)
    finally:
        store.close()
    return [Sealed("KIT-3505-02", 1, item, True)]


@pytest.fixture(scope="session")
def demo_district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoDistrict]:
    folder = tmp_path_factory.mktemp("interchange")
    authority = Authority.init(folder / "authority", name="Dukcapil Blitar", demo=True)
    sealed = _kit_one(authority, folder / "kit1") + _kit_two(authority, folder / "kit2")
    laptop = folder / "laptop.db"
    for kit in ("kit1", "kit2"):
        collector_of(folder / kit, authority, laptop)
    url = f"sqlite:///{folder / 'district.db'}"
    with DistrictStore.open(url, create=True) as store, CollectorDB(laptop) as db:
        sync(db, store, authority, references=authority.references, source="laptop")
    yield DemoDistrict(folder, authority, laptop, url, tuple(sealed))
