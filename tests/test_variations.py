import pytest

from generation.jobs import spec_for
from generation.models import CoverImage, CoverTask
from tests.conftest import assert_ledger_consistent

VALID = {"genre": "rnb", "text_artist": "Layla Moore", "text_album": "Velvet Hours", "seed": 100}


@pytest.fixture
def finished(client, org):
    task_id = client.post("/api/v1/cover/generate", VALID, format="json").json()["data"]["taskId"]
    task = CoverTask.objects.get(pk=task_id)
    task.start()
    for index, variant in enumerate(["artist", "background", "text"]):
        CoverImage.objects.create(task=task, index=index, variant=variant, seed=100 + index, format="png",
                                  width=3000, height=3000, bytes=1, storage_path=f"x/{index}.png", filename="f.png",
                                  passed=index != 2)
    task.finish(passed=2)
    return task


def test_reroll_makes_a_new_task_with_new_seeds(client, org, finished):
    response = client.post(f"/api/v1/cover/{finished.id}/variations", {}, format="json")
    assert response.status_code == 200, response.json()
    child = CoverTask.objects.get(pk=response.json()["data"]["taskId"])
    assert child.parent == finished and child.count == 3 and child.params["seed"] is None
    assert child.params["text_artist"] == "Layla Moore" and child.credits_held == 3
    assert_ledger_consistent(org)


def test_variation_of_one_image_keeps_its_variant(client, finished):
    response = client.post(f"/api/v1/cover/{finished.id}/variations", {"image": 1, "count": 2}, format="json")
    child = CoverTask.objects.get(pk=response.json()["data"]["taskId"])
    specs = [spec_for(child, i, None) for i in range(child.count)]
    assert [s.variant for s in specs] == ["background", "background"]
    assert len({s.seed for s in specs}) == 2 and 101 not in {s.seed for s in specs}


def test_variation_of_an_undelivered_image_is_422(client, finished):
    response = client.post(f"/api/v1/cover/{finished.id}/variations", {"image": 2}, format="json")
    assert response.status_code == 422 and "image" in response.json()["data"]["errors"]


def test_feedback_is_stored_and_shown(client, finished):
    response = client.post(f"/api/v1/cover/{finished.id}/feedback",
                           {"image": 0, "accepted": False, "reason": "face too dark"}, format="json")
    assert response.status_code == 200
    image = finished.images.get(index=0)
    assert image.accepted is False and image.feedback_reason == "face too dark"
    assert client.post(f"/api/v1/cover/{finished.id}/feedback", {"image": 0}, format="json").status_code == 422


def test_another_organisations_task_is_404(outsider_client, finished):
    assert outsider_client.post(f"/api/v1/cover/{finished.id}/variations", {}, format="json").status_code == 404
    response = outsider_client.post(f"/api/v1/cover/{finished.id}/feedback", {"image": 0, "accepted": True},
                                    format="json")
    assert response.status_code == 404


def test_same_seed_same_request_same_specs(finished):
    assert spec_for(finished, 0, None) == spec_for(finished, 0, None)
    assert spec_for(finished, 0, None).seed == 100 and spec_for(finished, 1, None).seed == 101
