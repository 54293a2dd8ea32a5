"""The terminal front panel: keys become the kit's buttons, the frame shows the display."""

from __future__ import annotations

import os
import threading

from hal.types import Button, Indicator, Press
from simulator.tui import PowerButton, TerminalUI, decode_keys, render


def test_arrow_keys_enter_backspace_and_hold_key_map_to_buttons() -> None:
    keys = list(decode_keys(b"\x1b[A\x1b[B\r\x7fx"))
    assert keys == [
        (Button.UP, Press.SHORT),
        (Button.DOWN, Press.SHORT),
        (Button.OK, Press.SHORT),
        (Button.BACK, Press.SHORT),
        (Button.BACK, Press.HOLD),
    ]


def test_p_presses_and_capital_p_holds_the_power_button_not_a_panel_button() -> None:
    assert list(decode_keys(b"pP")) == [
        (PowerButton.POWER, Press.SHORT),
        (PowerButton.POWER, Press.HOLD),
    ]


def test_unknown_bytes_are_skipped_and_q_quits() -> None:
    assert list(decode_keys(b"\x1b[Z?q")) == [None]


def test_frame_clips_lines_to_the_display_and_pads_to_four() -> None:
    frame = render(
        ["SIAP", "x" * 40], columns=21, indicator=Indicator.READY, facts=["Di depan kit: -"]
    )
    box = [line for line in frame.split("\r\n") if line.startswith("│")]
    assert len(box) == 4
    assert box[1] == "│ " + "x" * 21 + " │"
    assert "Di depan kit: -" in frame
    assert "ready" in frame


def test_ui_feeds_presses_until_quit() -> None:
    read_fd, write_fd = os.pipe()
    presses: list[tuple[Button, Press]] = []
    stop = threading.Event()
    written: list[str] = []

    class Sink:
        def write(self, text: str) -> None:
            written.append(text)

        def flush(self) -> None:
            pass

    with os.fdopen(read_fd, "r") as stdin:
        ui = TerminalUI(
            frame=lambda: "frame",
            press=lambda button, press: presses.append((button, press)),
            stop=stop,
            stdin=stdin,
            stdout=Sink(),  # type: ignore[arg-type]
        )
        os.write(write_fd, b"k\rq")
        thread = threading.Thread(target=ui.run)
        thread.start()
        thread.join(timeout=5)
        os.close(write_fd)
    assert not thread.is_alive()
    assert presses == [(Button.UP, Press.SHORT), (Button.OK, Press.SHORT)]
    assert stop.is_set()
    assert written[0] == "frame"
