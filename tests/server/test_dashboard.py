"""The dashboard in a real headless Chromium (Debian's ``chromium`` driven by Playwright): the matrix
matches recorded state, a person approves production through the page, and the next apply deploys
it. The static report (``reconciler report --html``) renders the same matrix.

Without Chromium the browser test is skipped, unless ``RECONCILER_REQUIRE_BROWSER=1`` (CI), which
turns the skip into a failure that says what to install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from reconciler.server.agent import Options, run

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def browser_or_skip():
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    else:
        try:
            from playwright.sync_api import sync_playwright  # noqa: F401
        except ImportError:
            problem = "the playwright package is missing (pip install -e '.[test]')"
    if problem:
        if os.environ.get("RECONCILER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the browser test is required (RECONCILER_REQUIRE_BROWSER=1) but {problem}")
        pytest.skip(problem)


def matrix_html(html: str) -> str:
    found = re.search(r'<table class="matrix" id="matrix">.*?</table>', html, re.DOTALL)
    assert found, "no matrix in the page"
    return re.sub(r'href="[^"]*"', "", found.group(0))  # links differ: in-page anchors vs. routes


@pytest.fixture
def staged(pull_quickstart, serve_thread, cli, tmp_path):
    """Staging deployed through a pull agent; production waits for an approval."""
    api = serve_thread(pull_quickstart)
    host = tmp_path / "host"
    host.mkdir()
    shutil.copy(pull_quickstart / "deploy.sh", host)
    agent = Options(api.url, "local", api.keys["agent"], host, once=True)
    assert cli("apply", "-C", pull_quickstart).code == 0
    assert run(agent, lambda line: None) == 0
    api.agent = agent
    return api


def test_the_static_report_renders_the_same_matrix(staged, cli, tmp_path):
    out = tmp_path / "report" / "index.html"
    assert cli("report", "-C", staged.root, "--html", out).code == 0
    html = out.read_text()
    with staged.client("read") as http:
        served = http.get("/ui/overview").text
        releases = http.get("/ui/deployments/api", params={"tab": "releases"}).text
        jobs = http.get("/ui/deployments/api", params={"tab": "jobs", "page": 1}).text
    assert matrix_html(html) == matrix_html(served)
    assert releases.count('class="badge r-pending"') == 2 and 'class="badge r-completed"' in releases
    assert "local (" not in jobs and ">completed<" in jobs
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "reconciler approve --deployment api --version v1.2.3 --environment production" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'class="bar s-done"' in html
    for tab in ("releases", "jobs", "history"):
        assert f'id="dep-api-{tab}"' in html


def cells(page) -> dict[tuple[str, str], dict]:
    return {(c["deployment"], c["environment"]): c for c in page.eval_on_selector_all(
        "#matrix td.cell[data-state]", """cells => cells.map(c => ({
            deployment: c.closest('tr').dataset.deployment, environment: c.dataset.environment,
            state: c.dataset.state, text: c.innerText}))""")}


def test_a_person_approves_production_in_the_browser(staged, cli, tmp_path):
    browser_or_skip()
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("RECONCILER_SCREENSHOTS", tmp_path))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(staged.url + "/")
        page.fill("#key-input", staged.keys["approve"])
        page.click("#key-form button[type=submit]")
        page.wait_for_selector("#matrix")
        shown = cells(page)
        with staged.client("read") as http:
            rows = {r["target"]: r for r in http.get("/api/v1/status").json()["rows"]}
        staging, production = shown[("api", "staging")], shown[("api", "production")]
        assert staging["state"] == "in-sync" and rows["api/staging/staging-cluster"]["currentVersion"] in staging["text"]
        assert production["state"] == "blocked" and "awaiting approval 0/1" in production["text"]
        assert page.text_content("svg .title") == "api v1.2.3"  # the rollout timeline
        page.screenshot(path=str(shots / "dashboard-before-approval.png"), full_page=True)

        page.click('#approvals button[data-approve]')
        page.wait_for_selector("#flash p:not(.bad)")
        assert "Approved api v1.2.3 in production as approve-key" in page.inner_text("#flash")
        page.wait_for_function("document.querySelector('#matrix td[data-environment=production]')"
                               ".dataset.state === 'rolling'")
        assert "Nothing waits for an approval" in page.inner_text("main")
        page.screenshot(path=str(shots / "dashboard-after-approval.png"), full_page=True)

        page.goto(staged.url + "/#/deployments/api?tab=history&page=1")
        page.wait_for_selector("ol.history li.entry")
        assert "install" in page.inner_text("ol.history") and "by root" in page.inner_text("ol.history")
        browser.close()

    plan = json.loads(cli("plan", "-C", staged.root, "--format", "json").out)
    assert sorted(c["target"] for c in plan["changes"]) == ["api/production/cluster-1", "api/production/cluster-2"]
    assert cli("apply", "-C", staged.root).code == 0
    assert run(staged.agent, lambda line: None) == 0
    rows = json.loads(cli("status", "-C", staged.root, "--format", "json").out)
    assert {r["state"] for r in rows} == {"in sync"}


def test_a_key_without_the_approve_scope_is_told_so(staged):
    browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(staged.url + "/")
        page.fill("#key-input", staged.keys["read"])
        page.click("#key-form button[type=submit]")
        page.click('#approvals button[data-approve]')
        page.wait_for_selector("#flash p.bad")
        assert "needs 'approve'" in page.inner_text("#flash")
        browser.close()
    with staged.client("read") as http:
        assert {r["state"] for r in http.get("/api/v1/status").json()["rows"]} == {"in sync", "blocked"}
