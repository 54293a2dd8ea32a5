"""An outreach day end to end, through the real entry points, each in its own process.

authority init -> a simulated kit served on a pty -> flash -> the kit goes to the village
(a demo day on it) -> back on the cable -> collect (twice) -> verify -> report.  The
report's numbers must be what the day did.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from simulator.kit import demo_world, resident_of
from storage.worklist import write_worklist

PEOPLE = 5


def jemput(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    module = "firmware.cli" if args[0] == "kit" else "provisioning.cli"
    return subprocess.run(
        [sys.executable, "-m", module, *args[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


class ServedKit:
    """`jemput-kit sim headless` with its port linked at ``link``, until closed."""

    def __init__(self, folder: Path) -> None:
        self.link = folder / "port.lnk"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "firmware.cli",
                "sim",
                "headless",
                "--data-dir",
                "kit",
                "--port-link",
                str(self.link),
            ],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        try:
            while not self.link.exists():
                assert self.process.poll() is None, self.process.stdout.read()
                assert time.monotonic() < deadline, "the kit never linked its port"
                time.sleep(0.1)
        except BaseException:
            self.process.kill()  # a kit that never linked its port must not outlive the test
            self.process.wait(timeout=30)
            raise

    def __enter__(self) -> ServedKit:
        return self

    def __exit__(self, *_: object) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        assert not self.link.exists(), "the kit removes its link when it stops"


def test_an_outreach_day_from_flash_to_report(tmp_path: Path) -> None:
    write_worklist([resident_of(p) for p in demo_world(1).residents[:12]], tmp_path / "list.csv")
    (tmp_path / "officers.csv").write_text(
        "id,name,role,pin\nOFF-1,RINA,officer,111111\nSPV-1,BUDI,supervisor,222222\n"
    )
    (tmp_path / "policy.toml").write_text("print_on_site = true\n")
    run = lambda *args: jemput(*args, cwd=tmp_path)  # noqa: E731

    made = run("prov", "authority", "init", "auth")
    assert made.returncode == 0 and (tmp_path / "auth" / "signing.key").exists()
    with ServedKit(tmp_path) as kit:
        flashed = run(
            "prov",
            "flash",
            str(kit.link),
            "--authority",
            "auth",
            "--kit-id",
            "KIT-7",
            "--region",
            "3505",
            "--officers",
            "officers.csv",
            "--worklist",
            "list.csv",
            "--policy",
            "policy.toml",
            "--cards",
            "B3505-25A:1-3",
        )
        assert flashed.returncode == 0, flashed.stderr + flashed.stdout
        assert "flashed kit KIT-7" in flashed.stdout

    day = run(
        "kit",
        "sim",
        "demo",
        "--data-dir",
        "kit",
        "--people",
        str(PEOPLE),
        "--officer",
        "OFF-1:111111",
        "--doubles",
    )
    assert day.returncode == 0, day.stdout + day.stderr
    sealed = [line for line in day.stdout.splitlines() if "sealed #" in line]
    assert len(sealed) == PEOPLE

    with ServedKit(tmp_path) as kit:
        first = run("prov", "collect", str(kit.link), "--authority", "auth", "--db", "c.db")
        assert first.returncode == 0, first.stdout + first.stderr
        assert f"{PEOPLE} new record(s)" in first.stdout
        second = run("prov", "collect", str(kit.link), "--authority", "auth", "--db", "c.db")
        assert second.returncode == 0, second.stdout + second.stderr
        assert "0 new record(s)" in second.stdout

    verified = run("prov", "verify", "c.db", "--authority", "auth")
    assert verified.returncode == 0 and f"all {PEOPLE} record(s)" in verified.stdout
    report = run(
        "prov",
        "report",
        "--db",
        "c.db",
        "--authority",
        "auth",
        "--worklist",
        "list.csv",
        "--format",
        "json",
    )
    assert report.returncode == 0, report.stderr
    overall = next(row for row in json.loads(report.stdout) if row["scope"] == "overall")

    walk_ins = sum("(walk-in)" in line for line in sealed)
    # the outcome column, before the record's kind and purpose: "card" or "slip"
    cards = sum(re.search(r"\scard\s", line) is not None for line in sealed)
    excepted = sum(not re.search(r"exceptions -\s", line) for line in sealed)
    assert overall["recorded"] == PEOPLE - walk_ins, "walk-ins count apart, as the district's"
    assert overall["walk_ins"] == walk_ins == 1
    assert overall["printed"] == cards == 3, "three blank cards were loaded at flash"
    assert overall["excepted"] == excepted
    assert overall["registered"] == 12
    assert overall["missing"] == 12 - (PEOPLE - walk_ins)
