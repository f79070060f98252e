"""/docs in a real headless Chromium: Swagger UI renders the generated OpenAPI document and
its "Try it out" really embeds through Envoy, with every asset served locally.

Driven by Playwright's Python package with the system Chromium (`playwright install` is
never run, so nothing is downloaded); a screenshot lands in test-artifacts/docs.png for CI.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from ..support.processes import EnvoyProcess
from ..support.reference import unavailable

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOCAL_SCHEMES = {"data", "blob", "about"}  # never leave the browser
TEXT_DIM = 384  # all-MiniLM-L6-v2, the embedded model the stack serves


def _browser_env() -> dict[str, str]:
    """Chromium follows *_PROXY from the environment: a CI proxy must not see the page."""
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    return {k: v for k, v in os.environ.items() if k.lower() not in proxies}


def _outside_loopback(urls: list[str]) -> list[str]:
    return [
        url
        for url in urls
        if urlsplit(url).scheme not in LOCAL_SCHEMES and urlsplit(url).hostname != "127.0.0.1"
    ]


def _try_embed(page: Page) -> tuple[str, str]:
    """Opens the /embed operation, edits the example body and executes it as a user would;
    returns (status, body) as Swagger UI shows them."""
    operation = page.locator("#operations-text-Embed")
    operation.locator(".opblock-summary-control").click()
    operation.locator("button.try-out__btn").click()
    # The example asks for dim 128; no dim means the model's native dimension.
    operation.locator("textarea.body-param__text").fill('{"input": "Hello world"}')
    operation.locator("button.execute").click()
    live = operation.locator(".live-responses-table")
    body = live.locator(".response-col_description .highlight-code pre")
    body.wait_for(state="visible")
    status = live.locator("tbody .response-col_status").first.inner_text().strip()
    return status, body.inner_text()


def _screenshot_down_to(page: Page, selector: str, path: Path) -> None:
    """The page from its title down to `selector` (the whole page is ~7000 px of schemas)."""
    box = page.locator(selector).bounding_box()
    scroll_y = page.evaluate("window.scrollY")
    bottom = (box["y"] + box["height"] + scroll_y + 16) if box else 1024
    width = page.viewport_size["width"] if page.viewport_size else 1280
    page.screenshot(
        path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": bottom}
    )


def test_swagger_ui_renders_and_tries_embed(rest: EnvoyProcess, tmp_path: Path) -> None:
    """The docs page a user opens: operations listed, "Try it out" on /embed answers."""
    if not CHROMIUM.is_file():
        unavailable(f"Chromium is not installed at {CHROMIUM} (Debian package `chromium`)")
    _, _, raw = rest.request("GET", "/openapi.json")
    operations = sum(len(methods) for methods in json.loads(raw)["paths"].values())
    ARTIFACTS.mkdir(exist_ok=True)
    requested: list[str] = []
    page_errors: list[str] = []

    with sync_playwright() as playwright:
        context: BrowserContext = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh profile: no cache, no state from other runs
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            env=_browser_env(),
            viewport={"width": 1280, "height": 1024},
        )
        try:
            context.set_default_timeout(20_000)
            context.on("request", lambda request: requested.append(request.url))
            page = context.new_page()
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.goto(f"{rest.url}/docs", wait_until="load")

            page.locator("#operations-text-Embed").wait_for(state="visible")
            assert "nomic-serve" in page.title()
            assert "nomic-serve" in page.locator(".information-container .title").inner_text()
            assert page.locator(".opblock").count() == operations

            status, shown = _try_embed(page)
            _screenshot_down_to(
                page, "#operations-text-Embed .live-responses-table", ARTIFACTS / "docs.png"
            )
        except BaseException:
            with contextlib.suppress(Exception):
                context.pages[0].screenshot(path=str(ARTIFACTS / "docs-failure.png"))
            raise
        finally:
            context.close()

    assert status == "200", shown
    reply = json.loads(shown)
    embedding = reply["embedding"]
    assert len(embedding) == TEXT_DIM and all(isinstance(v, (int, float)) for v in embedding)
    assert math.isclose(math.fsum(v * v for v in embedding), 1.0, rel_tol=1e-4)
    assert reply["tokens"] == 4  # [CLS] hello world [SEP]
    assert not page_errors, page_errors
    assert f"{rest.url}/embed" in requested, requested
    assert not _outside_loopback(requested), requested
