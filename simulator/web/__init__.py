"""The simulated kit in a browser: ``jemput-kit sim web``.

One page on 127.0.0.1 shows the kit live (display, LED, buttons, camera, sensor glass,
signature pad, printer trays, battery, fault switches, event log) and drives the same
wired simulator as the terminal: the buttons push gpiozero's mock pins, the canvas's
strokes become the signature pad emulator's pen frames, and a fault switch breaks an
emulator at its wire.  Training mode adds a banner and a scenario of the day, its faults
timed from steps of the recording (:mod:`simulator.web.scenario`).  The page is in Bahasa
Indonesia with English as a switch, every word from :mod:`simulator.web.texts`.
"""
