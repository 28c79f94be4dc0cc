"""The API docs in a real browser, offline: Swagger UI at /api/docs/ loads the schema, takes an API key and tries a
request out; Redoc at /api/redoc/ renders the operations. No request leaves the server."""

import pytest

from tests.browser.conftest import shot
from tests.conftest import api_client, make_org

pytestmark = pytest.mark.django_db(transaction=True)


def _local_only(page, live) -> list:
    """Every request of the page that is not to the live server (data: and blob: URLs are local)."""
    outside = []
    page.on("request", lambda r: outside.append(r) if not r.url.startswith((live.url, "data:", "blob:")) else None)
    return outside


def test_swagger_ui_tries_a_request_out_with_an_api_key(new_page, live):
    key = api_client(make_org("Docs Records", credits=5)).plaintext_key
    page = new_page()
    outside = _local_only(page, live)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/api/docs/")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() >= 18
    page.locator("button.authorize").first.click()
    page.locator(".auth-container input").first.fill(key)
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator(".auth-btn-wrapper button.btn-done").click()
    operation = page.locator("#operations-Credits-credits")
    operation.locator(".opblock-summary").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert '"available": 5' in operation.locator(".live-responses-table").inner_text()
    shot(page, "api-docs-swagger")
    assert [r.url for r in outside] == [] and errors == []


def test_redoc_renders_the_operations(new_page, live):
    page = new_page()
    outside = _local_only(page, live)
    page.goto("/api/redoc/")
    page.locator("h2", has_text="Start a cover task (sunoapi.org dialect)").wait_for()
    assert page.locator("h2", has_text="/api/v1/cover/generate").count() or page.locator("h2").count() >= 18
    shot(page, "api-docs-redoc")
    # Redoc's footer asks Redocly's CDN for its logo; the page's policy blocks it before it leaves the browser.
    assert [r.url for r in outside if r.failure != "csp"] == []
