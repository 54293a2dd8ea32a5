"""A firmware slot's entry: the boot stub (boot/main.py) imports it from slot a or b.

Builds the co-processor from the board's pins, starts the Pico's own watchdog and runs
the loop forever.  The simulator runs this same file under the unix ``micropython`` with
fake ``machine`` and ``time`` modules, from a folder laid out as the Pico's flash.
"""

import time

from machine import ADC, UART, WDT, Pin, reset_cause

import app
import board
import config


def maintenance_requested() -> bool:
    """The power button held at power-on: stay at the REPL for mpremote, with no watchdog.

    The RP2040's WDT cannot be stopped once started, so a firmware that started it would
    reset the Pico in the middle of a technician's ``mpremote cp``.  The power switch's pin
    is left floating, so its pull-up keeps the Pi powered meanwhile.
    """
    return Pin(board.BUTTON, Pin.IN, Pin.PULL_UP).value() == 0


def main() -> None:
    if maintenance_requested():
        print("jemput power: maintenance mode (button held at power-on): no watchdog")
        return
    wdt = WDT(timeout=config.WDT_MS)
    coprocessor = app.Coprocessor(
        uart=UART(
            board.UART_ID,
            baudrate=board.UART_BAUD,
            tx=Pin(board.UART_TX),
            rx=Pin(board.UART_RX),
        ),
        button_pin=Pin(board.BUTTON, Pin.IN, Pin.PULL_UP),
        switch=Pin(board.POWER_SWITCH, Pin.OUT, value=1),
        led=Pin(board.LED, Pin.OUT, value=0),
        adc=ADC(board.BATTERY_ADC),
        reset_cause=reset_cause(),
        now=time.ticks_ms(),
    )
    while True:
        coprocessor.step(time.ticks_ms())
        wdt.feed()
        time.sleep_ms(config.LOOP_MS)


main()
