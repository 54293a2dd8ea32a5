"""`make district` where `make run` has run: the cluster in var/pg starts and prints its URL.

`make run` makes ``var/`` private (0700) for the kit's data; as root (CI, a technician's
Pi image) the PostgreSQL server runs as ``postgres`` and must pass through it.  Run
exactly as the Makefile runs it, in a folder laid out as a fresh clone after `make run`.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from firmware.cli import PRIVATE_UMASK
from firmware.config import KitConfig, prepare_data_dir


def district(checkout: Path, verb: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioning.district.server", verb, "var/pg"],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )


@pytest.fixture
def checkout() -> Iterator[Path]:
    """A clone's folder under /tmp (pytest's own tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="jemput-clone-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_make_district_runs_where_make_run_made_var_private(checkout: Path) -> None:
    before = os.umask(PRIVATE_UMASK)  # as jemput-kit does when `make run` starts it
    try:
        prepare_data_dir(KitConfig(data_dir=checkout / "var" / "kit"))
    finally:
        os.umask(before)
    assert stat.S_IMODE((checkout / "var").stat().st_mode) == 0o700

    started = district(checkout, "start")
    try:
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()
        assert url.startswith("postgresql://") and str(checkout / "var" / "pg") in url
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
        var_mode = stat.S_IMODE((checkout / "var").stat().st_mode)
        assert var_mode & 0o077 in (0, 0o001), "others may pass through var/, never list it"
        assert stat.S_IMODE((checkout / "var" / "kit").stat().st_mode) == 0o700
    finally:
        district(checkout, "stop")
