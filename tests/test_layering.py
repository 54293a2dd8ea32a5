"""The import rules of DESIGN.md, checked on every module's actual imports.

A driver that a capture module imports, or an emulator that reaches into storage, breaks
the promise that the simulator and the real kit run the same code; this test makes such a
change fail instead of slipping in.
"""

from __future__ import annotations

import ast
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
        "hw_sim",
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


def _allowed(package: str, name: str) -> bool:
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
    package = path.relative_to(ROOT).parts[0]
    bad = [
        f"line {line}: {name}" for line, name in _our_imports(path) if not _allowed(package, name)
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
