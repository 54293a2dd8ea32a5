"""How long the co-processor waits for what, and where the battery thresholds are.

One module, so a kit's timings are read in one place (docs/devices/coprocessor.md gives
the reasons for each).  The simulator runs these same values on a virtual clock.
"""

from micropython import const

#: A running Pi silent this long (no heartbeat) is power-cycled.
HEARTBEAT_TIMEOUT_MS = const(60_000)
#: After power comes on, the Pi has this long to send its first heartbeat (boot, fsck).
BOOT_GRACE_MS = const(240_000)
#: While the Pi's last heartbeat said a seal is under way, it may be silent this long
#: before it is taken as hung: far longer than any seal, short enough to save the battery.
SEAL_GRACE_MS = const(300_000)
#: After the Pi says "halted", power stays on this long (the Pi's own halt finishes).
SHORT_DELAY_MS = const(10_000)
#: After a shutdown request that the Pi never answers with "halted", power is cut after this.
LONG_DELAY_MS = const(120_000)
#: How long power stays off in a watchdog power-cycle (the Pi's capacitors drain).
OFF_CYCLE_MS = const(5_000)
#: A button press held this long asks for a safe shutdown.
HOLD_MS = const(3_000)
#: The button's level must be steady this long to count (contact bounce).
DEBOUNCE_MS = const(30)

#: Battery thresholds in millivolts of the cell (one Li-ion cell, 3.0 .. 4.2 V).
LOW_MV = const(3_450)
CRITICAL_MV = const(3_300)
#: A level returns to a better one only this far above its threshold (no flapping).
HYSTERESIS_MV = const(80)
#: How many consecutive samples below a threshold change the level (a printer's surge
#: dips the cell for a moment, and must not shut the kit down).
LEVEL_SAMPLES = const(5)
#: How often the battery is sampled.
SAMPLE_MS = const(200)

#: The Pico's own watchdog: a firmware stuck this long resets the Pico (power stays on).
WDT_MS = const(5_000)
#: One pass of the main loop.
LOOP_MS = const(10)
