"""What a program running a kit is told by its host: the one extension point of `KitHost`.

Why an observer: the Pi program and the simulator run the same host
(`firmware.host.KitHost`), and each has its own business around the kit.  On the Pi the
power guard watches each kit's controller and heartbeats the Pico after every event
(`firmware.power.KitPower`); the simulator also points the people standing in front at
each kit, gives a restarted kit's sensor its library back, and steps its technician up to
the sensor during a self-test (`simulator.kit`).  The host tells every observer the same
few things and knows none of them, so nothing of the simulator's lives in the Pi program.
"""

from __future__ import annotations

from firmware.kit import Kit


class KitObserver:
    """Told by the host what happens to the kit it runs; override what you need.

    Every method here does nothing.  The host calls them on the thread that drives the
    kit's loop, in the order the observers were given, between events: they must return
    soon (the loop waits for them), and nothing they raise is caught (it reaches whoever
    drives the loop, or asked for the self-test).
    """

    def kit_opened(self, kit: Kit) -> None:
        """A kit was opened on the data folder: at boot, and again after a flash, purge or
        keygen (the kit before it is closed by then)."""

    def kit_ready(self) -> None:
        """The kit told systemd READY (its locked screen, or the unflashed one): once per
        run of the program, before the watchdog's first ping."""

    def event_handled(self) -> None:
        """The loop handled an event (a tick at least every second); also every idle slice
        while the folder waits to be flashed, when there is no kit."""

    def selftest_started(self) -> None:
        """A self-test asked for over the port starts: its captures wait for a finger and a
        pen, as when a technician stands at the kit."""

    def selftest_ended(self) -> None:
        """That self-test ended, passed or not."""
