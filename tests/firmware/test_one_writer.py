"""One writer per data folder, collections from a kit that is enrolling, and busy answers.

The kits here run as the user runs them, in their own processes (`jemput-kit run --sim
--headless`, `jemput-kit demo --port-link`), and the tool collects over their ptys.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from firmware.cli import app as kit_app
from firmware.host import ENROLMENT_BUSY
from firmware.port import KitPort
from hal.types import Button
from kitlink import protocol as p
from kitlink.framing import FramedPort
from kitlink.messages import KeygenArgs, hello_of
from kitlink.protocol import Refusal
from provisioning import collect as collecting
from provisioning.client import KitClient
from provisioning.collector import CollectorDB
from provisioning.collector_audit import audit_database
from simulator.demo import OfficerBot
from simulator.kit import open_sim_kit
from simulator.options import DOUBLES, SimOptions
from storage.keys import Authority
from storage.layout import staged_key_path
from storage.lock import FolderBusy, FolderLock
from vocabulary.kit_status import SEALED
from vocabulary.language import Language

WAIT = 120.0


def kit_process(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "firmware.cli", *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT
    while not path.exists():
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.fixture
def demo_kit(tmp_path: Path) -> Path:
    """A demo kit with one record, made by `jemput-kit demo` (fast doubles)."""
    data_dir = tmp_path / "kit"
    made = CliRunner().invoke(
        kit_app, ["sim", "demo", "--people", "1", "--doubles", "--data-dir", str(data_dir)]
    )
    assert made.exit_code == 0, made.output
    return data_dir


@pytest.fixture
def served(demo_kit: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    link = tmp_path / "port.lnk"
    process = kit_process(
        tmp_path,
        "sim",
        "headless",
        "--data-dir",
        str(demo_kit),
        "--port-link",
        str(link),
    )
    try:
        wait_for(link, process)
        yield process, link
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def test_a_second_writer_is_refused_naming_the_folder_and_the_pid(
    demo_kit: Path, served: tuple[subprocess.Popen[str], Path]
) -> None:
    process, _ = served
    second = CliRunner().invoke(
        kit_app, ["sim", "demo", "--people", "1", "--doubles", "--data-dir", str(demo_kit)]
    )
    assert second.exit_code == 1
    assert str(demo_kit) in second.output and f"PID {process.pid}" in second.output
    assert "sealed" not in second.output, "the second writer sealed nothing"
    reader = CliRunner().invoke(kit_app, ["status", "--data-dir", str(demo_kit)])
    assert reader.exit_code == 0, reader.output
    sealed = re.search(rf"^{SEALED(Language.ID)} +(\d+)$", reader.output, re.MULTILINE)
    assert sealed and sealed[1] == "1", f"status reads beside the running kit: {reader.output}"


def test_deleting_files_from_the_folder_does_not_let_a_second_writer_in(
    demo_kit: Path, served: tuple[subprocess.Popen[str], Path]
) -> None:
    """The lock is on the folder itself: a lock file (earlier releases' ``.lock``) deleted
    under the running kit, or any other file, hands the folder to no one."""
    process, _ = served
    for stray in demo_kit.glob(".lock*"):
        stray.unlink()
    second = CliRunner().invoke(
        kit_app, ["sim", "demo", "--people", "1", "--doubles", "--data-dir", str(demo_kit)]
    )
    assert second.exit_code == 1, second.output
    assert str(demo_kit) in second.output and f"PID {process.pid}" in second.output
    assert "sealed" not in second.output, "the second writer sealed nothing"


def test_the_lock_is_the_kernels_and_goes_with_its_holder(tmp_path: Path) -> None:
    with FolderLock(tmp_path):
        for name in tmp_path.iterdir():  # whatever is in the folder goes: the lock stays
            name.unlink()
        with pytest.raises(FolderBusy) as busy:
            FolderLock(tmp_path)
        assert str(tmp_path) in str(busy.value) and f"(PID {os.getpid()})" in str(busy.value)
    with FolderLock(tmp_path) as again:  # released: the next writer gets it at once
        assert "held" in repr(again)


def test_a_collection_from_an_enrolling_kit_gets_the_live_head_and_later_the_rest(
    tmp_path: Path,
) -> None:
    data_dir, link = tmp_path / "kit", tmp_path / "port.lnk"
    people = 5
    demo = kit_process(
        tmp_path,
        "sim",
        "demo",
        "--people",
        str(people),
        "--data-dir",
        str(data_dir),
        "--port-link",
        str(link),
    )
    try:
        wait_for(data_dir / "records" / "00000001.cose", demo)
        authority = Authority.load(data_dir / "demo-authority")
        with CollectorDB(tmp_path / "collector.db") as db:
            with FramedPort(port=str(link)) as port:
                first = collecting.collect(port, authority, db)
                head_then = KitClient(port, authority).hello().head_seq
            still_enrolling = demo.poll() is None
            got_first = [seq for chain in db.chains() for seq, _ in db.record_bytes(chain)]
            assert demo.wait(timeout=WAIT) == 0, demo.stdout.read() if demo.stdout else ""
            assert still_enrolling, "the collection happened while the demo enrolled"
            assert got_first == list(range(1, len(got_first) + 1)) and got_first
            assert got_first[-1] <= head_then < people + 1, "up to the head the kit had then"
            assert first.new == len(got_first)
            # later, on the next cable: a kit served headless on the same folder
            relink = tmp_path / "again.lnk"
            served = kit_process(
                tmp_path,
                "sim",
                "headless",
                "--data-dir",
                str(data_dir),
                "--port-link",
                str(relink),
            )
            try:
                wait_for(relink, served)
                with FramedPort(port=str(relink)) as port:
                    collecting.collect(port, authority, db)
            finally:
                served.send_signal(signal.SIGTERM)
                served.wait(timeout=60)
            assert [seq for chain in db.chains() for seq, _ in db.record_bytes(chain)] == list(
                range(1, people + 1)
            )
            assert audit_database(db, authority.public).ok
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(timeout=30)


def test_a_reflash_during_an_enrolment_is_refused_busy(tmp_path: Path) -> None:
    with open_sim_kit(SimOptions(tmp_path / "kit", seed=2, clock_speed=0.0, parts=DOUBLES)) as sim:
        authority = Authority.load(tmp_path / "kit" / "demo-authority")
        bot = OfficerBot(sim.kit, sim.world, sim.bystanders)
        bot.settle()
        bot.login(by_pin=False)
        bot.select_resident(bot.world.residents[0])
        bot.press(Button.OK)  # the right person: the enrolment is under way
        assert sim.kit.controller.draft is not None
        port = KitPort(tmp_path / "kit", sim.host)
        nonce = hello_of(p.decode_message(port.handle(p.hello_request(1)), "hello")).nonce
        keygen = KeygenArgs(authority.public)
        request = p.signed_request(
            keygen.op, keygen.to_map(), request_id=2, nonce=nonce, authority=authority
        )
        with pytest.raises(p.Refused) as refused:
            p.check_refusal(p.decode_message(port.handle(request), "keygen answer"))
        assert refused.value.code == Refusal.BUSY
        assert str(refused.value).endswith(ENROLMENT_BUSY), "the tool shows the kit's words"
        assert not staged_key_path(tmp_path / "kit").exists(), "nothing was changed"
        assert sim.kit.controller.draft is not None, "the enrolment goes on"
