"""The browser kit in a real headless Chromium (Debian's chromium and chromedriver):
an officer's enrolment clicked and signed on the page in Bahasa Indonesia, and a training
scenario run to its end, its instructions shown and the page switched to English.  Nothing
is downloaded: Selenium is pointed at the installed browser and driver."""

from __future__ import annotations

import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from capture.events import Lane
from simulator.options import SimOptions
from simulator.web.kit import WebKit, open_web_kit
from simulator.web.texts import PAGE


def bahasa(key: str, **values: object) -> str:
    return PAGE[key][0].format(**values)


def english(key: str, **values: object) -> str:
    return PAGE[key][1].format(**values)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
#: Another site open in the same browser.  Chromium resolves its name to this machine, as a
#: DNS-rebinding attacker's name resolves once it is re-pointed.
ELSEWHERE = "attacker.example"
#: Flags for a headless Chromium as root on a machine with no network.
FLAGS = (
    f"--host-resolver-rules=MAP {ELSEWHERE} 127.0.0.1",
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1200",
)
WAIT_SECONDS = 60.0


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def until(what: str, done: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.1)


class Page:
    """The kit's page as an officer's hands and eyes: clicks, and what it shows."""

    def __init__(self, driver: WebDriver, url: str) -> None:
        self.driver = driver
        driver.get(url)
        until("the page's first snapshot", lambda: self.state not in ("", "…"))

    @property
    def state(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").get_attribute("data-state") or ""

    @property
    def busy(self) -> bool:
        return self.driver.find_element(By.TAG_NAME, "body").get_attribute("data-busy") == "true"

    @property
    def behind(self) -> str:
        """What the page says the printers do behind the machine ("" for nothing)."""
        return self.driver.find_element(By.TAG_NAME, "body").get_attribute("data-behind") or ""

    @property
    def screen(self) -> str:
        return self.driver.find_element(By.ID, "screen-text").text

    def settled(self) -> None:
        """Wait until the kit has handled the press and its device work (and the page knows),
        or waits for the trainee's pen."""
        seen: list[tuple[str, str, bool]] = []

        def still() -> bool:
            seen.append((self.state, self.screen, self.busy))
            idle = not seen[-1][2] or self.pen_waiting
            return len(seen) >= 4 and idle and len(set(seen[-4:])) == 1

        until("the kit to settle", still)

    @property
    def pen_waiting(self) -> bool:
        return self.driver.find_element(By.ID, "pad-waiting").is_displayed()

    def text(self, element_id: str) -> str:
        return self.driver.find_element(By.ID, element_id).text

    def click(self, button: str) -> None:
        self.driver.find_element(By.ID, f"btn-{button}").click()
        self.settled()

    def sign(self) -> None:
        pad = self.driver.find_element(By.ID, "pad")
        draw = ActionChains(self.driver)
        draw.move_to_element_with_offset(pad, -200, 10).click_and_hold()
        for step in range(12):
            draw.move_by_offset(12, (-1) ** step * 18)
        draw.release().move_to_element_with_offset(pad, 40, -20).click_and_hold()
        draw.move_by_offset(60, 30).move_by_offset(40, -25).release().perform()
        self.driver.find_element(By.ID, "pad-send").click()
        until("the pad to take the signature", lambda: self.pad_status == bahasa("pad.signed"))

    @property
    def pad_status(self) -> str:
        return self.driver.find_element(By.ID, "pad-status").text

    def choose(self, select_id: str, value: str) -> None:
        Select(self.driver.find_element(By.ID, select_id)).select_by_value(value)

    def led(self) -> str:
        return self.driver.find_element(By.ID, "led").value_of_css_property("background-color")

    def log_in(self, pin: str) -> None:
        self.click("ok")  # PIN login
        self.click("ok")  # the first officer
        for digit in pin:
            for _ in range(int(digit)):
                self.click("up")
            self.click("ok")

    def enrol_the_first_resident(self, *, signing: Callable[[], None] | None = None) -> None:
        """From READY: the first worklist resident, through to the DONE screen; ``signing``
        is done when the pad waits for the trainee's pen."""
        self.click("down")  # past "walk-in" to the first resident
        for _ in range(30):
            if self.state == "done":
                return
            if signing is not None and self.pen_waiting:
                signing()
                self.settled()
            self.click("ok")  # the right person, the photo, accept, save
        raise AssertionError(f"the enrolment did not finish: {self.state} {self.screen}")


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebKit]:
    with open_web_kit(SimOptions(tmp_path / "kit", seed=3), port=0) as kit:
        yield kit


