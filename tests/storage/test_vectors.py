"""The published vectors verify to exactly what expected.json says, and regenerate byte for byte."""

from __future__ import annotations

import dataclasses
import enum
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from storage.cose import HDR_ALG, SignAlg, parse_sign1
from storage.keys import Authority, AuthorityPublic, KeyBackend
from storage.record import open_record, record_hash
from storage.reference import ReferenceKey
from storage.verify import Verifier, verify_folder

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
EXPECTED = json.loads((VECTORS / "expected.json").read_text())
KEYS = json.loads((VECTORS / "keys.json").read_text())


def jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [jsonable(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [jsonable(item) for item in vars(value).values()]
    return value


@pytest.fixture(scope="module")
def authority() -> Authority:
    spec = KEYS["authority"]
    return Authority(
        name=spec["name"],
        demo=spec["demo"],
        signing=Ed25519PrivateKey.from_private_bytes(bytes.fromhex(spec["signing_seed"])),
        decryption=X25519PrivateKey.from_private_bytes(bytes.fromhex(spec["encryption_seed"])),
        references=ReferenceKey(bytes.fromhex(spec["reference_seed"])),
    )


@pytest.fixture(scope="module")
def verifier(authority: Authority) -> Verifier:
    return Verifier(authority.public)


def test_keys_json_matches_the_public_file(authority: Authority) -> None:
    public = AuthorityPublic.load(VECTORS / "authority.pub.cbor")
    assert public == authority.public
    assert public.kid.hex() == KEYS["authority"]["kid"]
    assert public.enc_kid.hex() == KEYS["authority"]["enc_kid"]


#: The published chains: a version-1 Ed25519 kit, a TPM-keyed kit signing ES256 (both with
#: records in format version 1), and records in format versions 2, 3 and 4 by the Ed25519 kit.
CHAINS = {
    "v1-eddsa": (EXPECTED, KEYS["kit"]),
    "v2-es256": (EXPECTED["es256"], KEYS["es256_kit"]),
    "records-v2": (EXPECTED["v2"], KEYS["kit"]),
    "records-v3": (EXPECTED["v3"], KEYS["kit"]),
    "records-v4": (EXPECTED["v4"], KEYS["kit"]),
}
#: What version 4 adds to a header, and what a header of an older version reads them as.
V4_FIELDS = {"round": None, "groups": [], "notice": None, "guardian": False}


@pytest.mark.parametrize("chain", CHAINS)
def test_certificate(verifier: Verifier, chain: str) -> None:
    expected, kit = CHAINS[chain]
    spec = expected["certificate"]
    certificate = verifier.certificate((VECTORS / spec["file"]).read_bytes())
    names = ("version", "kit_id", "region", "kit_public", "alg", "backend")
    fields = {name: jsonable(getattr(certificate, name)) for name in names}
    fields |= {
        name: jsonable(getattr(certificate, name))
        for name in ("not_before", "not_after", "issuer_kid")
    }
    assert fields | {"file": spec["file"], "sha256": certificate.digest.hex()} == spec
    assert certificate.kit_public.hex() == kit["public"]
    assert certificate.kit_kid.hex() == kit["kid"]


def test_the_two_chains_are_the_two_formats(verifier: Verifier) -> None:
    legacy = verifier.certificate((VECTORS / "chain" / "kit.cert").read_bytes())
    tpm = verifier.certificate((VECTORS / "es256" / "kit.cert").read_bytes())
    assert (legacy.version, legacy.alg, legacy.backend) == (1, SignAlg.EDDSA, KeyBackend.FILE)
    assert (tpm.version, tpm.alg, tpm.backend) == (2, SignAlg.ES256, KeyBackend.TPM)


RECORDS = [
    (chain, index) for chain, (spec, _) in CHAINS.items() for index in range(len(spec["records"]))
]


@pytest.mark.parametrize(("chain", "index"), RECORDS)
def test_records(verifier: Verifier, authority: Authority, chain: str, index: int) -> None:
    expected, _ = CHAINS[chain]
    spec = expected["records"][index]
    data = (VECTORS / spec["file"]).read_bytes()
    certificate = verifier.certificate((VECTORS / expected["certificate"]["file"]).read_bytes())
    header = verifier.verify_record(data, certificate)
    fields = {name: jsonable(value) for name, value in vars(header).items()}
    if header.version < 4:  # published before version 4: no round, no group, no notice
        assert {name: fields.pop(name) for name in V4_FIELDS} == V4_FIELDS
    assert fields == spec["header"]
    assert record_hash(data).hex() == spec["sha256"]
    assert open_record(data, authority, authority.references).resident.nik == spec["nik"]


def test_the_record_chains_are_the_two_record_formats(verifier: Verifier) -> None:
    certificate = verifier.certificate((VECTORS / "chain" / "kit.cert").read_bytes())
    versions = {
        folder: {
            verifier.verify_record(path.read_bytes(), certificate).version
            for path in (VECTORS / folder).glob("*.cose")
        }
        for folder in ("chain", "v2", "v3", "v4")
    }
    assert versions == {"chain": {1}, "v2": {2}, "v3": {3}, "v4": {4}}


def test_v3_headers_name_residents_only_by_keyed_reference(
    verifier: Verifier, authority: Authority
) -> None:
    """Version 3's header holds HMAC-SHA256 of the worklist reference, never a NIK."""
    certificate = verifier.certificate((VECTORS / "v3" / "kit.cert").read_bytes())
    for spec in EXPECTED["v3"]["records"]:
        data = (VECTORS / spec["file"]).read_bytes()
        payload = parse_sign1(data).payload
        resident = open_record(data, authority, authority.references).resident
        assert resident.nik.encode() not in payload
        header = verifier.verify_record(data, certificate)
        assert header.worklist_ref is None
        ref = resident.worklist_ref
        assert header.keyed_ref == (None if ref is None else authority.references.keyed(ref))
        assert header.reference == spec["header"]["keyed_ref"]
    keyed = [spec["header"]["keyed_ref"] for spec in EXPECTED["v3"]["records"]]
    assert sum(ref is not None for ref in keyed) == 3  # the domicile walk-in has none


@pytest.mark.parametrize("folder", ["v2", "v3"])
def test_v2_vectors_carry_every_version_2_fact(authority: Authority, folder: str) -> None:
    opened = [
        open_record(path.read_bytes(), authority, authority.references)
        for path in sorted((VECTORS / folder).glob("*.cose"))
    ]
    assert [(e.kind.value, e.purpose.value) for e in opened] == [
        ("KIA", "BARU"),
        ("E-KTP", "HILANG"),
        ("E-KTP", "BARU"),
        ("E-KTP", "BARU"),
    ]
    assert {e.official_id for e in opened} == {"KADES-01"}
    assert [(c.field.value, c.original, c.new, c.approved_by) for c in opened[1].corrections] == [
        ("pekerjaan", "WIRASWASTA", "PEDAGANG", "KADES-01")
    ]
    assert opened[2].domicile is not None and opened[2].domicile.kk_number == "3505010101200007"
    assert opened[2].signature_exception is not None
    assert opened[3].card_from is not None and opened[3].card_from.isoformat() == "2025-09-20"


def test_v4_vectors_name_their_rounds_groups_and_notice(
    verifier: Verifier, authority: Authority
) -> None:
    """The header names the round and the groups; the body alone holds who heard the
    notice for the child, the disability and how the flow was adapted."""
    certificate = verifier.certificate((VECTORS / "v4" / "kit.cert").read_bytes())
    files = sorted((VECTORS / "v4").glob("*.cose"))
    headers = [verifier.verify_record(path.read_bytes(), certificate) for path in files]
    assert [(h.round.code if h.round else None, [g.value for g in h.groups]) for h in headers] == [
        ("SMA1-PLG-0310", ["pemilih pemula"]),
        ("SMA1-PLG-0310", ["pemilih pemula"]),
        ("KR-PLG-0312", ["disabilitas"]),
        ("KR-PLG-0312", []),
    ]
    assert [(h.notice, h.guardian) for h in headers] == [
        (1, True),
        (1, False),
        (1, False),
        (None, False),
    ]
    opened = [open_record(path.read_bytes(), authority, authority.references) for path in files]
    assert opened[0].guardian == "SUPARMI"
    assert b"SUPARMI" not in parse_sign1(files[0].read_bytes()).payload  # the body's, encrypted
    assert opened[2].disability is not None and opened[2].disability.value == "fisik"
    assert [a.value for a in opened[2].assists] == ["duduk", "pendamping"]
    payload = parse_sign1(files[2].read_bytes()).payload
    assert b"fisik" not in payload and b"duduk" not in payload


def test_es256_record_carries_alg_minus_7_and_a_raw_signature() -> None:
    msg = parse_sign1((VECTORS / "es256" / "00000001.cose").read_bytes())
    assert msg.protected[HDR_ALG] == -7
    assert len(msg.signature) == 64


@pytest.mark.parametrize("chain", CHAINS)
def test_chain(authority: Authority, chain: str) -> None:
    spec = CHAINS[chain][0]["chain"]
    report = verify_folder(VECTORS / spec["folder"], authority.public)
    assert report.ok
    assert (report.count, report.first, report.last, report.gaps) == (
        spec["count"],
        spec["first"],
        spec["last"],
        [tuple(gap) for gap in spec["gaps"]],
    )


@pytest.mark.parametrize("case", EXPECTED["broken"], ids=lambda case: case["file"])
def test_broken_variants_fail_with_the_named_error(
    verifier: Verifier, authority: Authority, case: dict[str, Any]
) -> None:
    path = VECTORS / case["file"]
    certificate_file = case.get("certificate", EXPECTED["certificate"]["file"])
    certificate_bytes = (VECTORS / certificate_file).read_bytes()
    if case["check"] == "folder":
        report = verify_folder(path, authority.public)
        assert {type(error).__name__ for _, error in report.problems} == {case["error"]}
        assert report.gaps == [tuple(gap) for gap in case["gaps"]]
        return
    with pytest.raises(Exception) as caught:
        if case["check"] == "certificate":
            verifier.certificate(path.read_bytes())
        else:
            verifier.verify_record(path.read_bytes(), verifier.certificate(certificate_bytes))
    assert type(caught.value).__name__ == case["error"]


def test_generator_reproduces_every_file(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "tests.vectors.make", "--out", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    made = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    kept = {
        p.relative_to(VECTORS): p.read_bytes()
        for p in VECTORS.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc")
    }
    assert sorted(made) == sorted(kept)
    for name, data in made.items():
        assert data == kept[name], f"{name} differs from the committed vector"
