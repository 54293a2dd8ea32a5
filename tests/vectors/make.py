"""Write the record-format test vectors: keys, certificate, a two-record chain, broken variants.

Everything is derived from fixed seeds (keys) and a counter-mode SHA-256 stream (the
ephemeral keys and IVs of encryption), and Ed25519 signatures are deterministic, so every
run writes the same bytes; tests/storage/test_vectors.py checks that.

    python -m tests.vectors.make [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from storage.certificate import issue_certificate
from storage.codec import dumps, loads
from storage.cose import sign1
from storage.keys import Authority, KitKey
from storage.model import Enrolment, FingerRecord, Resident, Sex
from storage.record import CONTENT_TYPE, RecordHeader, record_hash, seal_record
from storage.verify import Verifier

HERE = Path(__file__).resolve().parent
KIT_ID = "JMP-1671-0001"
REGION = "1671"
NOT_BEFORE = datetime(2025, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2030, 1, 1, tzinfo=UTC)
SEALED = (datetime(2025, 6, 2, 1, 0, tzinfo=UTC), datetime(2025, 6, 2, 1, 7, 30, tzinfo=UTC))


def seed(label: str) -> bytes:
    return hashlib.sha256(b"jemput test vector " + label.encode()).digest()


class StreamRng:
    """SHA-256(seed || 8-byte big-endian counter) blocks, concatenated: a repeatable rng."""

    def __init__(self, key: bytes) -> None:
        self._key, self._counter, self._buffer = key, 0, b""

    def __call__(self, size: int) -> bytes:
        while len(self._buffer) < size:
            block = self._key + self._counter.to_bytes(8, "big")
            self._buffer += hashlib.sha256(block).digest()
            self._counter += 1
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def authority(label: str, name: str) -> Authority:
    return Authority(
        name=name,
        demo=True,
        signing=Ed25519PrivateKey.from_private_bytes(seed(label + " signing")),
        decryption=X25519PrivateKey.from_private_bytes(seed(label + " encryption")),
    )


def enrolments() -> tuple[Enrolment, Enrolment]:
    siti = Resident(
        nik="1671014501900001",
        name="SITI AMINAH",
        sex=Sex.FEMALE,
        birth_place="PALEMBANG",
        birth_date=date(1990, 1, 5),
        province="SUMATERA SELATAN",
        regency="KOTA PALEMBANG",
        village="20 ILIR D IV",
        worklist_ref="WL-0007",
    )
    budi = Resident(
        nik="1671010203080002",
        name="BUDI SANTOSO",
        sex=Sex.MALE,
        birth_place="PALEMBANG",
        birth_date=date(2008, 3, 2),
    )
    return (
        Enrolment(
            resident=siti,
            officer_id="OFC-01",
            started_at=datetime(2025, 6, 2, 0, 55, tzinfo=UTC),
            face_jpeg=b"\xff\xd8\xff\xe0 face of siti \xff\xd9",
            fingers=(
                FingerRecord(1, image_png=b"\x89PNG thumb", template=b"tpl-1", quality=72),
                FingerRecord(2, exception="bandaged"),
            ),
            signature_strokes=(((10, 700), (40, 650), (90, 600)),),
            signature_png=b"\x89PNG signature",
            print_card=True,
        ),
        Enrolment(
            resident=budi,
            officer_id="OFC-01",
            started_at=datetime(2025, 6, 2, 1, 2, tzinfo=UTC),
            fingers=(FingerRecord(6, image_png=b"\x89PNG thumb", template=b"tpl-6", quality=55),),
            walk_in=True,
        ),
    )


def header_json(header: RecordHeader) -> dict[str, Any]:
    return {
        "version": header.version,
        "kit_id": header.kit_id,
        "seq": header.seq,
        "prev": header.prev.hex(),
        "sealed_at": header.sealed_at.isoformat(),
        "officer_id": header.officer_id,
        "worklist_ref": header.worklist_ref,
        "captured": [m.value for m in header.captured],
        "excepted": list(header.excepted),
        "print_card": header.print_card,
        "voids": header.voids,
        "walk_in": header.walk_in,
    }


def swap_body(target: bytes, donor: bytes, kit: KitKey) -> bytes:
    """``target`` re-signed by the kit with ``donor``'s body: what a buggy kit could write."""
    fields = loads(loads(target).value[2])
    fields["body"] = loads(loads(donor).value[2])["body"]
    return sign1(dumps(fields), kit.private, kid=kit.kid, content_type=CONTENT_TYPE)


