"""Every link failure of every kit command exits 1 with one line, as docs/provisioning.md says;
while the kit is silent, the line counts down the wait.

The peers are real ptys: nobody answering, a device that talks but is no kit, a cable
pulled at the first byte; and a port path that does not exist.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from hw_sim.link import PtyLink
from kitlink import protocol as p
from kitlink.framing import LinkTimeout
from provisioning.cli import EXIT_PROBLEMS, app
from provisioning.progress import RECORDS, KitProgress, WatchedPort
from storage.keys import Authority
from tests.provisioning.kit_bench import inputs
from vocabulary.language import Language


def _flash_args(tmp: Path) -> list[str]:
    return [
        "--kit-id", "KIT-3505-07", "--region", "3505",
        "--officers", str(tmp / "officers.csv"), "--worklist", str(tmp / "worklist.csv"),
    ]  # fmt: skip


COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "status": lambda tmp: [],
    "settime": lambda tmp: [],
    "selftest": lambda tmp: [],
    "collect": lambda tmp: ["--db", str(tmp / "c.db")],
    "flash": _flash_args,
}

Peer = Callable[[PtyLink, bytes], None]


def silent(link: PtyLink, chunk: bytes) -> None:
    """A kit that is switched off, or not reading."""


def foreign(link: PtyLink, chunk: bytes) -> None:
    """A modem or a console: it talks, never in frames."""
    link.send(b"AT OK\r\n" * 200)


def pulled(link: PtyLink, chunk: bytes) -> None:
    threading.Thread(target=link.close).start()  # not from the link's own thread


PEERS: dict[str, tuple[Peer, str]] = {
    "silent kit": (silent, "no answer on"),
    "foreign device": (foreign, "not a Jemput kit/tool"),
    "cable pulled": (pulled, "went away"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("peer", list(PEERS))
def test_a_link_failure_exits_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str, peer: str
) -> None:
    monkeypatch.setattr(p, "TIMEOUT", 0.5)
    inputs(tmp_path)
    Authority.init(tmp_path / "authority", name="t")
    answer, said = PEERS[peer]
    links: list[PtyLink] = []
    with PtyLink(lambda chunk: answer(links[0], chunk)) as link:
        links.append(link)
        args = [command, link.port, "--authority", str(tmp_path / "authority")]
        result = CliRunner().invoke(app, [*args, *COMMANDS[command](tmp_path)])
    assert result.exit_code == EXIT_PROBLEMS, result.output
    assert said in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_port_that_does_not_exist_exits_1(tmp_path: Path, command: str) -> None:
    inputs(tmp_path)
    Authority.init(tmp_path / "authority", name="t")
    port = str(tmp_path / "ttyACM9")
    args = [command, port, "--authority", str(tmp_path / "authority")]
    result = CliRunner().invoke(app, [*args, *COMMANDS[command](tmp_path)])
    assert result.exit_code == EXIT_PROBLEMS, result.output
    assert f"cannot open provisioning port {port}" in result.stderr


def test_a_silent_port_shows_a_live_countdown_and_counts_show_their_total() -> None:
    """The wait for a kit that never answers counts down on the line, redrawn as it runs;
    a count shows its total, never "None"."""
    shown = io.StringIO()
    console = Console(file=shown, force_terminal=True, width=100)
    with (
        PtyLink(lambda chunk: None) as silent_kit,
        KitProgress(console, Language.ID, "kit") as line,
    ):
        with WatchedPort(port=silent_kit.port, progress=line) as port, pytest.raises(LinkTimeout):
            port.receive(timeout=2.5)
        line.count(0, 15, RECORDS)
        time.sleep(0.3)  # a refresh of the line
    drawn = shown.getvalue()
    assert "menunggu jawaban kit: 1 s lagi" in drawn and "0 s lagi" in drawn
    assert "0/15 rekaman" in drawn and "None" not in drawn
