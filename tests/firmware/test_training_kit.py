"""A training kit: its certificate says so, and what it seals never counts as coverage."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from firmware.port import KitPort
from hw_sim.provisioning_port import PtyPort
from kitlink.framing import FramedPort
from provisioning import collect as collecting
from provisioning.cli import EXIT_PROBLEMS, app
from provisioning.collector import CollectorDB
from simulator.demo import run_session
from simulator.kit import DEMO_AUTHORITY, NotATrainingKit, open_sim_kit
from simulator.options import DOUBLES, Provisioning, SimOptions
from storage.certificate import (
    MalformedCertificate,
    certify_kit,
    issue_certificate,
    verify_certificate,
)
from storage.codec import dumps, loads
from storage.cose import parse_sign1, sign1
from storage.keys import Authority, KitKey
from storage.verify import TrainingKit

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_training_certificate_says_so_and_others_do_not(tmp_path: Path) -> None:
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    key = KitKey.create(tmp_path / "kit.key")
    now = NOW
    made = {
        training: certify_kit(
            authority,
            kit_id="LATIH-1",
            region="3505",
            kit_public=key.public_bytes,
            now=now,
            training=training,
        )
        for training in (False, True)
    }
    assert verify_certificate(made[True], authority.public).training
    assert not verify_certificate(made[False], authority.public).training
    assert "training" not in loads(parse_sign1(made[False]).payload), "others are as before"


def test_a_training_claim_that_is_not_true_is_refused(tmp_path: Path) -> None:
    authority = Authority.init(tmp_path / "authority", name="Dukcapil Blitar")
    key = KitKey.create(tmp_path / "kit.key")
    now = NOW
    good = issue_certificate(
        authority,
        kit_id="LATIH-1",
        region="3505",
        kit_public=key.public_bytes,
        not_before=now,
        not_after=now.replace(year=2030),
        training=True,
    )
    claims = dict(loads(parse_sign1(good).payload))
    claims["training"] = False
    forged = sign1(
        dumps(claims),
        authority.signing_key,
        kid=authority.kid,
        content_type="application/jemput-kit-cert+cbor",
    )
    with pytest.raises(MalformedCertificate, match="only as true"):
        verify_certificate(forged, authority.public)


def test_what_a_training_kit_seals_is_never_collected(tmp_path: Path) -> None:
    kit_dir = tmp_path / "training"
    with open_sim_kit(
        SimOptions(
            kit_dir, seed=2, clock_speed=0.0, parts=DOUBLES, provisioning=Provisioning.TRAINING
        )
    ) as sim:
        assert sim.kit.store.training and sim.kit.store.kit_id.startswith("LATIH")
        outcomes = run_session(
            sim.kit, sim.world, sim.bystanders, people=2, report=lambda _: None, note=print
        )
        assert len(outcomes) == 2
        authority = Authority.load(kit_dir / DEMO_AUTHORITY)
        db_path = tmp_path / "collector.db"
        with (
            PtyPort(KitPort(kit_dir, sim.host)) as pty,
            FramedPort(port=pty.port) as port,
            CollectorDB(db_path) as db,
        ):
            with pytest.raises(TrainingKit, match=r"training kit .* never count"):
                collecting.collect(port, authority, db)
            assert db.chains() == [], "nothing of it is kept"
        assert sim.kit.store.status().uncollected == 2, "and no receipt reached the kit"
        with PtyPort(KitPort(kit_dir, sim.host)) as pty:
            said = CliRunner().invoke(
                app,
                [
                    "collect",
                    pty.port,
                    "--authority",
                    str(kit_dir / DEMO_AUTHORITY),
                    "--db",
                    str(db_path),
                ],
            )
    assert said.exit_code == EXIT_PROBLEMS, said.output
    assert "training kit" in said.output and "Traceback" not in said.output


def test_training_is_refused_on_a_kit_whose_records_count(tmp_path: Path) -> None:
    with open_sim_kit(SimOptions(tmp_path / "kit", seed=2, clock_speed=0.0, parts=DOUBLES)):
        pass  # a demo kit, whose records count
    with (
        pytest.raises(NotATrainingKit, match="fresh data folder"),
        open_sim_kit(
            SimOptions(
                tmp_path / "kit",
                seed=2,
                clock_speed=0.0,
                parts=DOUBLES,
                provisioning=Provisioning.TRAINING,
            )
        ),
    ):
        pass
