"""Staff review in the Django admin with a real browser: approve one image, reject another, the task settles."""

import io

import pytest
from django.contrib.auth import get_user_model
from PIL import Image

from billing import ledger
from generation import files
from generation.models import CoverImage, CoverTask, TaskStatus
from tests.browser.conftest import shot
from tests.conftest import assert_ledger_consistent, make_org

pytestmark = pytest.mark.django_db(transaction=True)


def png(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (600, 600), colour).save(buf, "PNG")
    return buf.getvalue()


def review_task(org) -> CoverTask:
    task = CoverTask.objects.create(organization=org, genre="hiphop", count=2, credits_held=2,
                                    params={"text_artist": "NOVA", "text_album": "STILL STANDING"})
    ledger.hold(org, 2, task)
    task.start()
    for index, colour in enumerate([(200, 60, 40), (40, 60, 200)]):
        path = files.save(f"covers/{org.id}/{task.id}/{index}.png", png(colour))
        checks = {"size": "pass", "legibility_56px": "review", "ocr_text": "pass" if index else "review"}
        CoverImage.objects.create(
            task=task, index=index, variant=["artist", "background"][index], seed=index, format="png", width=600,
            height=600, bytes=1000, storage_path=path, filename=f"NOVA_{index}.png", verdict="review",
            qa={"verdict": "review", "score": 0.8, "checks": checks,
                "values": {"size": 600, "legibility_56px": 1.8, "ocr_text": 0.6, "ocr_read": ["NOVA", "STILL"]}})
    task.await_review(held=2, charged=0)
    return task


def test_staff_approve_one_and_reject_one_from_the_review_queue(new_page, live):
    org = make_org("Review Records", credits=10)
    task = review_task(org)
    first, second = task.images.order_by("index")
    get_user_model().objects.create_superuser("staff", "staff@example.com", "staff-pass-123")
    page = new_page(width=1400, height=1000)
    page.goto("/admin/login/?next=/admin/generation/reviewimage/")
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("staff-pass-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/generation/reviewimage/")
    assert page.locator("img[alt^='thumbnail']").count() == 2
    assert page.locator("tr[data-verdict='review']").count() >= 2  # failing values highlighted
    assert "STILL STANDING" in page.content()
    shot(page, "admin-review-queue")

    page.get_by_role("button", name=f"Approve image {first.pk}").click()
    assert f"Image {first.pk} approved" in page.locator(".messagelist").inner_text()
    task.refresh_from_db()
    assert task.status == TaskStatus.REVIEW and task.credits_charged == 1

    page.locator(f"input[name='_selected_action'][value='{second.pk}']").check()
    page.locator("select[name='action']").select_option("reject_selected")
    page.get_by_role("button", name="Go").click()
    assert "1 image(s) rejected" in page.locator(".messagelist").inner_text()
    shot(page, "admin-review-decided")

    task.refresh_from_db()
    assert task.status == TaskStatus.PARTIAL and (task.credits_held, task.credits_charged) == (0, 1)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.decision, second.decision) == ("approved", "rejected")
    assert first.reviewed_by.username == "staff"
    acct = ledger.account(org)
    assert (acct.balance, acct.held) == (9, 0)
    assert_ledger_consistent(org)

    page.goto("/admin/generation/reviewimage/stats/")
    assert page.locator("table.qa-stats[data-period='7'][data-by='genre']").inner_text().count("hiphop") == 1
    shot(page, "admin-qa-stats")
