"""Every benchmark of ``make bench`` runs once at a tiny size, so none can rot unseen.

No figure is judged here (speed is for ``make bench``, as ratios): the test checks that
each benchmark produces its rows, with figures and baselines that are real measurements,
and that the runner writes the results file the table shows.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.bench import runner
from tests.bench.core import REGISTRY, Goal, Ratio, Row, Run

#: The first test sets up every benchmark at its tiny size (the module's fixture): two
#: kits' boots, demos and the Pi program's processes, PostgreSQL; minutes on a busy machine.
pytestmark = pytest.mark.timeout(900)

#: The rows issue 20 asks for, by benchmark.
EXPECTED = {"person", "seal", "verify", "collect", "boot", "memory", "duplicates", "pi-memory"}


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[Row]:
    return runner.run_all(Run(tmp_path_factory.mktemp("bench"), tiny=True))


def test_every_benchmark_of_the_issue_is_registered_and_gives_rows(rows: list[Row]) -> None:
    assert set(REGISTRY) >= EXPECTED
    assert {row.benchmark for row in rows} == set(REGISTRY)


def test_figures_and_baselines_are_measurements(rows: list[Row]) -> None:
    for row in rows:
        assert math.isfinite(row.figure) and row.figure > 0, row
        if row.baseline is not None:
            assert math.isfinite(row.baseline) and row.baseline >= 0, row
        judged_by_ratio = row.goal.ratio_max is not None or row.goal.ratio_min is not None
        if judged_by_ratio:  # a goal on the ratio needs a real baseline to divide by
            assert row.baseline and row.ratio is not None and row.ratio > 0, row


def test_the_person_is_timed_step_by_step_against_the_link_floors(rows: list[Row]) -> None:
    steps = {
        row.name.removeprefix("person: "): row for row in rows if row.name.startswith("person: ")
    }
    assert {"face", "signature", "review", "seal", "print", "all steps"} <= set(steps)
    assert [f"finger {n}" for n in range(1, 11)] == [s for s in steps if s.startswith("finger")]
    # a finger's floor is at least its 4-bit image at 115200 baud, 8N1
    image_seconds = 256 * 288 // 2 * 10 / 115200
    assert all(steps[f"finger {n}"].baseline > image_seconds for n in range(1, 11))
    floors = [row.baseline or 0.0 for name, row in steps.items() if name != "all steps"]
    assert steps["all steps"].baseline == pytest.approx(sum(floors))
    hour = {row.name: row for row in rows if row.name.startswith("people per hour")}
    assert set(hour) == {"people per hour: sequential floor", "people per hour per kit"}
    # the kit's figure is measured against the sequential floor, side by side
    kit, floor = hour["people per hour per kit"], hour["people per hour: sequential floor"]
    assert kit.baseline == floor.figure


def test_the_table_and_the_results_file_hold_every_row(rows: list[Row], tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    runner.write_results(rows, out, tiny=True)
    saved = json.loads(out.read_text())
    assert [row["name"] for row in saved["rows"]] == [row.name for row in rows]
    assert saved["machine"]["cores"] and saved["tiny"] is True
    table = runner.table(rows)
    for row in rows:
        assert row.name in table


def test_goals_judge_the_ratio_the_right_way_round() -> None:
    cost = Row("x", "cost", 3.0, "s", 2.0, "floor", Goal(ratio_max=1.5))
    slower = Row(
        "x", "rate", 50.0, "/s", 100.0, "floor", Goal(ratio_max=1.3), ratio_kind=Ratio.SLOWDOWN
    )
    rate = Row("x", "rate", 90.0, "B/s", 100.0, "raw", Goal(ratio_min=0.8))
    budget = Row("x", "rss", 130.0, "MB", 100.0, "50", Goal(ratio_max=1.1, figure_max=120))
    assert (cost.ratio, cost.met) == (1.5, True)
    assert (slower.ratio, slower.met) == (2.0, False)
    assert (rate.ratio, rate.met) == (0.9, True)
    assert budget.met is False  # 1.3 x and over the budget
    hour = Row("x", "people/h", 17.5, "people/h", 15.0, "floor", Goal(ratio_min=1, figure_min=18))
    assert (hour.met, str(hour.goal)) == (False, "ratio >= 1, >= 18")


def test_the_district_rows_time_sync_and_report_against_same_run_baselines(
    rows: list[Row],
) -> None:
    district = {row.name.split()[1]: row for row in rows if row.benchmark == "district"}
    assert set(district) == {"sync", "report"}
    assert district["sync"].goal == Goal(ratio_max=1.25)
    assert "3 records" in district["sync"].name, "the tiny run syncs a chain of 3"
    assert district["report"].baseline_name == "a bare GROUP BY joining the same rows"


def test_the_duplicate_check_finds_every_own_finger_and_no_stranger(rows: list[Row]) -> None:
    """At the tiny size too, the simulator's fingers are told apart at the sensor's threshold."""
    checks = [row for row in rows if row.benchmark == "duplicates" and row.unit == "%"]
    assert len(checks) == 2 and all(row.figure == 100.0 for row in checks), checks


def test_the_pi_programs_memory_is_its_own_and_judged_against_the_smaller_day(
    rows: list[Row],
) -> None:
    """Two runs of the Pi program's process (the emulators in another process): the
    larger judged against the smaller, both against the budget."""
    small, large = [row for row in rows if row.benchmark == "pi-memory"]
    assert "2 people" in small.name and "4 people" in large.name
    assert small.goal == Goal(figure_max=120.0) and small.baseline is None
    assert large.goal == Goal(ratio_max=1.05, figure_max=120.0)
    assert large.baseline == small.figure and large.unit == small.unit == "MB"
