"""The customer dashboard in a real browser: sign-up, keys against the real API, the playground on a real worker,
team roles, and screenshots of every main page under tests/artifacts/."""

import re

import pytest
import requests

from billing import ledger
from generation.models import CoverImage, CoverTask
from tests.browser.conftest import shot
from tests.live import Worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def nav(page, name: str) -> None:
    page.get_by_role("complementary", name="Main").get_by_role("link", name=name, exact=True).click()


def sign_up(page, email: str, org: str = "Northside Records", password: str = "correct-horse-9"):
    page.goto("/signup/")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Organisation name").fill(org)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/dashboard/")


def test_sign_up_create_key_use_it_and_revoke_it(new_page, live):
    page = new_page()
    page.goto("/login/")
    shot(page, "login")
    page.get_by_role("link", name="Create an account").click()
    shot(page, "signup")
    sign_up(page, "ada@example.com")
    assert page.get_by_role("heading", level=1).inner_text() == "Northside Records"
    shot(page, "overview")

    nav(page, "API keys")
    page.get_by_label("Key name").fill("production backend")
    page.get_by_role("button", name="Create key").click()
    plaintext = page.locator("#new-key").inner_text()
    assert re.fullmatch(r"aa_[0-9a-f]{12}\.\S+", plaintext)
    page.get_by_role("button", name="Copy").first.click()
    shot(page, "keys")
    headers = {"Authorization": f"Bearer {plaintext}"}
    r = requests.get(f"{live.url}/api/v1/credits", headers=headers, timeout=10)
    assert r.status_code == 200 and r.json()["code"] == 200

    page.reload()  # shown once: a fresh view of the page no longer has it
    assert plaintext not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke production backend").click()
    assert "The API refuses it" in page.locator(".messages").inner_text()
    r = requests.get(f"{live.url}/api/v1/credits", headers=headers, timeout=10)
    assert r.status_code == 401

    nav(page, "API docs")
    assert "aa_" in page.locator("pre").first.inner_text()
    shot(page, "docs")


def test_playground_to_finished_covers_and_accept_one(new_page, live):
    worker = Worker(live.url).start()
    try:
        page = new_page()
        sign_up(page, "bo@example.com", org="Playground Records")
        task_org = CoverTask._meta.get_field("organization").related_model.objects.get(name="Playground Records")
        ledger.grant(task_org, 20, note="trial")
        nav(page, "Playground")
        page.get_by_label("Artist", exact=True).fill("NOVA & Layla Moore")
        page.get_by_label("Title", exact=True).fill("Still Standing")
        page.get_by_label("Feature (optional)").fill("DJ Kilo")
        page.get_by_label("Genre", exact=True).select_option("edm")
        page.get_by_label("neon_night").check()
        page.get_by_label("Covers", exact=True).select_option("2")
        page.get_by_label("Size (px)").fill("1400")
        page.get_by_label("Explicit (Parental Advisory)").check()
        # A fixed seed: with a random one, about one cover in a hundred of this request is a borderline
        # thumbnail the QA sends to staff review, and the task then ends in REVIEW rather than SUCCESS.
        page.get_by_label("Seed").fill("7")
        shot(page, "playground")
        page.get_by_role("button", name="Generate covers").click()
        page.wait_for_url("**/covers/*/")
        # The task page polls progress and reloads with the covers when the task is done.
        page.locator("article.cover").first.wait_for(timeout=90_000)
        assert page.locator("#task-status").inner_text() == "SUCCESS"
        assert page.locator("article.cover").count() == 2
        page.get_by_role("button", name="Accept cover 1").click()
        assert "Cover 1 accepted" in page.locator(".messages").inner_text()
        assert page.locator("article.cover.accepted").count() == 1
        page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        shot(page, "task")
        task = CoverTask.objects.get(organization=task_org)
        assert CoverImage.objects.get(task=task, index=0).accepted is True
        download = page.get_by_role("link", name="Download").first.get_attribute("href")
        assert requests.get(download, timeout=10).headers["content-type"].startswith("image/")

        nav(page, "Covers")
        page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        assert "NOVA &amp; Layla Moore" in page.content()
        shot(page, "covers", full_page=False)
        nav(page, "Usage")
        assert page.locator("svg.chart").count() == 4
        shot(page, "usage")
        nav(page, "Credits & billing")
        assert page.locator("#available").inner_text() == "18"
        shot(page, "credits")

        phone = new_page(390, 844)
        phone.context.add_cookies(page.context.cookies())
        phone.goto("/covers/")
        shot(phone, "covers-phone")
    finally:
        print(worker.stop()[-3000:])


def test_invited_member_cannot_see_billing(new_page, live, mailoutbox):
    owner = new_page()
    sign_up(owner, "owner@example.com", org="Team Records")
    nav(owner, "Team")
    owner.get_by_label("Email", exact=True).fill("member@example.com")
    owner.get_by_label("Role", exact=True).select_option("member")
    owner.get_by_role("button", name="Send invitation").click()
    assert "Invitation sent" in owner.locator(".messages").inner_text()
    link = wait_for(lambda: [m for m in mailoutbox if m.to == ["member@example.com"]], timeout=10,
                    what="the invitation email")[0]
    url = re.search(r"https?://\S+", link.body).group(0)

    member = new_page()
    member.goto(url)
    member.get_by_role("link", name="Create an account").click()
    member.get_by_label("Password").fill("member-pass-123")
    member.get_by_role("button", name="Join").click()
    member.wait_for_url("**/dashboard/")
    assert member.get_by_role("heading", level=1).inner_text() == "Team Records"
    menu = member.get_by_role("navigation").first.inner_text()
    assert "Credits" not in menu and "API keys" not in menu and "Covers" in menu
    for path in ("/credits/", "/keys/"):
        response = member.goto(path)
        assert response.status == 403
    assert "Owners and admins only" in member.content()
    shot(member, "member-forbidden")

    owner.reload()
    assert "member@example.com" in owner.locator("table").first.inner_text()
    shot(owner, "team")
