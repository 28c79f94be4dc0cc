"""The reuse rule (issue 13 part 6): reused artwork counts only against other releases' delivered covers. A
resubmission of the same release (same organisation, and the same client taskId or the same artist and title) with
the same photo and text is not "reused artwork"; a different release with an identical cover still is."""

import base64

import pytest

from generation import jobs
from generation.engine.sentinel.phash import reuse
from generation.models import CoverImage, CoverTask, TaskStatus, release_key
from tests.conftest import make_org


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


SIGNATURE = "4a" * 48
PHASH = "00ff00ff00ff00ff"


def task_for(org, artist="NOVA", album="STILL STANDING", **fields) -> CoverTask:
    params = {"text_artist": artist, "text_album": album} if artist is not None else {}
    return CoverTask.objects.create(organization=org, genre="hiphop", params=params, count=1, **fields)


def deliver(task: CoverTask, phash: str = PHASH) -> CoverImage:
    return CoverImage.objects.create(task=task, index=0, variant="artist", seed=1, format="png", width=1, height=1,
                                     bytes=1, storage_path="x.png", filename="c.png", passed=True, verdict="pass",
                                     phash=phash, qa={"values": {"phash": phash, "colour_signature": SIGNATURE}})


def verdict_for(task: CoverTask) -> str:
    return reuse(int(PHASH, 16), SIGNATURE, jobs.known_hashes(task))[0]


def test_the_release_key_ignores_case_accents_and_spacing():
    assert release_key("Beyoncé", "Renaissance") == release_key("  BEYONCE ", "renaissance")
    assert release_key("NOVA", "Still  Standing") == release_key("nova", "still standing")
    assert release_key("NOVA", "Still Standing") != release_key("NOVA", "Still Standing (Deluxe)")
    assert release_key("NOVA", "") == release_key("", "X") == release_key(None, None) == ""


@pytest.mark.django_db
def test_the_same_artist_and_title_is_the_same_release():
    org = make_org("Northside Records")
    deliver(task_for(org, client_task_id="rel-1"))
    again = task_for(org, artist="nova", album="Still Standing")  # no taskId, the text as another person typed it
    assert verdict_for(again) == "pass"


@pytest.mark.django_db
def test_the_same_client_task_id_is_the_same_release():
    org = make_org("Northside Records")
    first = task_for(org, client_task_id="rel-1", status=TaskStatus.CANCELLED)  # delivered one cover, then cancelled
    deliver(first)
    corrected = task_for(org, album="STILL STANDING (REMASTERED)", client_task_id="rel-1")
    assert verdict_for(corrected) == "pass"


@pytest.mark.django_db
def test_another_release_with_the_same_cover_is_still_reuse():
    org, other_org = make_org("Northside Records"), make_org("Outsider Music")
    deliver(task_for(org, client_task_id="rel-1"))
    assert verdict_for(task_for(org, album="ANOTHER RECORD", client_task_id="rel-2")) == "fail"
    assert verdict_for(task_for(org, artist="LAYLA MOORE", album="STILL STANDING")) == "fail"  # same title only
    assert verdict_for(task_for(org, artist=None)) == "fail"  # no text known: never "the same release"
    assert verdict_for(task_for(other_org)) == "pass"  # another organisation's covers are never compared


@pytest.mark.django_db
def test_tasks_created_before_the_key_existed_got_it_from_their_params():
    # The migration fills release_key from params; a task saved with params later (not on insert) keeps its own.
    org = make_org("Northside Records")
    task = task_for(org)
    assert task.release_key == release_key("NOVA", "STILL STANDING")
    CoverTask.objects.filter(pk=task.pk).update(release_key="")
    from importlib import import_module

    from django.apps import apps
    import_module("generation.migrations.0009_release_key").fill_release_keys(apps, None)
    task.refresh_from_db()
    assert task.release_key == release_key("NOVA", "STILL STANDING")


# -- through the API, with the real engine and Sentinel ------------------------------------------------------------

def generate(client, photo: str, **fields) -> CoverTask:
    body = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING", "count": 1, "size": 1400,
            "seed": 11, "source_image": photo, **fields}
    response = client.post("/api/v1/cover/generate", body, format="json")
    assert response.status_code == 200, response.content
    return CoverTask.objects.get(pk=response.json()["data"]["taskId"])


def test_a_resubmitted_release_is_not_reuse_but_another_release_with_its_cover_is(client, astronaut_jpeg, settings,
                                                                                     monkeypatch):
    settings.QA_OCR = False  # not what this is about; saves time
    settings.QA_MAX_ATTEMPTS = 0
    photo = "data:image/jpeg;base64," + base64.b64encode(astronaut_jpeg).decode()
    rendered = []
    real_render = jobs.engine.render
    monkeypatch.setattr(jobs.engine, "render", lambda spec, prepared=None: rendered.append(
        real_render(spec, prepared)) or rendered[-1])

    first = generate(client, photo, taskId="rel-1")
    jobs.render_task(first.id)
    first.refresh_from_db()
    assert first.status == TaskStatus.SUCCESS, first.images.get().qa["checks"]
    delivered = first.images.get()

    # The platform submits the same release again (a new taskId, the same photo, text and seed): the same cover.
    again = generate(client, photo, taskId="rel-1-retry")
    jobs.render_task(again.id)
    again.refresh_from_db()
    cover = again.images.get()
    assert cover.phash == delivered.phash and cover.qa["checks"]["reuse"] == "pass"
    assert again.status == TaskStatus.SUCCESS

    # Another release whose render comes out as that very cover: reused artwork, and the task data says so.
    monkeypatch.setattr(jobs.engine, "render", lambda spec, prepared=None: rendered[0])
    other = generate(client, photo, taskId="rel-2", text_album="ANOTHER RECORD")
    jobs.render_task(other.id)
    other.refresh_from_db()
    assert other.status == TaskStatus.FAILED
    assert other.images.get().qa["checks"]["reuse"] == "fail"
    data = client.get("/api/v1/cover/record-info", {"taskId": other.id}).json()["data"]
    [failed] = data["failedImages"]
    [check] = [c for c in failed["failedChecks"] if c["check"] == "reuse"]
    assert check["values"]["reuseDistance"] == 0
    assert "already delivered for another release" in check["reason"]
