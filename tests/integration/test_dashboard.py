"""The dashboard in a real headless Chromium (Debian `chromium` + `chromedriver`, installed by
`make test` via .ci/test-tools): every page renders the demo data's figures as the API gives them,
its charts have data points, the browser logs no errors, a writer's key is told what it may not
see, and the board follows the live event stream. Screenshots go to test-artifacts/dashboard/.

Every browser wait is on the condition the next step needs, with BROWSER_WAIT as the point to
give up (a headless Chromium on a busy 2-core machine can take seconds per render)."""
import shutil
import threading
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from infra.db import make_engine
from infra.embedded import free_port
from infra.settings import Settings
from services.api.app import create_app
from services.demo import generate
from tests.conftest import APP_ROLE
from tests.integration.projection_helpers import DEMO_END, api, project_all
from tests.keys import key_headers
from tests.waiting import PATIENCE, until

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
PAGES = ("pipeline", "funnel", "cycle", "leaderboard", "forecast", "reviews", "stalled")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000")
BROWSER_WAIT = 90  # seconds; only a page that never gets there waits this long


@pytest.fixture(scope="module")
def module_engine(databases):
    engine = make_engine(databases.app_url(databases.fresh()), app_role=APP_ROLE, pool_size=8)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def site(module_engine):
    client = api(module_engine)
    assert client.post("/v1/events/batch", json={"events": list(generate(60, 3, DEMO_END))}).status_code == 201
    project_all(module_engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(DATABASE_URL="unused"), engine=module_engine),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    until(lambda: server.started, message="the dashboard's server started")
    yield f"http://127.0.0.1:{port}", client
    server.should_exit = True
    thread.join(PATIENCE)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "install Debian's chromium and chromium-driver (make test does: .ci/test-tools)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(options=options, service=Service(driver))
    yield session
    session.quit()


def sign_in(browser, base: str, engine, role: str) -> None:
    headers = key_headers(engine, role)
    browser.shots = role  # screenshots are named by role and page
    browser.get(f"{base}/dashboard#pipeline")
    browser.execute_script("sessionStorage.clear(); location.reload()")
    wait(browser, lambda b: b.find_element(By.ID, "key").is_displayed())
    browser.find_element(By.ID, "key").send_keys(headers["Authorization"].removeprefix("Bearer "))
    browser.find_element(By.CSS_SELECTOR, "#signin button").click()
    browser.execute_script("performance.setResourceTimingBufferSize(100000)")  # see asked_since
    browser.get_log("browser")  # what the previous key's page left in flight is not this page's


def wait(browser, condition):
    """`condition(browser)` once truthy; an element a re-render replaced while it was being read
    (the live refresh can land at any moment) means: look again."""
    return WebDriverWait(browser, BROWSER_WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def wait_live(browser) -> None:
    """The page follows the stream from the log's head as of now (what is appended next reaches it)."""
    wait(browser, lambda b: b.find_element(By.ID, "live").text == "live")


def now(browser) -> float:
    return browser.execute_script("return performance.now()")


def asked_since(browser, since: float) -> bool:
    """The page got an answer from the API to a request it made after `since` (performance.now())."""
    return browser.execute_script("return performance.getEntriesByType('resource').some("
                                  "(e) => e.startTime > arguments[0] && e.name.includes('/v1/'))", since)


def open_page(browser, page: str, wait_for: str = "h2"):
    browser.execute_script(f"location.hash = '{page}'")
    name = page.split("/")[0]
    wait(browser, lambda b: b.execute_script(
        "const v = document.getElementById('view'); return v.dataset.page === arguments[0] "
        "&& v.querySelector(arguments[1]) !== null", name, wait_for))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"{browser.shots}-{name}.png"))
    return browser.find_element(By.ID, "view")


def points(view) -> list[tuple[str, str]]:
    return [(p.get_attribute("data-label"), p.get_attribute("data-value"))
            for p in view.find_elements(By.CSS_SELECTOR, "svg.chart g.point")]


def errors(browser) -> list[dict]:
    """Console errors, but not the 403s the role probes answer (the browser logs every 4xx)."""
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"
            and not (entry["source"] == "network" and "status of 403" in entry["message"])]


