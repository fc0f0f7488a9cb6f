"""The API docs work offline: /docs and /redoc reference only assets the server itself answers."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from contradict.settings import Settings
from service.app import create_app
from tests.support.browser import chromium_driver, fetched_resources
from tests.support.service import LiveServer

API_KEY = "docs-test-key"


class _References(HTMLParser):
    """Every URL a page makes the browser fetch: script src, link href, img src."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module")
def secured_docs(tiny_model_dir):
    """With an API key set: the docs must still open without one (they are public)."""
    server = LiveServer(create_app(Settings(model=str(tiny_model_dir), api_key=API_KEY))).start()
    yield server
    server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_page_and_every_asset_come_from_the_server(secured_docs, page):
    base = secured_docs.url
    answer = httpx.get(base + page)
    assert answer.status_code == 200
    urls = references(answer.text)
    # Swagger UI: its bundle, CSS and favicon; ReDoc: its standalone bundle and favicon.
    assert len(urls) >= 2, urls
    for url in urls:
        absolute = urljoin(base + page, url)
        assert urlsplit(absolute).netloc == urlsplit(base).netloc, f"{page} loads {url} from elsewhere"
        asset = httpx.get(absolute)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url  # a real bundle, not an error page
    assert "googleapis" not in answer.text and "cdn.jsdelivr" not in answer.text
    # What the bundles would fetch by themselves (ReDoc's logo) the page's policy refuses.
    assert "img-src 'self' data:" in answer.headers["content-security-policy"]
    # The spec the page renders is served too.
    assert httpx.get(base + "/openapi.json").json()["info"]["title"] == "contradict"


@pytest.mark.slow  # a real browser and a real server
def test_docs_render_in_a_browser_from_the_server_alone(secured_docs):
    """Swagger UI and ReDoc draw the API in headless Chromium, every fetch going to the server."""
    driver = chromium_driver()
    try:
        for page, title in (("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")):
            driver.get(secured_docs.url + page)
            heading = WebDriverWait(driver, 30).until(
                lambda d, css=title: d.find_element(By.CSS_SELECTOR, css)  # noqa: B023
            )
            assert "contradict" in heading.text
            fetched = fetched_resources(driver)
            ours = [r for r in fetched if r["url"].startswith(secured_docs.url + "/")]
            assert len(ours) >= 2 and all(r["status"] == 200 for r in ours), fetched  # bundle, spec
            # Anything else (ReDoc's sidebar logo on a CDN) is refused by the page's policy: no byte.
            assert all(r["status"] == 0 and r["bytes"] == 0 for r in fetched if r not in ours), fetched
    finally:
        driver.quit()
