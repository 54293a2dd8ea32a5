"""`jemput-prov export --format nist|iso` over the demo district, read back by readers the
product did not write: the standard's grammar (an2.py), the ISO layouts (iso_check.py),
NBIS's WSQ decoder.  Each finger is found at its position, each exception with its code,
the face and the demographics matched to the record they came from."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import wsq  # noqa: F401  (NBIS's decoder, registered with Pillow)
from cbor2 import CBORTag
from PIL import Image
from typer.testing import CliRunner

from hal.types import SensorModel
from provisioning.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USER_ERROR, app
from provisioning.interchange.images import Sensor
from provisioning.interchange.nist import TYPE2_FIELDS
from storage import revocation
from storage.codec import dumps, loads
from storage.cose import sign1
from storage.keys import Authority, KitKey
from storage.kit import KitStore
from storage.model import Enrolment
from storage.record import CONTENT_TYPE
from tests.district.kits import NOW, collector_of, make_kit
from tests.interchange import an2, iso_check
from tests.interchange.conftest import DemoDistrict, enrolment, fingers_of, person
from tests.interchange.wsq_figures import measure
from vocabulary.people import Sex

DOCS = Path(__file__).resolve().parents[2] / "docs" / "interchange.md"
#: The exception each excepted finger of the day must carry, by the kit's word.
CODES = {"amputated": "XX", "missing": "XX", "bandaged": "UP", "unreadable": "UP"}


def run(*args: object):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def export(district: DemoDistrict, fmt: str, target: object, out: Path):
    return run(
        "export", "--db", target, "--format", fmt, "--authority", district.authority_dir,
        "--out", out,
    )  # fmt: skip


def files_of(out: Path, manifest: str) -> dict[tuple[str, int], Path]:
    """The manifest's files by (kit, seq), each checked against its SHA-256 and mode."""
    listed = json.loads((out / manifest).read_text(encoding="utf-8"))
    found = {}
    for item in listed["files"]:
        path = out / item["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == item["sha256"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, "biometrics in clear: owner only"
        found[(item["kit_id"], item["seq"])] = path
    return found


def snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.float64)


def decoded_close_to(wsq_bytes: bytes, png: bytes) -> tuple[int, int]:
    """Decode WSQ with NBIS and compare with the kit's PNG: same size, error within WSQ's."""
    with Image.open(io.BytesIO(wsq_bytes)) as decoded, Image.open(io.BytesIO(png)) as original:
        assert decoded.format == "WSQ"
        assert decoded.size == original.size
        error = np.sqrt(np.mean((pixels(decoded) - pixels(original)) ** 2))
        assert error < 16, f"RMSE {error:.1f}: not the finger that was captured"
        return decoded.size


