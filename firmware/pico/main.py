"""Entry point on the Pico (``mpremote cp *.py :`` puts it there; it runs at power-on).

Builds the co-processor from the board's pins, starts the Pico's own watchdog and runs
the loop forever.  The simulator runs this same file under the unix ``micropython`` with
fake ``machine`` and ``time`` modules.
"""

import time

from machine import ADC, UART, WDT, Pin, reset_cause

import app
import board
import config


def main() -> None:
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
