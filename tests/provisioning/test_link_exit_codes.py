"""Every link failure of every kit command exits 1 with one line, as docs/provisioning.md says.

The peers are real ptys: nobody answering, a device that talks but is no kit, a cable
pulled at the first byte; and a port path that does not exist.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hw_sim.link import PtyLink
from kitlink import protocol as p
from provisioning.cli import EXIT_PROBLEMS, app
from storage.keys import Authority
from tests.provisioning.kit_bench import inputs


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