def test_every_page_renders_the_api_figures_with_charts_and_no_errors(site, browser, module_engine):
    base, client = site
    sign_in(browser, base, module_engine, "manager")
    for page in PAGES:
        view = open_page(browser, page)
        assert view.find_elements(By.CSS_SELECTOR, ".error") == [], page
        if page not in ("reviews", "stalled"):  # tables only (and maybe no review is open)
            assert points(view), page  # charts carry data points
    funnel = client.get("/v1/reports/funnel").json()
    view = open_page(browser, "funnel", "svg.chart")
    assert points(view) == [(s["stage"], str(s["reached"])) for s in funnel["stages"]]
    assert funnel["created"] > 0 and str(funnel["created"]) in view.text
    board = client.get("/v1/reports/funnel", params={"mode": "snapshot"}).json()
    view = open_page(browser, "pipeline", "svg.chart")
    assert points(view) == [(s["stage"], str(s["open"])) for s in board["stages"]]
    stalled = client.get("/v1/deals", params={"stalled": "true", "limit": 100}).json()
    view = open_page(browser, "stalled")
    assert f"Stalled deals ({stalled['total']})" in view.text
    deal = stalled["deals"][0]["deal_id"] if stalled["deals"] else "demo-000001"
    events = client.get(f"/v1/deals/{deal}/events").json()["events"]
    view = open_page(browser, f"events/{deal}", "table")
    rows = view.find_elements(By.CSS_SELECTOR, "table")[-1].find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == len(events) and "chains verified" not in view.text  # a manager may not verify
    assert errors(browser) == []


def test_a_writer_is_told_what_it_may_not_see_and_an_auditor_verifies(site, browser, module_engine):
    base, client = site
    sign_in(browser, base, module_engine, "writer")
    view = open_page(browser, "funnel", "p.error")
    assert "may not see this page" in view.text
    sign_in(browser, base, module_engine, "auditor")
    view = open_page(browser, "events/demo-000001", "table")
    assert "chains verified" in view.text
    assert errors(browser) == []


def test_the_board_follows_the_live_stream_when_the_worker_is_behind(site, browser, module_engine):
    """The page hears of the event (and asks the API) before the worker applied it: what it then
    shows must still be the projected figure, not the one from before the event."""
    base, client = site
    sign_in(browser, base, module_engine, "manager")
    before = dict(points(open_page(browser, "pipeline", "svg.chart")))
    wait_live(browser)
    since = now(browser)
    created = client.post("/v1/deals/dash-live-1/events", json={"type": "deal.created", "data": {
        "title": "Live one", "customer": {"id": "c-live", "name": "Live"}, "owner_id": "rep-1", "currency": "USD"}})
    assert created.status_code == 201
    wait(browser, lambda b: asked_since(b, since))
    project_all(module_engine)
    wait(browser, lambda b: dict(points(b.find_element(By.ID, "view"))).get("lead") == str(int(before["lead"]) + 1))


CARD, DONE = '[data-review="dash-review-1"]', '[data-review="dash-review-1"] button.complete-action'


def test_a_review_meeting_adds_and_completes_action_items(site, browser, module_engine):
    base, client = site
    review = {"review_id": "dash-review-1", "scope": "team", "scope_id": "team-1", "period": "2026-10",
              "metric": "revenue", "expected": "50000", "actual": "30000", "notes": "behind pace"}
    assert client.post("/v1/reviews", json=review).status_code == 201
    project_all(module_engine)
    sign_in(browser, base, module_engine, "manager")
    view = open_page(browser, "reviews", "form.add-action")
    wait_live(browser)
    card = view.find_element(By.CSS_SELECTOR, CARD)
    card.find_element(By.NAME, "title").send_keys("Call the three stalled enterprise deals")
    card.find_element(By.NAME, "owner_id").send_keys("rep-1-1")
    card.find_element(By.CSS_SELECTOR, "form.add-action button").click()
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "p.added"))
    since = now(browser)  # after the POST: the requests the event makes the page send come later
    wait(browser, lambda b: asked_since(b, since))  # the page heard of the event before the worker applied it
    project_all(module_engine)  # the worker's part; the live stream then refreshes the page
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, DONE))
    browser.execute_script("document.querySelector(arguments[0]).dataset.stale = 1", CARD)  # gone once re-rendered
    browser.find_element(By.CSS_SELECTOR, DONE).click()
    wait(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, DONE))
    since = now(browser)
    wait(browser, lambda b: asked_since(b, since))
    project_all(module_engine)
    wait(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, "[data-stale]"))  # re-rendered from the projection
    assert not browser.find_elements(By.CSS_SELECTOR, DONE)
    assert [s.text for s in browser.find_elements(By.CSS_SELECTOR, CARD + ' td span.ok')] == ["done"]
    [action] = client.get("/v1/reviews/dash-review-1").json()["actions"]
    assert action["title"] == "Call the three stalled enterprise deals" and action["completed_at"] is not None
    browser.save_screenshot(str(ARTIFACTS / "manager-review-meeting.png"))
    assert errors(browser) == []
