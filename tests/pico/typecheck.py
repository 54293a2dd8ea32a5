"""``make lint-pico``: type-check the Pico's firmware against the MicroPython stubs.

The firmware is MicroPython, not CPython: it is checked against
``micropython-rp2-rpi-pico-stubs`` (``machine``, ``time``, ``micropython`` of the RP2040
port) and ``micropython-stdlib-stubs`` (MicroPython's reduced standard library) instead
of the CPython typeshed.  Both install their stub files at the top of site-packages, next
to everything else, so they are gathered into one typeshed folder of their own first:
the standard library stubs as they come, the RP2040 port's modules beside them and named
in its VERSIONS (mypy must not see CPython's site-packages while checking Pico code, and
the stubs' own lapses are not ours to report).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sys
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "pico_micropython"
#: The boot stub and its shared module: the root of a Pico's flash, beside the slots.
BOOT = FIRMWARE / "boot"
TYPINGS = ROOT / ".venv" / "pico-typings"
STDLIB_STUBS = "micropython-stdlib-stubs"
PORT_STUBS = "micropython-rp2-rpi-pico-stubs"


def _stub_files(name: str) -> list[importlib.metadata.PackagePath]:
    files = importlib.metadata.distribution(name).files or []
    return [file for file in files if file.suffix == ".pyi" or file.name == "VERSIONS"]


def gather_stubs(target: Path) -> Path:
    """A typeshed folder at ``target``: MicroPython's stdlib stubs, and beside them (named in
    VERSIONS) the modules both distributions put at the top of site-packages."""
    shutil.rmtree(target, ignore_errors=True)
    stdlib = target / "stdlib"
    top_level: set[str] = set()
    for name in (STDLIB_STUBS, PORT_STUBS):
        for file in _stub_files(name):
            inside = file.parts[0] in ("stdlib", "stubs")  # typeshed's own layout
            destination = target / file if inside else stdlib / file
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file.locate(), destination)
            if not inside:
                top_level.add(file.parts[0].removesuffix(".pyi"))
    with (stdlib / "VERSIONS").open("a", encoding="utf-8") as versions:
        versions.writelines(f"{module}: 3.0-\n" for module in sorted(top_level))
    return target


def main() -> int:
    typings = gather_stubs(TYPINGS)
    # the firmware's modules import each other, and the boot stub's, bare
    os.environ["MYPYPATH"] = os.pathsep.join((str(FIRMWARE), str(BOOT)))
    stdout, stderr, status = api.run(
        [
            "--strict",
            "--no-site-packages",
            "--explicit-package-bases",
            "--follow-imports=silent",  # the stubs' own lapses are not ours to fix
            "--custom-typeshed-dir",
            str(typings),
            "--cache-dir",
            str(ROOT / ".venv" / "pico-mypy-cache"),
            *sorted(str(path) for folder in (FIRMWARE, BOOT) for path in folder.glob("*.py*")),
        ]
    )
    sys.stdout.write(stdout)
    sys.stderr.write(stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
