"""The import rules of DESIGN.md, checked on every module's actual imports.

A driver that a capture module imports, or an emulator that reaches into storage, breaks
the promise that the simulator and the real kit run the same code; this test makes such a
change fail instead of slipping in.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("firmware", "capture", "storage", "hal", "hw_sim", "provisioning", "vocabulary")

#: Which of our packages (or single modules) each package may import.
ALLOWED: dict[str, tuple[str, ...]] = {
    # the kit side of provisioning speaks only the shared wire protocol
    "firmware": (
        "firmware",
        "capture",
        "storage",
        "hal",
        "provisioning.protocol",
        "provisioning.framing",
    ),
    "capture": ("capture", "storage", "hal.contracts", "hal.types", "hal.exc"),
    "provisioning": ("provisioning", "storage"),
    "hw_sim": ("hw_sim", "hal.contracts", "hal.types", "hal.exc"),
    "hal": ("hal",),
    "storage": ("storage",),
    # the domain's shared words (finger positions): importable by all, importing nothing
    "vocabulary": ("vocabulary",),
}
for _package in ALLOWED:
    ALLOWED[_package] += ("vocabulary",)


#: The simulator's modules of `firmware`: the only ones that may import `hw_sim`.
SIMULATOR_MODULES = frozenset(
    {
        "firmware/sim.py",
        "firmware/sim_hardware.py",
        "firmware/sim_power.py",
        "firmware/headless.py",
        "firmware/demo.py",
        "firmware/terminal.py",
    }
)
#: Whole packages of `firmware` that are the simulator's (the browser kit).
SIMULATOR_PACKAGES = ("firmware/web/",)
#: What the Pi runs: importing these must load nothing of `hw_sim`.
PI_PATH = ("firmware.cli", "firmware.pi", "firmware.host", "firmware.port", "firmware.hardware")


def _our_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [(node.lineno, name) for name in names if name.split(".")[0] in PACKAGES]
    return found


def _allowed(package: str, name: str, module: str = "") -> bool:
    if package == "firmware" and name.split(".")[0] == "hw_sim":
        return module in SIMULATOR_MODULES or module.startswith(SIMULATOR_PACKAGES)
    for rule in ALLOWED[package]:
        if name == rule or name.startswith(rule + "."):
            return True
        # `from hal import types` names the module hal.types
        if "." in rule and name == rule.rsplit(".", 1)[0]:
            return True
    return False


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_imports_follow_the_design(path: Path) -> None:
    module = path.relative_to(ROOT).as_posix()
    package = path.relative_to(ROOT).parts[0]
    bad = [
        f"line {line}: {name}"
        for line, name in _our_imports(path)
        if not _allowed(package, name, module)
    ]
    assert not bad, f"{path.relative_to(ROOT)} imports what {package}/ may not: {bad}"


def test_rules_reject_a_driver_import_from_capture() -> None:
    assert not _allowed("capture", "hal.fingerprint")
    assert _allowed("capture", "hal.contracts")
    assert not _allowed("hw_sim", "storage.model")
    assert not _allowed("storage", "hal.types")
    assert _allowed("storage", "vocabulary.fingers") and _allowed("hal", "vocabulary.fingers")
    assert not _allowed("vocabulary", "hal.types") and not _allowed("vocabulary", "storage")
    assert not _allowed("firmware", "provisioning.collector")
    assert not _allowed("firmware", "hw_sim.wired", "firmware/pi.py")
    assert _allowed("firmware", "hw_sim.wired", "firmware/sim_hardware.py")


def test_the_pi_path_imports_nothing_of_the_simulator() -> None:
    """A fresh interpreter imports what the Pi runs; no module of hw_sim may be loaded.

    The AST rule above sees only import statements; this sees what importing really
    pulls in, lazy imports at module level and re-exports included.
    """
    script = (
        "import importlib, sys\n"
        f"for name in {PI_PATH!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'hw_sim' or m.startswith('hw_sim.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"the Pi path loads the simulator: {done.stdout}"


def test_the_pi_path_check_sees_a_simulator_import() -> None:
    """The check itself: importing a simulator module does show hw_sim in sys.modules."""
    script = "import sys, firmware.sim; print('hw_sim.world' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "True", done.stderr
