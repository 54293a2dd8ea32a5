"""The browser kit in a real headless Chromium (Debian's chromium and chromedriver):
an officer's enrolment clicked and signed on the page, and a training scenario run to its
end.  Nothing is downloaded: Selenium is pointed at the installed browser and driver."""

from __future__ import annotations

import shutil
import stat
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

from simulator.options import SimOptions
from simulator.web.kit import WebKit, open_web_kit

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
    def screen(self) -> str:
        return self.driver.find_element(By.ID, "screen-text").text

    def settled(self) -> None:
        """Wait until the kit has handled the press and its device work (and the page knows)."""
        seen: list[tuple[str, str, bool]] = []

        def still() -> bool:
            seen.append((self.state, self.screen, self.busy))
            return len(seen) >= 4 and not seen[-1][2] and len(set(seen[-4:])) == 1

        until("the kit to settle", still)

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
        until("the pad to take the signature", lambda: "signed" in self.pad_status)

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

    def enrol_the_first_resident(self) -> None:
        """From READY: the first worklist resident, through to the DONE screen."""
        self.click("down")  # past "walk-in" to the first resident
        for _ in range(30):
            if self.state == "done":
                return
            self.click("ok")  # the right person, the photo, accept, save
        raise AssertionError(f"the enrolment did not finish: {self.state} {self.screen}")


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebKit]:
    with open_web_kit(SimOptions(tmp_path / "kit", seed=3), port=0) as kit:
        yield kit


def test_an_officer_enrols_a_resident_by_clicking_and_signing_on_the_page(
    web: WebKit, browser: WebDriver, tmp_path: Path
) -> None:
    page = Page(browser, web.url)
    until("the lock screen", lambda: page.state == "locked")
    assert "TERKUNCI" in page.screen
    assert page.led() == "rgba(255, 255, 0, 1)", "yellow: the officer must act"

    page.sign()
    page.choose("glass-quality", "good")
    page.log_in("246810")
    assert page.state == "ready" and page.screen.startswith("SIAP")
    until("the LED to turn green", lambda: page.led() == "rgba(0, 255, 0, 1)")

    page.enrol_the_first_resident()
    assert "TERSIMPAN #1" in page.screen
    until(
        "the card in the tray",
        lambda: bool(browser.find_elements(By.CSS_SELECTOR, "#tray img[data-kind=card]")),
    )
    card = browser.find_element(By.CSS_SELECTOR, "#tray img[data-kind=card]")
    until("the card image to load", lambda: card.get_property("naturalWidth") > 0)
    assert card.get_property("naturalWidth") > card.get_property("naturalHeight"), "landscape ID-1"
    printed = tmp_path / "kit" / "printed" / "card-0001.png"
    assert stat.S_IMODE(printed.stat().st_mode) == 0o600

    pad = web.sim.wired.signature_pad
    assert pad.sent_frames > 0, "the canvas strokes went to the pad as pen frames"
    camera = browser.find_element(By.ID, "camera")
    until("the camera's last frame on the page", lambda: camera.get_property("naturalWidth") > 0)
    assert web.sim.kit.store.last_seq == 1


def test_a_training_scenario_runs_to_its_end_on_the_page(
    browser: WebDriver, tmp_path: Path
) -> None:
    day = tmp_path / "day.toml"
    day.write_text(
        'name = "Latihan singkat"\nabout = "one resident, then the slip printer runs out"\n'
        "[[arrivals]]\nresident = 1\n"
        '[[faults]]\nafter_records = 1\ndevice = "receipt-printer"\nkind = "paper-out"\n'
    )
    with open_web_kit(SimOptions(tmp_path / "kit", seed=3), port=0, scenario=str(day)) as web:
        page = Page(browser, web.url)
        banner = browser.find_element(By.ID, "training")
        until("the training banner", lambda: banner.is_displayed())
        assert "Latihan singkat" in banner.text and "0 of 1 recorded" in banner.text
        until("the lock screen", lambda: page.state == "locked")
        page.sign()
        page.choose("glass-quality", "good")
        page.log_in("246810")
        page.enrol_the_first_resident()
        until("the scenario's end", lambda: "Skenario selesai" in banner.text)
        assert browser.find_element(By.CSS_SELECTOR, "#queue li.done").text.endswith(
            web.sim.world.residents[0].nik
        )
        assert browser.find_element(By.ID, "fault-receipt-printer-paper-out").is_selected()
        assert "paper-out" in web.sim.wired.receipt_printer.faults


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
