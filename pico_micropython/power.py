"""The Pi's power: when it is switched on, cut, or power-cycled, and why.

States (numbers are what STATUS reports)::

    OFF --button press (battery not critical)--> BOOTING
    BOOTING --first heartbeat--> RUNNING
    BOOTING --no heartbeat in BOOT_GRACE_MS--> CYCLING (watchdog)
    RUNNING --silent HEARTBEAT_TIMEOUT_MS (SEAL_GRACE_MS while sealing)--> CYCLING
    BOOTING, RUNNING --button held / battery critical--> REQUESTED (the Pi is asked)
    REQUESTED --LONG_DELAY_MS without "halted", not sealing--> OFF
    any powered state --"halted"--> HALTING --SHORT_DELAY_MS--> OFF
    CYCLING --OFF_CYCLE_MS--> BOOTING

Once asked, a Pi that goes quiet is not power-cycled: it may be halting without having
managed to say so, and the long delay is its time to finish.

The rule above all others: power is never cut while the Pi's last heartbeat said a seal
is under way and the Pi is still heartbeating (a seal may take the Pi's loop away for at
most SEAL_GRACE_MS; a Pi silent longer is hung, and the store's write protocol makes the
cut safe).
"""

import time

from machine import Pin
from micropython import const

import battery
import button
import config

#: MicroPython has no typing module; mypy takes this name as true, the Pico as false.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ticks import Ticks

OFF = const(0)
BOOTING = const(1)
RUNNING = const(2)
REQUESTED = const(3)
HALTING = const(4)
CYCLING = const(5)

# Why the Pi is asked to shut down (STATUS "request").
NO_REQUEST = const(0)
REQUEST_BUTTON = const(1)
REQUEST_BATTERY = const(2)

# Why power was last cut (INFO "last cut").
CUT_NONE = const(0)
CUT_HALTED = const(1)
CUT_LONG_DELAY = const(2)
CUT_WATCHDOG = const(3)
CUT_BOOT_TIMEOUT = const(4)

#: STATUS "events" bit: the button was pressed (the Pi shows the battery); cleared on read.
EVENT_PRESSED = const(0x01)
#: STATUS "events" bit: the Pico reset since the Pi last read STATUS.
EVENT_PICO_RESET = const(0x02)

_NO_DEADLINE = const(-1)


class PowerLogic:
    """Decides the power switch from heartbeats, the button, the battery and the clock."""

    def __init__(self, switch: Pin, now: "Ticks", level: int) -> None:
        self._switch = switch
        # The switch's pull-up kept the Pi powered through the Pico's own reset, so the
        # Pi may be running: give it the boot grace to say so, whatever the reset was.
        self.state = BOOTING
        self.request = NO_REQUEST
        self.last_cut = CUT_NONE
        self.events = EVENT_PICO_RESET
        self.sealing = False
        self._heard = False
        self._since = now
        self._last_heartbeat = now
        self._switch.value(1)
        if level == battery.CRITICAL:
            self._ask(REQUEST_BATTERY, now)

    @property
    def powered(self) -> bool:
        return self.state not in (OFF, CYCLING)

    # -- what the Pi says ---------------------------------------------------------------------

    def heartbeat(self, now: "Ticks", sealing: bool) -> None:
        if not self.powered:
            return  # an unpowered Pi says nothing; a stray frame changes nothing
        self._last_heartbeat = now
        self._heard = True
        self.sealing = sealing
        if self.state == BOOTING:
            self._enter(RUNNING, now)

    def halted(self, now: "Ticks") -> None:
        """The Pi closed its store and is halting: cut after SHORT_DELAY_MS."""
        if self.powered and self.state != HALTING:
            self.sealing = False
            self._enter(HALTING, now)

    # -- what the Pico sees -------------------------------------------------------------------

    def button(self, event: int, now: "Ticks", level: int) -> None:
        if event == button.NONE:
            return
        if self.state == OFF:
            if level != battery.CRITICAL:  # waking into an empty cell would only cut again
                self._power_on(now)
            return
        if event == button.HOLD and self.state in (BOOTING, RUNNING):
            self._ask(REQUEST_BUTTON, now)
        elif event == button.PRESS:
            self.events |= EVENT_PRESSED

    def battery(self, level: int, now: "Ticks") -> None:
        if level == battery.CRITICAL and self.state in (BOOTING, RUNNING):
            self._ask(REQUEST_BATTERY, now)

    def tick(self, now: "Ticks") -> None:
        """Act on every deadline that has passed."""
        elapsed = time.ticks_diff(now, self._since)
        silent = time.ticks_diff(now, self._last_heartbeat)
        if self.state in (BOOTING, RUNNING) and silent >= self._allowed_silence():
            why = CUT_WATCHDOG if self._heard else CUT_BOOT_TIMEOUT
            self._cut(why, CYCLING, now)  # hung: power-cycle, so it boots and resumes
        elif self.state == REQUESTED and elapsed >= config.LONG_DELAY_MS:
            if not (self.sealing and silent < config.SEAL_GRACE_MS):
                self._cut(CUT_LONG_DELAY, OFF, now)
        elif self.state == HALTING and elapsed >= config.SHORT_DELAY_MS:
            self._cut(CUT_HALTED, OFF, now)
        elif self.state == CYCLING and elapsed >= config.OFF_CYCLE_MS:
            self._power_on(now)

    def seconds_left(self, now: "Ticks") -> int:
        """Seconds until the next planned cut, or -1 when none is planned."""
        deadline = {
            BOOTING: config.BOOT_GRACE_MS,
            REQUESTED: config.LONG_DELAY_MS,
            HALTING: config.SHORT_DELAY_MS,
        }.get(self.state, _NO_DEADLINE)
        if deadline == _NO_DEADLINE:
            return -1
        return max(0, deadline - time.ticks_diff(now, self._since)) // 1000

    def take_events(self) -> int:
        """The event bits, cleared: each press is shown once."""
        events, self.events = self.events, 0
        return events

    # -- how --------------------------------------------------------------------------------

    def _allowed_silence(self) -> int:
        if not self._heard:
            return config.BOOT_GRACE_MS
        return config.SEAL_GRACE_MS if self.sealing else config.HEARTBEAT_TIMEOUT_MS

    def _ask(self, reason: int, now: "Ticks") -> None:
        self.request = reason
        self._enter(REQUESTED, now)

    def _power_on(self, now: "Ticks") -> None:
        self._switch.value(1)
        self.request = NO_REQUEST
        self.sealing = False
        self._heard = False
        self._last_heartbeat = now
        self._enter(BOOTING, now)

    def _cut(self, why: int, then: int, now: "Ticks") -> None:
        self._switch.value(0)
        self.last_cut = why
        self.sealing = False
        self._enter(then, now)

    def _enter(self, state: int, now: "Ticks") -> None:
        self.state = state
        self._since = now
