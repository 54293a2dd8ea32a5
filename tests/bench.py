"""Benchmarks: ``make bench``.  Every figure is a ratio to a baseline measured in the same run.

Absolute numbers depend on the machine (an SD card on a Pi 4 is far slower than a laptop
SSD); ratios say where the time goes: how much sealing costs over the bare signature, how
much durability costs over a plain write, how much memory a seal needs over the record.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from PIL import Image

from storage import cose
from storage.certificate import certify_kit
from storage.files import write_atomic
from storage.keys import Authority, KitKey
from storage.kit import KitStore, provision
from storage.model import Enrolment, FingerRecord, Policy, Resident, Sex
from storage.record import seal_record
from storage.verify import Verifier

ROUNDS_SECONDS = 1.0


def rate(work: Callable[[], object], *, seconds: float = ROUNDS_SECONDS) -> float:
    """Calls per second of ``work``, over at least ``seconds``."""
    work()  # warm up
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        work()
        count += 1
    return count / elapsed


def png(size: tuple[int, int], seed: int) -> bytes:
    """A grey image that compresses about as badly as a fingerprint (noise)."""
    out = io.BytesIO()
    noise = Image.effect_noise(size, 64 + seed).convert("L")
    noise.save(out, format="PNG")
    return out.getvalue()


def enrolment() -> Enrolment:
    """A full-size enrolment: a 640x480 photo, ten 256x288 fingers, a signature."""
    face = io.BytesIO()
    Image.radial_gradient("L").resize((480, 640)).convert("RGB").save(face, format="JPEG")
    fingers = tuple(
        FingerRecord(p, image_png=png((256, 288), p), template=bytes(512), quality=80)
        for p in range(1, 11)
    )
    resident = Resident("3505104101900001", "SITI RAHAYU", Sex.FEMALE, "BLITAR", date(1990, 1, 1))
    return Enrolment(
        resident=resident,
        officer_id="PTG-001",
        started_at=datetime.now(UTC),
        face_jpeg=face.getvalue(),
        fingers=fingers,
        signature_strokes=(((1, 2), (3, 4)),),
        signature_png=png((600, 225), 1),
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="jemput-bench-") as folder:
        run(Path(folder))


def run(scratch: Path) -> None:
    authority = Authority.init(scratch / "authority", name="BENCH", demo=True)
    key = KitKey.create(scratch / "kit.key")
    person = enrolment()
    now = datetime.now(UTC)

    def seal() -> bytes:
        return seal_record(
            person,
            kit_id="BENCH-01",
            seq=1,
            prev_hash=bytes(32),
            sealed_at=now,
            kit_key=key,
            authority=authority.public,
        )

    record = seal()
    payload = os.urandom(len(record))
    print(f"record size: {len(record) / 1024:.0f} KiB")

    sign_rate = rate(lambda: cose.sign1(payload, key.private, kid=key.kid))
    seal_rate = rate(seal)
    print(
        f"seal a record          {seal_rate:8.0f}/s = {seal_rate / sign_rate:5.2f} x "
        "bare COSE_Sign1 of the same size (baseline)"
    )

    certificate = certify_kit(
        authority, kit_id="BENCH-01", region="3505", kit_public=key.public_bytes, now=now
    )
    verifier = Verifier(authority.public)
    parsed_certificate = verifier.certificate(certificate)
    hash_rate = rate(lambda: hashlib.sha256(record).digest())
    verify_rate = rate(lambda: verifier.verify_record(record, parsed_certificate))
    print(
        f"verify a record        {verify_rate:8.0f}/s = {verify_rate / hash_rate:5.3f} x SHA-256 "
        "of its bytes (baseline)"
    )

    counter = iter(range(10**9))

    def plain_write() -> None:
        (scratch / f"plain-{next(counter)}").write_bytes(record)

    def durable_write() -> None:
        write_atomic(scratch / f"durable-{next(counter)}", record)

    plain_rate = rate(plain_write)
    durable_rate = rate(durable_write)
    print(
        f"durable record write   {durable_rate:8.0f}/s = {durable_rate / plain_rate:5.3f} x plain "
        "write without fsync (baseline)"
    )

    tracemalloc.start()
    seal()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"memory to seal         {peak / 1024:8.0f} KiB = {peak / len(record):5.2f} x "
        "the record size (baseline)"
    )
    bench_boot(scratch, authority, person)


BOOT_RECORDS = 150


def bench_boot(scratch: Path, authority: Authority, person: Enrolment) -> None:
    """A kit's start-up with many records: trusting what the index knows vs reading all."""
    data = scratch / "bootkit"
    provision(
        data,
        authority=authority,
        kit_id="BENCH-02",
        region="3505",
        officers=(),
        worklist=(),
        policy=Policy(),
        now=datetime.now(UTC),
    )
    with KitStore(data, now=lambda: datetime.now(UTC)) as store:
        for _ in range(BOOT_RECORDS):
            store.seal(person)

    def boot(*, verify_files: bool) -> Callable[[], None]:
        def work() -> None:
            KitStore(data, now=lambda: datetime.now(UTC), verify_files=verify_files).close()

        return work

    full = rate(boot(verify_files=True))
    trusting = rate(boot(verify_files=False))
    print(
        f"boot with {BOOT_RECORDS} records  {1000 / trusting:8.1f} ms = {trusting / full:5.1f} x "
        "faster than verifying every file (baseline, as `jemput-kit status` does)"
    )


if __name__ == "__main__":
    main()
