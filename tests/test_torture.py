"""A few rounds of the crash torture in the suite; `make torture N=200` runs it long."""

from __future__ import annotations

from pathlib import Path

from tests.torture import KitHistory, TortureFailure, check, run_demo, torture


def test_killing_the_kit_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    lines: list[str] = []
    torture(4, seed=11, root=tmp_path, say=lines.append)
    assert len(lines) == 4
    assert lines[-1].startswith("[4/4] finished")


def test_the_checks_catch_a_record_deleted_after_it_was_reported(tmp_path: Path) -> None:
    history = KitHistory(tmp_path / "kit")
    reported, code = run_demo(history.data_dir, kill_after=None, seed=1)
    assert code == 0 and reported == {1, 2, 3}
    history.reported = reported
    check(history, finished=True)

    (history.data_dir / "records" / "00000003.cose").unlink()
    try:
        check(history, finished=True)
    except TortureFailure as failure:
        assert "00000003" in str(failure)  # boot names the missing file as damaged
    else:
        raise AssertionError("a deleted record went unnoticed")
