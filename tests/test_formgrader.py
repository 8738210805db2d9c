"""nbgrader's formgrader, in a real headless browser, shows what cnncourse.grading graded.

A small class is graded by ``autograde`` in a scratch course; ``jupyter server`` starts
there with a token on a free local port, and chromium (through chromedriver and
Selenium) opens the formgrader: the students' scores, the assignment, the gradebook of
the notebook and the manual-grading view of one submission must show what
``report`` wrote to ``feedback/grades.csv``. Skipped where no browser or driver is
installed (``apt-get install chromium chromium-driver``).
"""

from __future__ import annotations

import csv
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cnncourse.grading import autograde, load_course, release, report
from cnncourse.grading.simulate import copy_course, write_submission, wrong_answers

ROOT = Path(__file__).resolve().parents[1]
FIRST = "tamanos_salida"
WAIT = 30  # seconds: the longest any page or the server may take


def _browser() -> tuple[str | None, str | None]:
    """(chromium, chromedriver) paths, None where absent."""
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")  # the last: CI runners
    chromium = next((p for p in (*map(shutil.which, names), "/usr/bin/chromium") if p and Path(p).is_file()), None)
    driver = next((p for p in (shutil.which("chromedriver"), "/usr/bin/chromedriver") if p and Path(p).is_file()), None)
    return chromium, driver


CHROMIUM, DRIVER = _browser()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                       reason="no chromium and chromedriver (apt-get install chromium chromium-driver)"),
]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Ana (perfect) and Bruno (forgot the 2p), graded, with feedback/grades.csv."""
    course = copy_course(load_course(ROOT), tmp_path_factory.mktemp("curso"), [FIRST])
    release(course, [FIRST])
    wrong = next(a for a in wrong_answers(ROOT / "tests" / "wrong_answers" / FIRST) if a.name == "olvida_2p")
    write_submission(course, FIRST, "ana", "perfect", course.submitted_dir)
    write_submission(course, FIRST, "bruno", "partly_right", course.submitted_dir, wrong=wrong)
    autograde(course, assignments=[FIRST], timeout=30)
    report(course, feedback=False)
    return course


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(course, tmp_path_factory):
    """``jupyter server`` in the course folder: (base url, token); stopped afterwards."""
    port, token = _free_port(), secrets.token_hex(16)
    runtime = tmp_path_factory.mktemp("jupyter")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "HOME": str(runtime),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    log = (runtime / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", f"--ServerApp.token={token}", f"--ServerApp.root_dir={course.root}",
         f"--Exchange.root={runtime / 'exchange'}"],
        cwd=course.root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"jupyter server did not start: {(runtime / 'server.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield base, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def browser(server):
    """Chromium, logged in to the server with its token (the login page, as a person would:
    a ``?token=`` in a formgrader address sets the cookie for that page's folder only, and
    the page's own requests to ``/formgrader/api`` are then refused)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    try:
        base, token = server
        driver.get(f"{base}/login")
        field = WebDriverWait(driver, WAIT).until(lambda b: b.find_element(By.CSS_SELECTOR, "input[type=password]"))
        field.send_keys(token)
        field.submit()
        WebDriverWait(driver, WAIT).until(lambda b: "/login" not in b.current_url)
        yield driver
    finally:
        driver.quit()


def _grades(course) -> dict[str, str]:
    """student -> "score / max_score", from report's grades.csv."""
    with (course.feedback_dir / "grades.csv").open(encoding="utf-8") as handle:
        return {row["student"]: f"{row['score']} / {row['max_score']}" for row in csv.DictReader(handle)}


def _open(browser, server, path: str, until: str) -> str:
    """Open a formgrader page and wait (bounded) until its text shows ``until``; its text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{server[0]}{path}")
    WebDriverWait(browser, WAIT).until(lambda b: until in b.find_element(By.TAG_NAME, "body").text,
                                       message=f"{path} never showed {until!r}: {_text(browser)[-1500:]}")
    return _text(browser)


def _text(browser) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.TAG_NAME, "body").text


def _rows(browser) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    return [[cell.text.strip() for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in browser.find_elements(By.CSS_SELECTOR, "table tbody tr")]


def test_the_students_table_shows_the_scores_of_the_report(course, server, browser):
    grades = _grades(course)
    assert grades == {"ana": "20 / 20", "bruno": "9 / 20"}
    _open(browser, server, "/formgrader/manage_students", "bruno")
    shown = {row[1]: row[3] for row in _rows(browser) if len(row) > 3 and row[1] in grades}
    assert shown == grades


def test_the_assignment_and_its_submissions_are_listed(course, server, browser):
    text = _open(browser, server, "/formgrader", FIRST)  # the formgrader opens on its assignments
    assert browser.current_url.rstrip("/").endswith("/formgrader/manage_assignments")
    row = next(row for row in _rows(browser) if row and row[0] == FIRST)
    assert row[-3] == "2", row  # "# Submissions"
    assert "draft" in text or "released" in text


def test_the_gradebook_and_the_manual_grading_view_agree(course, server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    grades = _grades(course)
    _open(browser, server, f"/formgrader/gradebook/{FIRST}/{FIRST}", "Submission #2")
    browser.find_element(By.XPATH, "//*[contains(text(), 'Show All Names')]").click()
    WebDriverWait(browser, WAIT).until(lambda b: "bruno" in b.find_element(By.TAG_NAME, "body").text)
    shown = {row[1]: row[2] for row in _rows(browser) if len(row) > 2 and row[1] in grades}
    assert shown == grades, _rows(browser)
    browser.find_element(By.PARTIAL_LINK_TEXT, "bruno").click()
    # the graded notebook holds the hidden tests' data (megabytes): look for elements and
    # search the text inside the browser rather than fetching all of it
    fields = WebDriverWait(browser, WAIT).until(lambda b: b.find_elements(By.CSS_SELECTOR, "input.score"))
    assert "/formgrader/submissions/" in browser.current_url
    has = lambda words: browser.execute_script("return document.body.textContent.includes(arguments[0])", words)  # noqa: E731
    assert has("test_conv_relleno_paso") and has("test_entrada_valida")
    assert has("debería ser")  # the graded notebook's own output, in Spanish
    assert len(fields) >= 9, "the manual-grading view has a score field per graded cell"
