"""The capture package's shape: modules that import alone and without cycles, state names
only in the machine's declaration, one step per state, no transition sent from ``enter``,
and the diagram in the docs that is the machine.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from capture import machine, registry
from capture.draft import Draft
from capture.machine import CaptureEvent, CaptureMachine, CaptureState
from capture.prompts import CATALOGUE

ROOT = Path(__file__).parents[2]
CAPTURE = ROOT / "capture"
DOC = ROOT / "docs" / "capture-states.md"
MODULES = sorted(f"capture.{path.stem}" for path in CAPTURE.glob("*.py") if path.stem != "__init__")
#: The packages that drive the machine, where a state could be named.
DRIVERS = ("capture", "firmware")
#: Calls whose first argument names a prompt of the catalogue, not a state.
PROMPT_LOOKUPS = frozenset(
    {"text", "word", "say", "prompt", "heading", "opens_with", "Refusal", "to_person"}
)
STATE_NAMES = frozenset(state.value for state in CaptureState)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"import {module} alone failed:\n{done.stderr}"


def _capture_imports(path: Path) -> set[str]:
    """The capture modules ``path`` imports, at the top or anywhere else."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("capture"):
            found.add(node.module)
            found.update(f"capture.{a.name}" for a in node.names if f"capture.{a.name}" in MODULES)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("capture."))
    return found & set(MODULES)


def test_the_capture_modules_import_one_another_without_a_cycle() -> None:
    graph = {f"capture.{p.stem}": _capture_imports(p) for p in CAPTURE.glob("*.py")}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            visit(imported, (*path, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_the_steps_import_the_base_and_never_the_controller_or_the_registry() -> None:
    for path in CAPTURE.glob("*_steps.py"):
        imported = _capture_imports(path)
        assert "capture.base" in imported, path.name
        assert not imported & {"capture.controller", "capture.registry"}, path.name
        assert not {m for m in imported if m.endswith("_steps")}, f"{path.name} imports a step"


def test_the_controller_imports_the_registry_at_the_top() -> None:
    tree = ast.parse((CAPTURE / "controller.py").read_text(encoding="utf-8"))
    top = {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert "capture.registry" in top


def _prompt_keys(tree: ast.AST) -> set[int]:
    """ids of the string nodes that name a prompt: a lookup's key, ``PROMPT =``, the catalogue."""
    keys: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "CATALOGUE":
            assert isinstance(node.value, ast.Dict)
            keys.update(id(key) for key in node.value.keys)
        if isinstance(node, ast.Call) and node.args:
            called = node.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            if name in PROMPT_LOOKUPS:
                keys.add(id(node.args[0]))
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "PROMPT" for t in node.targets
        ):
            keys.add(id(node.value))
    return keys


def _field_names(tree: ast.AST) -> set[int]:
    """ids of the string nodes that name a field of a map (a journal's "fingers"), not a state."""
    fields: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            fields.update(id(key) for key in node.keys if key is not None)
        elif isinstance(node, ast.Subscript):
            fields.add(id(node.slice))
    return fields


def _python_files() -> list[Path]:
    return [
        path
        for package in DRIVERS
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != CAPTURE / "machine.py" and "pico" not in path.parts
    ]


def test_no_state_is_named_by_a_string_outside_the_machine() -> None:
    found = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        other_names = _prompt_keys(tree) | _field_names(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and node.value in STATE_NAMES
                and id(node) not in other_names
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not found, "name states by CaptureState, not by string:\n" + "\n".join(found)


def test_only_the_draft_changes_its_fields() -> None:
    """A draft changes through its methods, named for what happened: no other module of the
    kit's programs assigns one of its fields (its collections are typed read-only)."""
    fields = {f.name for f in dataclasses.fields(Draft)}
    found = []
    for package in (*DRIVERS, "simulator"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == CAPTURE / "draft.py" or "micropython" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else [node.target]
                    if isinstance(node, (ast.AugAssign, ast.AnnAssign))
                    else []
                )
                found += [
                    f"{path.relative_to(ROOT)}:{node.lineno} .{target.attr}"
                    for target in targets
                    if isinstance(target, ast.Attribute)
                    and target.attr in fields
                    and not (isinstance(target.value, ast.Name) and target.value.id == "self")
                ]
    assert not found, "change a draft through its methods:\n" + "\n".join(found)


def test_every_prompt_a_step_asks_for_is_in_the_catalogue() -> None:
    missing = []
    for path in sorted(CAPTURE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        keys = _prompt_keys(tree)
        for node in ast.walk(tree):
            if id(node) in keys and isinstance(node, ast.Constant) and node.value not in CATALOGUE:
                missing.append(f"{path.name}:{node.lineno} {node.value!r}")
    assert not missing, "prompts not in the catalogue:\n" + "\n".join(missing)


def test_no_enter_sends_an_event_it_must_follow() -> None:
    for path in sorted(CAPTURE.glob("*_steps.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef) and function.name == "enter":
                calls = [
                    node.func.attr
                    for node in ast.walk(function)
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                ]
                assert "go" not in calls, f"{path.name}:{function.lineno} enter() calls go()"


def test_the_enums_are_the_machine() -> None:
    assert {state.value for state in CaptureMachine.states} == set(CaptureState)
    events = {e.id for s in CaptureMachine.states for t in s.transitions for e in t.events}
    assert events == set(CaptureEvent)


def test_every_state_has_one_step() -> None:
    assert set(registry.STEPS) == set(CaptureState)


def test_the_sets_of_states_are_read_off_the_transitions() -> None:
    assert {
        source for source, event, _ in machine.declared_transitions() if event is CaptureEvent.LOCK
    } == machine.LOCKABLE
    assert machine.LOCKABLE.isdisjoint(
        {CaptureState.SEALING, CaptureState.PRINTING, CaptureState.BOOT}
    )
    assert {
        CaptureState.CONFIRM_PERSON,
        CaptureState.NOTICE,
        CaptureState.GUARDIAN,
        CaptureState.NEEDS,
        CaptureState.FACE,
        CaptureState.FINGERS,
        CaptureState.FINGER_EXCEPTION,
        CaptureState.SIGNATURE,
        CaptureState.SIGNATURE_EXCEPTION,
        CaptureState.REVIEW,
        CaptureState.CORRECTION,
    } == machine.CAPTURE_STATES
    waits = set(CaptureState) - machine.POWER_OFF_AT_ONCE
    assert waits == {
        CaptureState.BOOT,
        CaptureState.SELF_TEST,
        CaptureState.SEALING,
        CaptureState.PRINTING,
        CaptureState.SAFE_SHUTDOWN,
    }


def test_the_diagram_in_the_docs_is_the_machine() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"```mermaid\n(.*?)```", text, re.DOTALL)
    assert found is not None, f"{DOC} has no mermaid block"
    assert found.group(1).strip() == f"{CaptureMachine:mermaid}".strip(), (
        f"{DOC} is out of date: regenerate it as it says"
    )
