"""The whole suite's emulators run fast: the timing model has its own deterministic tests.

Set before any emulator is made, and inherited by the kit processes tests start, so a
wire test checks the protocol rather than waiting out 115200 baud.
"""

import os

from hw_sim.timing import TIMING_VARIABLE

os.environ.setdefault(TIMING_VARIABLE, "fast")