def build() -> dict[str, bytes]:
    """Every vector file, by path relative to the vectors folder."""
    ours, other = authority("authority", "Dukcapil (test)"), authority("other", "Other (test)")
    kit = KitKey(Ed25519PrivateKey.from_private_bytes(seed("kit signing")))
    rng = StreamRng(seed("rng"))
    cert_args = dict(kit_id=KIT_ID, region=REGION, kit_public=kit.public_bytes)
    cert = issue_certificate(ours, **cert_args, not_before=NOT_BEFORE, not_after=NOT_AFTER)
    records, prev = [], record_hash(cert)
    for seq, (enrolment, sealed_at) in enumerate(zip(enrolments(), SEALED, strict=True), 1):
        data = seal_record(
            enrolment,
            kit_id=KIT_ID,
            seq=seq,
            prev_hash=prev,
            sealed_at=sealed_at,
            kit_key=kit,
            authority=ours.public,
            rng=rng,
        )
        records.append(data)
        prev = record_hash(data)
    flipped = bytearray(records[0])
    flipped[-1] ^= 0x01
    keys = {
        "authority": _authority_json(ours, "authority"),
        "other_authority": _authority_json(other, "other"),
        "kit": {
            "kit_id": KIT_ID,
            "region": REGION,
            "private_seed": seed("kit signing").hex(),
            "public": kit.public_bytes.hex(),
            "kid": kit.kid.hex(),
        },
        "rng": {"seed": seed("rng").hex(), "stream": "SHA-256(seed || u64be counter) blocks"},
    }
    verifier = Verifier(ours.public)  # the expected values come from the one verifier
    certificate = verifier.certificate(cert)
    expected = {
        "certificate": {
            "file": "chain/kit.cert",
            "kit_id": certificate.kit_id,
            "region": certificate.region,
            "kit_public": certificate.kit_public.hex(),
            "not_before": certificate.not_before.isoformat(),
            "not_after": certificate.not_after.isoformat(),
            "issuer_kid": certificate.issuer_kid.hex(),
            "sha256": certificate.digest.hex(),
        },
        "records": [
            {
                "file": f"chain/{seq:08d}.cose",
                "sha256": record_hash(data).hex(),
                "header": header_json(verifier.verify_record(data, certificate)),
                "nik": enrolment.resident.nik,
            }
            for seq, (data, enrolment) in enumerate(zip(records, enrolments(), strict=True), 1)
        ],
        "chain": {"folder": "chain", "count": 2, "first": 1, "last": 2, "gaps": []},
        "broken": [
            {"file": "broken/flipped-byte.cose", "check": "record", "error": "BadSignature"},
            {"file": "broken/truncated.cose", "check": "record", "error": "Truncated"},
            {"file": "broken/swapped-body.cose", "check": "record", "error": "BodyMismatch"},
            {
                "file": "broken/wrong-authority.cert",
                "check": "certificate",
                "error": "ForeignCertificate",
            },
            {"file": "broken/gap", "check": "folder", "error": "BrokenChain", "gaps": [[1, 1]]},
        ],
    }
    return {
        "keys.json": _json(keys),
        "expected.json": _json(expected),
        "authority.pub.cbor": ours.public.to_cbor(),
        "chain/kit.cert": cert,
        "chain/00000001.cose": records[0],
        "chain/00000002.cose": records[1],
        "broken/flipped-byte.cose": bytes(flipped),
        "broken/truncated.cose": records[0][: len(records[0]) // 2],
        "broken/swapped-body.cose": swap_body(records[1], records[0], kit),
        "broken/wrong-authority.cert": issue_certificate(
            other, **cert_args, not_before=NOT_BEFORE, not_after=NOT_AFTER
        ),
        "broken/gap/kit.cert": cert,
        "broken/gap/00000002.cose": records[1],
    }


def _authority_json(auth: Authority, label: str) -> dict[str, Any]:
    return {
        "name": auth.public.name,
        "demo": auth.public.demo,
        "signing_seed": seed(label + " signing").hex(),
        "encryption_seed": seed(label + " encryption").hex(),
        "sign_public": auth.public.sign_raw.hex(),
        "enc_public": auth.public.enc_raw.hex(),
        "kid": auth.public.kid.hex(),
        "enc_kid": auth.public.enc_kid.hex(),
    }


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write (default: here)")
    out = parser.parse_args(argv).out
    files = build()
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(files)} vector files to {out}")


if __name__ == "__main__":
    main()
