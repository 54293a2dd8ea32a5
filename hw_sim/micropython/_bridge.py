"""The channel between the fake ``machine``/``time`` and ``hw_sim.pico`` (MicroPython code).

The simulator starts ``micropython`` with two pipe descriptors in JEMPUT_PICO_FDS
("read,write").  Lines in, from the simulator::

    t MS        grant MS milliseconds of virtual time
    u HEX       bytes arriving on the UART's RX
    p PIN 0|1   an input pin's level (the button)
    a PIN RAW   an ADC channel's read_u16() value
    h           the firmware hangs from now on (tests the Pico's own watchdog)
    g           start (sent once, after the initial levels)

Lines out, each stamped with the virtual time NOW in ms since the simulation began::

    w NOW            every granted millisecond is used; waiting for more
    u NOW HEX        bytes the firmware wrote to the UART's TX
    o NOW PIN LEVEL  an output pin changed
    r NOW CAUSE      the Pico resets (machine.WDT_RESET ...); the process ends

Time moves only when the firmware sleeps, so a test decides what "later" means and a
loaded machine cannot make a deadline fire early.
"""

import os
import select
import sys

WDT_RESET = 3
#: ticks_ms() wraps at 2**30 on the RP2040's port; each boot starts 3 s before the wrap,
#: so firmware that compares ticks without ticks_diff() fails in every test.
TICKS_PERIOD = 1 << 30
TICKS_START = TICKS_PERIOD - 3_000

_fds = os.getenv("JEMPUT_PICO_FDS") or ""
if not _fds:
    raise ImportError("the fake machine runs only under hw_sim.pico (JEMPUT_PICO_FDS unset)")
_read_fd, _write_fd = (int(part) for part in _fds.split(","))
# open for the life of the process: the Pico's wires do not close
_in = open(_read_fd, "rb")  # noqa: SIM115
_out = open(_write_fd, "wb")  # noqa: SIM115
_poller = select.poll()
_poller.register(_in, select.POLLIN)

#: Virtual ms since the simulation began (carried over a reset), and since this boot.
start_ms = int(os.getenv("JEMPUT_PICO_T0") or "0")
local_ms = 0
budget_ms = 0
hung = False
reset_cause = int(os.getenv("JEMPUT_PICO_RESET_CAUSE") or "1")
levels: dict = {}
adc: dict = {}
rx = bytearray()
#: (timeout ms, local ms of the last feed) once the firmware started its WDT.
watchdog: list = []


def now() -> int:
    return start_ms + local_ms


def send(line: str) -> None:
    _out.write((line + "\n").encode())


def _handle(line: bytes) -> None:
    global budget_ms, hung
    parts = line.decode().split()
    if not parts:
        return
    tag = parts[0]
    if tag == "t":
        budget_ms += int(parts[1])
    elif tag == "u":
        rx.extend(bytes.fromhex(parts[1]))
    elif tag == "p":
        levels[int(parts[1])] = int(parts[2])
    elif tag == "a":
        adc[int(parts[1])] = int(parts[2])
    elif tag == "h":
        hung = True


def _read_line() -> bytes:
    line = _in.readline()
    if not line:
        sys.exit(0)  # the simulator went away: so does the Pico
    return line


def drain() -> None:
    """Handle every line already waiting, without blocking."""
    while _poller.poll(0):
        _handle(_read_line())


def reset(cause: int) -> None:
    send(f"r {now()} {cause}")
    sys.exit(0)


def advance(ms: int) -> None:
    """Let ``ms`` of virtual time pass, as granted; the fake WDT fires inside."""
    global local_ms, budget_ms
    target = local_ms + ms
    while hung or local_ms < target:
        drain()
        if budget_ms <= 0:
            send(f"w {now()}")
            while budget_ms <= 0:
                _handle(_read_line())
        step = min(budget_ms, 10 if hung else target - local_ms)
        local_ms += step
        budget_ms -= step
        if watchdog and local_ms - watchdog[1] > watchdog[0]:
            reset(WDT_RESET)


def ticks() -> int:
    return (TICKS_START + local_ms) % TICKS_PERIOD


def start() -> None:
    """Read the initial levels, up to the simulator's ``g``."""
    while True:
        line = _read_line()
        if line.strip() == b"g":
            return
        _handle(line)


start()
