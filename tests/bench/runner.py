"""Run the registered benchmarks, print one table, write bench/results.json."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import tests.bench
from tests.bench.core import REGISTRY, Row, Run

#: The table's order: the issue's rows first, then any other in the order registered.
ORDER = ("person", "seal", "verify", "collect", "boot", "memory")
#: Benchmarks of a child's peak memory run before the others, while this process is small:
#: a child's ``ru_maxrss`` starts at its parent's resident set at the fork (Linux carries
#: the old memory's high-water mark across the exec), so once this process had grown, every
#: such row read its size instead (a whole run gave 50 and 500 people the same 222 MB).
MEMORY_FIRST = ("memory", "flash", "pi-memory")
#: Modules of the package that hold no benchmarks.
_NOT_BENCHMARKS = {"core", "runner", "records", "__main__"}
RESULTS = Path("bench/results.json")


def load_all() -> None:
    """Import every benchmark module of the package, so their rows register."""
    for module in pkgutil.iter_modules(tests.bench.__path__):
        if module.name not in _NOT_BENCHMARKS and not module.name.startswith("_"):
            importlib.import_module(f"tests.bench.{module.name}")


def machine() -> dict[str, object]:
    """Where the figures came from: they mean little without it."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith(("model name", "Model")):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def run_all(run: Run, only: list[str] | None = None) -> list[Row]:
    load_all()
    unknown = set(only or ()) - set(REGISTRY)
    if unknown:
        raise SystemExit(f"no benchmark {', '.join(sorted(unknown))}; valid: {', '.join(REGISTRY)}")
    names = [n for n in ORDER if n in REGISTRY] + [n for n in REGISTRY if n not in ORDER]
    chosen = [n for n in names if not only or n in only]
    rows: dict[str, list[Row]] = {}
    for name in sorted(chosen, key=lambda n: n not in MEMORY_FIRST):
        start = time.monotonic()
        print(f"-- {name} ...", file=sys.stderr, flush=True)
        rows[name] = REGISTRY[name](run)
        print(f"   {name}: {time.monotonic() - start:.1f} s", file=sys.stderr, flush=True)
    return [row for name in chosen for row in rows[name]]


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def table(rows: list[Row]) -> str:
    """The rows as one aligned text table."""
    header = ("benchmark", "figure", "unit", "baseline", "ratio", "goal", "met")
    lines = [header]
    for row in rows:
        met = {True: "yes", False: "NO", None: "-"}[row.met]
        lines.append(
            (
                row.name,
                _number(row.figure),
                row.unit,
                f"{_number(row.baseline)} ({row.baseline_name})" if row.baseline_name else "-",
                _number(row.ratio),
                str(row.goal),
                met,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    rendered = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(rendered)


def write_results(rows: list[Row], path: Path, *, tiny: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "tiny": tiny,
        "rows": [row.as_json() for row in rows],
    }
    path.write_text(json.dumps(results, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (what the test runs)")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this one")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"default {RESULTS}")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="jemput-bench-") as folder:
        rows = run_all(Run(Path(folder), tiny=args.tiny), args.only)
    print(table(rows))
    write_results(rows, args.out, tiny=args.tiny)
    print(f"\nwrote {args.out} ({time.monotonic() - started:.0f} s)")
