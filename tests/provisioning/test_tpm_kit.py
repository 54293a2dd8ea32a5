"""A TPM-keyed kit from flash to collect and verify, on swtpm, through the tool's real paths.

The kit's kit.toml says ``key_backend = "tpm"``: keygen makes the signing key inside the
(software) TPM and the flash seals the data key there, so the data folder holds no key a
thief could copy, and the certificate says the key is the TPM's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provisioning.cli import EXIT_OK, app
from storage.certificate import verify_certificate
from storage.keys import Authority, KeyBackend
from storage.kitkey import KeySettings
from storage.layout import certificate_path
from storage.revocation import load_revocations
from tests.provisioning.kit_bench import Bench, enrol, flash_cli, open_bench
from tests.swtpm import SoftwareTpm

PEOPLE = 2


@pytest.fixture
def tpm_bench(tmp_path: Path) -> Iterator[Bench]:
    with SoftwareTpm(tmp_path / "swtpm-state") as tpm:
        keys = KeySettings(KeyBackend.TPM, tpm.tcti)
        with open_bench(tmp_path, keys=keys) as bench:
            yield bench


def test_a_tpm_keyed_kit_is_flashed_enrols_is_collected_and_verifies(tpm_bench: Bench) -> None:
    bench = tpm_bench
    flashed = flash_cli(bench)
    assert flashed.exit_code == EXIT_OK, flashed.output
    store = bench.host.store
    assert store is not None
    assert store.status().key_backend is KeyBackend.TPM
    assert store.status().data_key_backend is KeyBackend.TPM
    certificate = verify_certificate(
        certificate_path(store.data_dir).read_bytes(), bench.authority.public
    )
    assert certificate.backend is KeyBackend.TPM and certificate.alg.name == "ES256"
    assert "kunci           TPM (registered" in flashed.output
    registry = load_revocations(Authority.load(bench.tmp / "authority").public)
    assert "KIT-3505-07" in registry.hardware, "a key-file certificate is refused now"

    enrol(bench, PEOPLE)
    db = bench.tmp / "collector.db"
    collected = CliRunner().invoke(app, ["collect", bench.pty.port, *bench.args, "--db", str(db)])
    assert collected.exit_code == EXIT_OK, collected.output
    assert f"{PEOPLE} new record(s)" in collected.output
    verified = CliRunner().invoke(app, ["verify", str(db), *bench.args])
    assert verified.exit_code == EXIT_OK, verified.output
    assert f"all {PEOPLE} record(s) of 1 kit(s) verify" in verified.output

    kit_files = sorted(p.name for p in (store.data_dir / "kit").iterdir())
    assert kit_files == ["data.tpm", "kit.tpm", "profile.cbor"], "no key file to copy"
    pems = [
        p for p in store.data_dir.rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()
    ]
    assert pems == []
