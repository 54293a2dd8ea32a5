"""The import rules of DESIGN.md, checked on every module's actual imports.

A driver that a capture module imports, or an emulator that reaches into storage, breaks
the promise that the simulator and the real kit run the same code; this test makes such a
change fail instead of slipping in.  The rule is per folder, one folder per program, and
docs/architecture.md draws the same table.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Which of our packages (or single modules) each package may import; every package may
#: also import `vocabulary`, the domain's shared words, which imports nothing.
ALLOWED: dict[str, tuple[str, ...]] = {
    # the simulator's programs: above the Pi program and the simulated world
    "simulator": ("firmware", "hw_sim", "capture", "storage", "hal", "kitlink"),
    # the Pi program: never the simulator, never the technician's tool
    "firmware": ("capture", "storage", "hal", "kitlink"),
    # the technician's and the office's tools: the records and the wire to the kit
    "provisioning": ("storage", "kitlink"),
    # the office desk: the district's facts, and the kit's card renderer and printer driver
    "office": ("provisioning", "capture.card", "hal", "storage", "kitlink"),
    "capture": ("storage", "hal.contracts", "hal.types", "hal.exc"),
    "hw_sim": ("hal.contracts", "hal.types", "hal.exc"),
    # the kit/tool wire protocol, which both ends import
    "kitlink": ("storage",),
    "hal": (),
    "storage": (),
    "vocabulary": (),
}
PACKAGES = tuple(ALLOWED)

#: What the Pi must never load: the simulator's code, its web server, the district's database.
NOT_ON_THE_PI = ("simulator", "hw_sim", "starlette", "uvicorn", "sqlalchemy", "psycopg")
#: What the kit loads only once it measures a photo or a finger, never to boot: OpenCV is
#: about 40 MB resident and a fifth of a second to import (docs/performance.md).
NOT_AT_BOOT = ("cv2",)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every name of ours that ``path`` imports: top level, in functions, TYPE_CHECKING."""
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
    if name.split(".")[0] in (package, "vocabulary"):
        return True
    for rule in ALLOWED[package]:
        if name == rule or name.startswith(rule + "."):
            return True
        # `from hal import types` names the module hal.types
        if "." in rule and name == rule.rsplit(".", 1)[0]:
            return True
    return False


def _module_files() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "micropython" not in path.relative_to(ROOT).parts  # MicroPython, never imported
    )


def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


@pytest.mark.parametrize("path", _module_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_imports_follow_the_design(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    bad = [f"line {line}: {name}" for line, name in _imports(path) if not _allowed(package, name)]
    assert not bad, f"{path.relative_to(ROOT)} imports what {package}/ may not: {bad}"


def test_rules_reject_what_the_design_forbids() -> None:
    assert not _allowed("capture", "hal.fingerprint")
    assert _allowed("capture", "hal.contracts")
    assert not _allowed("hw_sim", "storage.model")
    assert not _allowed("storage", "hal.types")
    assert _allowed("storage", "vocabulary.fingers") and _allowed("hal", "vocabulary.fingers")
    assert not _allowed("vocabulary", "hal.types") and not _allowed("vocabulary", "storage")
    assert not _allowed("firmware", "provisioning.collector")
    assert not _allowed("firmware", "hw_sim.wired") and not _allowed("firmware", "simulator.kit")
    assert _allowed("simulator", "hw_sim.wired") and _allowed("simulator", "firmware.host")
    assert _allowed("firmware", "kitlink.protocol") and _allowed("provisioning", "kitlink.framing")
    assert not _allowed("kitlink", "provisioning.client") and not _allowed("kitlink", "firmware")


def _graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (a name resolves to its longest module)."""
    modules = {_module_name(path): path for path in _module_files()}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    return {
        module: {
            target
            for _, name in _imports(path)
            if (target := resolve(name)) is not None and target != module
        }
        for module, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every set of modules that import each other, directly or in a loop (Tarjan's SCCs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # iterative, so a deep import chain cannot hit the recursion limit
        work: list[tuple[str, Iterable[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, targets = work[-1]
            advanced = False
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    work.append((target, iter(sorted(graph[target]))))
                    advanced = True
                    break
                if target in stack:
                    low[node] = min(low[node], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_two_modules_import_each_other_directly_or_in_a_loop() -> None:
    assert cycles(_graph()) == []


def test_the_cycle_check_sees_a_loop() -> None:
    loop = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(loop) == [["a", "b", "c"]]


def _loaded_after_importing(
    modules: Iterable[str], among: tuple[str, ...] = NOT_ON_THE_PI
) -> list[str]:
    """Which of ``among`` a fresh interpreter holds after importing ``modules``."""
    script = (
        "import importlib, sys\n"
        f"for name in {sorted(modules)!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return [name for name in ast.literal_eval(done.stdout) if name in among]


def test_the_pi_program_loads_neither_the_simulator_nor_web_nor_database() -> None:
    """A fresh interpreter imports every module of firmware/ (and jemput-kit's help): none
    of the simulator, starlette, uvicorn, SQLAlchemy or psycopg may end up loaded.

    The AST rule above sees only import statements; this sees what importing really pulls
    in, lazy imports at module level and re-exports included.
    """
    pi_program = [
        _module_name(p) for p in _module_files() if p.parts[len(ROOT.parts)] == "firmware"
    ]
    assert "firmware.pi" in pi_program and "firmware.port" in pi_program
    assert _loaded_after_importing(pi_program) == []


def test_the_kit_boots_without_opencv() -> None:
    """Every module of the Pi program and of the capture imports without OpenCV: the face
    and finger measures import it when they first measure."""
    kit = [
        _module_name(p)
        for p in _module_files()
        if p.parts[len(ROOT.parts)] in ("firmware", "capture")
    ]
    assert "capture.face_quality" in kit and "capture.minutiae" in kit
    assert _loaded_after_importing(kit, among=NOT_AT_BOOT) == []


def test_the_pi_check_sees_a_simulator_import() -> None:
    """The check itself: importing the simulator's kit does load hw_sim."""
    assert "hw_sim" in _loaded_after_importing(["simulator.kit"])