@pytest.fixture(scope="module")
def nist_out(demo_district: DemoDistrict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nist")
    done = export(demo_district, "nist", demo_district.laptop, out)
    assert done.exit_code == EXIT_OK, done.output
    assert "kit KIT-3505-01 rekaman 4: dibatalkan oleh rekaman 5" in done.output
    return out


def test_nist_transactions_follow_the_standard_and_carry_their_records(
    demo_district: DemoDistrict, nist_out: Path
) -> None:
    files = files_of(nist_out, "manifest-nist.json")
    live = demo_district.live()
    assert set(files) == set(live), "one transaction per live record, no voided one"
    for key, path in files.items():
        records = an2.parse(path.read_bytes())
        check_transaction(records, live[key], path)


def check_transaction(records: list[an2.Record], sealed: Enrolment, path: Path) -> None:
    first, demographics = records[0], records[1]
    assert (first.text(2), first.text(4)) == ("0502", "ENROL")
    assert first.text(9) == f"{path.parent.name}-{path.stem}", "TCN: chain and seq"
    assert first.text(8) == "DISDUKCAPIL-3505"
    assert first.fields[15] == [["003", "UTF-8"]]
    resident = sealed.resident
    assert demographics.type == 2
    assert demographics.text(3) == resident.nik
    assert demographics.text(4) == resident.name
    assert demographics.text(5) == resident.birth_place
    assert demographics.text(6) == resident.birth_date.strftime("%Y%m%d")
    assert demographics.text(7) == {Sex.MALE: "M", Sex.FEMALE: "F"}[resident.sex]
    assert demographics.text(12) == resident.address
    assert demographics.text(19) == sealed.kind.value
    by_type: dict[int, list[an2.Record]] = {}
    for record in records[2:]:
        by_type.setdefault(record.type, []).append(record)
    faces = by_type.get(10, [])
    assert [f.data for f in faces] == ([sealed.face_jpeg] if sealed.face_jpeg else [])
    for face in faces:
        assert (face.text(3), face.text(20)) == ("FACE", "F")
    images = {f.position: f for f in sealed.fingers if f.image_png is not None}
    excepted = {str(f.position): CODES[f.exception] for f in sealed.fingers if f.exception}
    prints = by_type.get(14, [])
    assert [int(p.text(13)) for p in prints] == sorted(images), "each finger at its position"
    for record in prints:
        finger = images[int(record.text(13))]
        assert record.text(11) == "WSQ20"
        size = decoded_close_to(record.data or b"", finger.image_png or b"")
        assert (int(record.text(6)), int(record.text(7))) == size
        assert record.fields[24] == [[record.text(13), str(finger.quality), "0000", "1"]]
        assert {p: code for p, code in record.fields.get(18, [])} == excepted
    signatures = by_type.get(8, [])
    assert len(signatures) == (1 if sealed.signature_strokes else 0)
    for signature in signatures:
        assert signature.binary_header is not None and signature.binary_header[:2] == (0, 2)
        points = sum(len(stroke) for stroke in sealed.signature_strokes)
        assert len(an2.type8_vectors(signature)) == points


def test_iso_files_from_the_district_store_carry_fingers_exceptions_and_face(
    demo_district: DemoDistrict, tmp_path: Path
) -> None:
    done = export(demo_district, "iso", demo_district.store_url, tmp_path)
    assert done.exit_code == EXIT_OK, done.output
    files = files_of(tmp_path, "manifest-iso.json")
    live = demo_district.live()
    assert set(files) == set(live)
    for key, path in files.items():
        sealed = live[key]
        birs = iso_check.cbeff(path.read_bytes())
        fingers = [b for b in birs if b.kind == "Finger" and b.bdb is not None]
        images = {f.position: f for f in sealed.fingers if f.image_png is not None}
        assert len(fingers) == len(images)
        for bir in fingers:
            record = iso_check.finger_record(bir.bdb or b"")
            finger = images[record.position]
            assert (record.compression, record.ppi, bir.format_type) == (2, 500, 7)
            size = decoded_close_to(record.data, finger.image_png or b"")
            assert (record.width, record.height) == size
            assert bir.score == finger.quality == record.quality[0][0]
            assert bir.others["FORCE_CAPTURED"] == str(finger.forced).lower()
        exceptions = {b.subtype: b.others for b in birs if b.others.get("EXCEPTION") == "true"}
        assert len(exceptions) == sum(1 for f in sealed.fingers if f.exception)
        assert all(b.bdb is None for b in birs if b.others.get("EXCEPTION") == "true")
        faces = [iso_check.face_record(b.bdb or b"") for b in birs if b.kind == "Face"]
        assert [f.data for f in faces] == ([sealed.face_jpeg] if sealed.face_jpeg else [])
        for face in faces:
            assert face.gender == {Sex.MALE: 1, Sex.FEMALE: 2}[sealed.resident.sex]
            assert (face.width, face.height) == (480, 640)


def test_an_export_run_again_heals_an_interrupted_one_to_the_same_bytes(
    demo_district: DemoDistrict, nist_out: Path, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    shutil.copytree(nist_out, out)
    before = snapshot(out)
    chain = next(p for p in out.iterdir() if p.name.startswith("KIT-3505-01"))
    (chain / "00000002.an2").unlink()  # cut off before this file was renamed into place...
    (chain / "00000002.an2.tmp").write_bytes(b"1.001:")  # ...half of it still temporary
    (out / "manifest-nist.json").unlink()  # and the manifest never written
    (chain / "00000004.an2").write_bytes(b"an earlier export, before record 4 was voided")
    done = export(demo_district, "nist", demo_district.laptop, out)
    assert done.exit_code == EXIT_OK, done.output
    assert "dihapus dari ekspor sebelumnya" in done.output and "00000004.an2" in done.output
    assert snapshot(out) == before


def _corrupt_body(record: bytes, kit: KitKey) -> bytes:
    """``record`` re-signed by its kit with one byte of the body's ciphertext flipped: it
    verifies, but its body does not open."""
    fields = loads(loads(record).value[2])
    protected, unprotected, ciphertext, recipients = fields["body"].value
    flipped = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
    fields["body"] = CBORTag(fields["body"].tag, [protected, unprotected, flipped, recipients])
    return sign1(dumps(fields), kit, kid=kit.kid, content_type=CONTENT_TYPE)


def test_bad_records_are_named_and_nothing_of_them_is_written(
    demo_district: DemoDistrict, tmp_path: Path
) -> None:
    authority = demo_district.authority
    kit = make_kit(tmp_path / "kit", authority, "KIT-3505-09", ())
    store = KitStore(kit, now=lambda: NOW)
    try:
        store.seal(enrolment(person(6), fingers_of(6, (1, 2), (256, 288))))
        store.seal(enrolment(person(7), fingers_of(7, (1, 2), (200, 200))))  # no sensor's size
        store.seal(enrolment(person(8), fingers_of(8, (1,), (192, 192))))
        named = replace(person(9), name="WARGA\x1dNOMOR 9")  # a separator in a text field
        store.seal(enrolment(named, (), face=False, signs=False))
    finally:
        store.close()
    third = kit / "records" / "00000003.cose"
    third.write_bytes(_corrupt_body(third.read_bytes(), KitKey.load(kit / "kit" / "kit.key")))
    db = collector_of(kit, authority, tmp_path / "bad.db")
    done = export(demo_district, "nist", db, tmp_path / "out")
    assert done.exit_code == EXIT_PROBLEMS, done.output
    said = re.sub(r"\s+", " ", done.output)
    assert "kit KIT-3505-09 rekaman 2: jari 1 (right thumb): gambar 200x200 piksel" in said
    assert "kit KIT-3505-09 rekaman 3: isinya tidak bisa dibuka (BodyMismatch" in said
    assert "kit KIT-3505-09 rekaman 4: field 2.004 memuat karakter kendali 0x1D" in said
    assert "3 rekaman tidak diekspor karena rusak" in said
    written = sorted(p.name for p in (tmp_path / "out").rglob("*.an2"))
    assert written == ["00000001.an2"], "nothing of a bad record, not even half"
    manifest = json.loads((tmp_path / "out" / "manifest-nist.json").read_text(encoding="utf-8"))
    assert [(i["seq"], i["problem"]) for i in manifest["left_out"]] == [
        (2, True),
        (3, True),
        (4, True),
    ]


def test_records_a_missing_record_could_void_are_held_back(
    demo_district: DemoDistrict, tmp_path: Path
) -> None:
    kit = make_kit(tmp_path / "kit", demo_district.authority, "KIT-3505-08", ())
    store = KitStore(kit, now=lambda: NOW)
    try:
        for number in (10, 11, 12):
            store.seal(enrolment(person(number), (), face=False, signs=False))
    finally:
        store.close()
    (kit / "records" / "00000002.cose").unlink()  # gone from the database: did it void 1?
    db = collector_of(kit, demo_district.authority, tmp_path / "gap.db")
    done = export(demo_district, "nist", db, tmp_path / "out")
    assert done.exit_code == EXIT_PROBLEMS, done.output
    assert "kit KIT-3505-08 rekaman 1: ditahan: rekaman 2 tidak ada" in re.sub(
        r"\s+", " ", done.output
    )
    assert sorted(p.name for p in (tmp_path / "out").rglob("*.an2")) == ["00000003.an2"]


def test_records_sealed_after_a_revocation_cast_no_doubt_on_those_before(
    demo_district: DemoDistrict, tmp_path: Path
) -> None:
    """A stolen kit's later records stay out; a void among them would not be honoured, so
    the records it sealed before the theft are still exported."""
    authority_dir = tmp_path / "authority"
    shutil.copytree(demo_district.authority_dir, authority_dir)
    kit = make_kit(tmp_path / "kit", demo_district.authority, "KIT-3505-07", ())
    for day, number in enumerate((13, 14)):
        store = KitStore(kit, now=lambda day=day: NOW + timedelta(days=day))
        try:
            store.seal(enrolment(person(number), (), face=False, signs=False))
        finally:
            store.close()
    private = Authority.load(authority_dir)
    since = NOW + timedelta(hours=12)
    revocation.revoke(
        authority_dir, private, kit_id="KIT-3505-07", since=since, reason="dicuri", now=since
    )
    db = collector_of(kit, demo_district.authority, tmp_path / "stolen.db")
    done = run(
        "export", "--db", db, "--format", "nist", "--authority", authority_dir,
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert done.exit_code == EXIT_PROBLEMS, done.output
    assert "rekaman 2: tidak terverifikasi (SealedAfterRevocation" in done.output
    assert sorted(p.name for p in (tmp_path / "out").rglob("*.an2")) == ["00000001.an2"]


def test_an_agency_id_type1_cannot_carry_is_refused(demo_district: DemoDistrict, tmp_path: Path):
    done = run(
        "export", "--db", demo_district.laptop, "--format", "nist", "--authority",
        demo_district.authority_dir, "--ori", "DUKCAPIL\x1eBLITAR", "--out", tmp_path,
    )  # fmt: skip
    assert done.exit_code == EXIT_USER_ERROR
    assert "--ori" in done.output and not list(tmp_path.iterdir())


def test_without_the_authority_nothing_is_exported(demo_district: DemoDistrict, tmp_path: Path):
    done = run("export", "--db", demo_district.laptop, "--format", "iso", "--out", tmp_path)
    assert done.exit_code == EXIT_USER_ERROR
    assert "perlu --authority" in done.output and not list(tmp_path.iterdir())


def test_the_sensor_sizes_are_the_drivers() -> None:
    assert {s.name: s.value for s in Sensor} == {m.name: m.image_size for m in SensorModel}


def test_wsq_keeps_the_simulators_fingers_within_the_documented_error() -> None:
    """docs/interchange.md's figures, held on a few fingers of each sensor."""
    for size in ((256, 288), (192, 192)):
        for figure in (measure(number, 2, size) for number in (1, 2)):
            assert figure.raw_bytes / figure.wsq_bytes > 9
            assert figure.psnr > 24


def test_the_docs_list_every_type2_field() -> None:
    """The table in docs/interchange.md is the code's, field by field."""
    text = DOCS.read_text(encoding="utf-8")
    rows = re.findall(r"^\| 2\.(\d{3}) \| (\w+) \| ([^|]+) \|$", text, re.MULTILINE)
    assert [(int(n), m, meaning.strip()) for n, m, meaning in rows] == [
        (f.number, f.mnemonic, f.meaning) for f in TYPE2_FIELDS
    ]