def test_an_officer_enrols_a_resident_by_clicking_and_signing_on_the_page(
    web: WebKit, browser: WebDriver, tmp_path: Path
) -> None:
    """In Bahasa Indonesia; the officers named as the kit names them; the kit's card count;
    and the trainee signs: the pad waits for their pen, not the simulated resident's."""
    page = Page(browser, web.url)
    until("the lock screen", lambda: page.state == "locked")
    assert "TERKUNCI" in page.screen
    assert page.led() == "rgba(255, 255, 0, 1)", "yellow: the officer must act"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id"
    assert bahasa("section.pad") in browser.find_element(By.TAG_NAME, "main").text
    assert page.text("officers").startswith("SRI HANDAYANI (petugas, PIN 246810)")
    assert "PTG-001" not in page.text("officers")

    browser.find_element(By.ID, "pad-trainee").click()
    until("the pad to wait for the trainee", lambda: web.sim.wired.page_signs)
    page.choose("glass-quality", "good")
    page.log_in("246810")
    assert page.state == "ready" and page.screen.startswith("SIAP")
    until("the LED to turn green", lambda: page.led() == "rgba(0, 255, 0, 1)")
    stock = web.sim.kit.store.ledger.stock()
    assert f"kartu:{stock}" in page.screen and page.text("cards") == str(stock), "one count"
    assert page.text("hopper") == str(web.sim.wired.card_printer.hopper)

    pad = web.sim.wired.signature_pad
    asked: list[str] = []

    def sign_when_asked() -> None:
        asked.append(page.state)
        assert page.state == "signature"
        time.sleep(2)  # the resident does not sign in the trainee's place
        assert page.pen_waiting and page.state == "signature" and pad.sent_frames == 0
        assert page.text("pad-waiting") == bahasa("pad.waiting")
        page.sign()
        until("the pad to stop waiting", lambda: not page.pen_waiting)

    # the printers are still at an earlier card when this one is sealed: it waits its turn
    # behind the machine, as a card that takes its 13 s over the wire does
    printer_free = threading.Event()
    web.sim.kit.loop.run_job(
        "an earlier card", lambda: printer_free.wait(WAIT_SECONDS), lane=Lane.PRINTERS
    )
    try:
        page.enrol_the_first_resident(signing=sign_when_asked)
        assert "TERSIMPAN #1" in page.screen
        # the page settled while the card prints: not busy, the print said apart
        until("the page to say the card prints", lambda: page.behind == "print")
        assert not page.busy
        assert page.text("behind") == bahasa("behind.print") == "mencetak kartu…"
        page.click("ok")  # the next person, while the card still prints
        assert page.state == "ready" and page.behind == "print" and not page.busy
        assert not browser.find_elements(By.CSS_SELECTOR, "#tray img[data-kind=card]")
    finally:
        printer_free.set()
    assert asked == ["signature"], "the pad waited for the trainee's pen, once"
    assert pad.sent_frames > 0, "the canvas strokes went to the pad as pen frames"
    until(
        "the card in the tray",
        lambda: bool(browser.find_elements(By.CSS_SELECTOR, "#tray img[data-kind=card]")),
    )
    until("the print status to go", lambda: page.behind == "" and page.text("behind") == "")
    card = browser.find_element(By.CSS_SELECTOR, "#tray img[data-kind=card]")
    until("the card image to load", lambda: card.get_property("naturalWidth") > 0)
    assert card.get_property("naturalWidth") > card.get_property("naturalHeight"), "landscape ID-1"
    printed = tmp_path / "kit" / "printed" / "card-0001.png"
    assert stat.S_IMODE(printed.stat().st_mode) == 0o600
    until("the card count to follow", lambda: page.text("cards") == str(stock - 1))

    camera = browser.find_element(By.ID, "camera")
    until("the camera's last frame on the page", lambda: camera.get_property("naturalWidth") > 0)
    assert web.sim.kit.store.last_seq == 1


