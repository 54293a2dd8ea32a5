"""Release bundles for the update tests: a certified release key, a small software tree,
the Pico's firmware of this checkout under another version, built as `jemput-prov release
build` builds them."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from kitlink.release import Bundle, Version
from provisioning import release as releasing
from storage.keys import Authority
from tests.pico.conftest import firmware_version

#: The kit's clock in the update tests: inside every certificate's window.
NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
#: The Pico firmware this checkout runs: a release carrying it changes nothing on the Pico.
PICO_NOW = firmware_version()


def release_key(tmp: Path, authority: Authority, name: str = "release") -> releasing.ReleaseFolder:
    folder = tmp / name
    releasing.keygen(folder, authority, name=f"{name} builder", years=2, now=NOW)
    return releasing.load_folder(folder)


def software(tmp: Path, version: str) -> Path:
    """A tree as `pip install --target` leaves it: a package that says its version."""
    tree = tmp / f"software-{version}"
    (tree / "jemput_probe").mkdir(parents=True)
    (tree / "jemput_probe" / "__init__.py").write_text(f"VERSION = {version!r}\n")
    (tree / "jemput_probe" / "data.bin").write_bytes(bytes(range(256)) * 3)
    return tree


def pico_firmware(tmp: Path, version: str) -> Path:
    """This checkout's Pico firmware, declaring ``version``."""
    folder = tmp / f"pico-{version}"
    folder.mkdir()
    for module in (Path(__file__).parents[2] / "pico_micropython").glob("*.py"):
        shutil.copyfile(module, folder / module.name)
    major, minor, patch = version.split(".")
    (folder / "version.py").write_text(
        f"MAJOR = {major}\nMINOR = {minor}\nPATCH = {patch}\nPROTOCOL = 1\n"
    )
    return folder


def bundle(
    tmp: Path, key: releasing.ReleaseFolder, version: str, *, pico: str | None = None
) -> Bundle:
    """The release of ``version`` (with the Pico's firmware of version ``pico``), built."""
    return releasing.build(
        tmp / f"jemput-{version}.bundle",
        key,
        version=Version.parse(version),
        software=[software(tmp, version)],
        pico=pico_firmware(tmp, pico) if pico else None,
        now=NOW,
    )
