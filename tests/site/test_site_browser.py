"""The rendered site in a real browser: Debian's chromium driven by playwright (no download).

The site is served from a local http.server on 127.0.0.1 (and one page is opened from file://).
Every request that would leave the site is blocked and reported; console errors, broken
navigation, a language switch to the wrong page and axe-core violations of any impact fail
the tests.
"""

from __future__ import annotations

import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from _render_fixture import report, tiny_notebook, write_reports

from datajusta_lib.core.paths import notebooks_dir
from datajusta_lib.site.render import render_site

CHROMIUM = shutil.which("chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.notebook,
    pytest.mark.xdist_group("site"),
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Debian's chromium is not installed: scripts/install_browser.sh installs it "
        "(`make test` runs it as root; elsewhere: apt-get install chromium)",
    ),
]
PUBLISHED = ["es/published_figures--trafficking.html", "en/published_figures--trafficking.html"]
RECORDS = "es/records_demo--trafficking.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The real published-figures report (one case study, both languages) and a small
    records-kind report in Spanish only (synthetic banner, single-language switch)."""
    root = tmp_path_factory.mktemp("browser")
    tiny_notebook(root / "nb" / "records_demo.ipynb", records=True)
    published = report(
        "published_figures",
        str(notebooks_dir() / "published_figures.ipynb"),
        languages=["es", "en"],
    )
    published["title"] = {
        "es": "Cifras publicadas por las instituciones",
        "en": "Figures published by the institutions",
    }
    write_reports(
        root / "reports.yaml",
        [
            published,
            report("records_demo", "nb/records_demo.ipynb", languages=["es"], records=True),
        ],
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("DATAJUSTA_OUTPUTS", str(root / "outputs"))
    try:
        result = render_site(reports_file=root / "reports.yaml")
    finally:
        mp.undo()
    assert result.ok, (result.failed, result.check_problems)
    return root / "outputs" / "site"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output readable
        pass


@pytest.fixture(scope="module")
def server(site):
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Visit:
    """A page opened in a fresh browser context, recording what went wrong."""

    def __init__(self, browser, url: str, allowed_prefix: str):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.failed: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "response",
            lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"),
        )
        self.page.on("requestfailed", lambda r: self.failed.append(f"failed {r.url}"))

        def guard(route):
            url = route.request.url
            if url.startswith(allowed_prefix) or url.startswith("data:"):
                route.continue_()
            else:
                self.foreign.append(url)
                route.abort()

        self.context.route("**/*", guard)
        self.page.goto(url, wait_until="load")

    def close(self):
        self.context.close()


def _pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def test_the_site_has_the_expected_pages(site):
    assert _pages(site) == sorted(["index.html", "en/index.html", *PUBLISHED, RECORDS])


def test_every_page_loads_with_no_console_error_and_no_request_leaving_the_site(
    site, server, browser
):
    for rel in _pages(site):
        visit = Visit(browser, server + rel, allowed_prefix=server)
        try:
            assert visit.errors == [], (rel, visit.errors)
            assert visit.foreign == [], (rel, visit.foreign)
            assert visit.failed == [], (rel, visit.failed)
            # the site's own stylesheet applied (the header is dark blue)
            header = visit.page.locator("header.dj-header")
            assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(18, 38, 63)"
        finally:
            visit.close()


def test_navigation_from_the_index_to_a_page_and_back(server, browser):
    visit = Visit(browser, server + "index.html", allowed_prefix=server)
    page = visit.page
    try:
        page.locator("article.dj-card h3 a", has_text="Cifras publicadas").first.click()
        page.wait_for_url("**/es/published_figures--trafficking.html")
        assert "Cifras publicadas" in page.locator("h1").first.inner_text()
        page.locator(".dj-crumbs a", has_text="Trata de personas").click()
        page.wait_for_url("**/index.html#g-trafficking")
        page.locator("header .dj-home").click()
        page.wait_for_url(server + "index.html")
        # the table download is served from the site
        page.goto(server + PUBLISHED[0])
        href = page.locator("a.dj-download").first.get_attribute("href")
        response = page.request.get(server + "es/" + href)
        assert response.ok and response.text().startswith("id,")
        assert visit.errors == [] and visit.foreign == []
    finally:
        visit.close()


def test_the_language_switch_leads_to_the_same_page_in_the_other_language(server, browser):
    visit = Visit(browser, server + PUBLISHED[0], allowed_prefix=server)
    page = visit.page
    try:
        assert page.locator("html").get_attribute("lang") == "es"
        page.locator("header a.dj-lang").click()
        page.wait_for_url("**/" + PUBLISHED[1])
        assert page.locator("html").get_attribute("lang") == "en"
        assert "Figures published by the institutions" in page.locator("h1").first.inner_text()
        page.locator("header a.dj-lang").click()
        page.wait_for_url("**/" + PUBLISHED[0])
        # a page with one language switches to the other language's index
        page.goto(server + RECORDS)
        assert page.locator(".dj-banner-synthetic").is_visible()
        page.locator("header a.dj-lang").click()
        page.wait_for_url("**/en/index.html")
        assert page.locator("html").get_attribute("lang") == "en"
        page.locator("header a.dj-lang").click()
        page.wait_for_url(server + "index.html")
    finally:
        visit.close()


def test_no_accessibility_violation_at_any_impact(site, server, browser):
    """Every page clean at every impact level (minor and moderate included: e.g. the
    synthetic banner of the index pages once sat outside any landmark, rule ``region``)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found = []
    for rel in _pages(site):
        visit = Visit(browser, server + rel, allowed_prefix=server)
        try:
            results = axe.run(visit.page)
        finally:
            visit.close()
        for v in results.response["violations"]:
            if v["impact"] in ("minor", "moderate", "serious", "critical"):
                found.append(
                    f"{rel}: {v['id']} ({v['impact']}): {v['help']}: {v['nodes'][0]['html'][:160]}"
                )
    assert found == [], "\n".join(found)


def test_a_page_works_from_file_urls(site, browser):
    url = (site / PUBLISHED[0]).as_uri()
    visit = Visit(browser, url, allowed_prefix=site.as_uri() + "/")
    try:
        assert visit.errors == [] and visit.foreign == [] and visit.failed == []
        header = visit.page.locator("header.dj-header")
        assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(18, 38, 63)"
        visit.page.locator("header a.dj-lang").click()
        visit.page.wait_for_url((site / PUBLISHED[1]).as_uri())
    finally:
        visit.close()