def test_a_training_scenario_runs_to_its_end_on_the_page(
    browser: WebDriver, tmp_path: Path
) -> None:
    """The trainer's instructions on the page, a fault at a step of the first resident's
    recording, and the switch to English and back."""
    day = tmp_path / "day.toml"
    day.write_text(
        'name = "Latihan singkat"\nabout = "Satu warga; printer slip kehabisan kertas."\n'
        'about_en = "One resident; the slip printer runs out of paper."\n'
        "[[arrivals]]\nresident = 1\n"
        '[[faults]]\narrival = 1\nstep = "review"\ndevice = "receipt-printer"\n'
        'kind = "paper-out"\n'
    )
    with open_web_kit(SimOptions(tmp_path / "kit", seed=3), port=0, scenario=str(day)) as web:
        page = Page(browser, web.url)
        banner = browser.find_element(By.ID, "training")
        until("the training banner", lambda: banner.is_displayed())
        status = bahasa("training.status", done=0, total=1, fired=0, faults=1)
        assert "Latihan singkat" in banner.text and status in banner.text
        assert page.text("about") == "Satu warga; printer slip kehabisan kertas."
        until("the lock screen", lambda: page.state == "locked")
        page.sign()
        page.choose("glass-quality", "good")
        page.log_in("246810")
        assert "paper-out" not in web.sim.wired.receipt_printer.faults, "not timed from boot"
        page.enrol_the_first_resident()
        until("the scenario's end", lambda: bahasa("training.finished") in banner.text)
        assert browser.find_element(By.CSS_SELECTOR, "#queue li.done").text.endswith(
            web.sim.world.residents[0].nik
        )
        assert browser.find_element(By.ID, "fault-receipt-printer-paper-out").is_selected()
        assert "paper-out" in web.sim.wired.receipt_printer.faults
        assert "skenario: gangguan printer slip, kertas habis" in page.text("log")

        language = browser.find_element(By.ID, "language")
        assert language.text == "English"
        language.click()
        until("the page in English", lambda: english("training.finished") in banner.text)
        assert page.text("about") == "One resident; the slip printer runs out of paper."
        assert english("section.faults") in browser.find_element(By.TAG_NAME, "main").text
        assert "scenario: fault receipt printer, paper out" in page.text("log")
        assert "kertas habis" not in browser.find_element(By.ID, "faults").text
        language.click()  # the choice is kept in the browser: back to Bahasa for the others
        until("the page in Bahasa again", lambda: bahasa("training.finished") in banner.text)


def test_another_site_in_the_browser_can_neither_read_nor_drive_the_kit(
    web: WebKit, browser: WebDriver
) -> None:
    """The attacker's page on the kit's own port under its own name (a rebound name), reading
    the kit and posting to it as text/plain, which needs no CORS preflight: the rebound
    requests are refused for their Host, the cross-origin one for its Origin."""
    port = web.server.address[1]
    before = web.snapshot()
    browser.get(f"http://{ELSEWHERE}:{port}/")
    answers = browser.execute_async_script(
        """
        const [kit, done] = arguments;
        const plain = {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}};
        Promise.all([
          fetch("/state").then((r) => r.status),
          fetch("/action/battery", {...plain, body: '{"percent": 3}'}).then((r) => r.status),
          fetch(kit + "action/fault", {...plain, body: '{"device": "camera", "kind": "unplugged"}'})
            .then((r) => r.type),
        ]).then(done, (error) => done(String(error)));
        """,
        web.url,
    )
    assert answers == [400, 400, "opaque"]  # the last answer is hidden from the page
    after = web.snapshot()
    assert after["battery"] == before["battery"]
    assert after["faults"]["camera"] == []
