"""The register models and the panel's pins keep their latest history, not a whole day's
(on the Pi program's path they sit in the kit's own measured process)."""

from __future__ import annotations

from hw_sim.history import KEPT, trim
from hw_sim.max17048_emulator import MAX17048Model


def test_a_short_history_is_kept_whole_and_a_long_one_cut_to_its_latest() -> None:
    short = list(range(2 * KEPT))
    trim(short)
    assert short == list(range(2 * KEPT))
    long = list(range(2 * KEPT + 1))
    trim(long)
    assert long == list(range(KEPT + 1, 2 * KEPT + 1))


def test_a_register_model_remembers_its_latest_writes() -> None:
    gauge = MAX17048Model(percent=80.0)
    for number in range(2 * KEPT + 1):
        gauge.write(0x0C, bytes([number % 256, 0]))
    assert len(gauge.writes) == KEPT
    assert gauge.writes[-1] == (0x0C, bytes([(2 * KEPT) % 256, 0]))
