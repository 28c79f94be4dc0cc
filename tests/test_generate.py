import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from billing import ledger
from generation.models import CoverTask, TaskStatus
from tests.conftest import assert_ledger_consistent, jpeg_bytes

URL = "/api/v1/cover/generate"
VALID = {"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING"}


def post(client, **fields):
    return client.post(URL, {**VALID, **fields}, format="json")


def errors_of(response) -> dict:
    body = response.json()
    assert response.status_code == 422, body
    assert body["code"] == 422
    return body["data"]["errors"]


def test_generate_holds_credits_and_returns_a_task_id(client, org):
    response = post(client, taskId="rel-1", count=3)
    body = response.json()
    assert response.status_code == 200 and body["code"] == 200 and body["msg"] == "success"
    task = CoverTask.objects.get(pk=body["data"]["taskId"])
    assert task.organization == org and task.status == TaskStatus.PENDING and task.credits_held == 3
    acct = ledger.account(org)
    assert (acct.balance, acct.held, acct.available) == (100, 3, 97)
    assert_ledger_consistent(org)


def test_legacy_path_and_genre_aliases(client):
    response = client.post("/v1/album-art/generate", {**VALID, "genre": "Trap"}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["genre"] == "hiphop"
    assert post(client, genre="soul").json()["data"]["genre"] == "rnb"
    assert post(client, genre="house").json()["data"]["genre"] == "edm"
    assert post(client, genre="country").json()["data"]["genre"] == "indie"


@pytest.mark.parametrize("field", ["genre", "text_artist", "text_album"])
def test_each_required_field_missing_is_422_naming_it(client, field):
    body = {k: v for k, v in VALID.items() if k != field}
    response = client.post(URL, body, format="json")
    assert field in errors_of(response)
    assert response.json()["msg"].startswith(f"{field}:")


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"genre": "polka-gabber"}, "genre"),
        ({"count": 0}, "count"),
        ({"count": 5}, "count"),
        ({"size": 800}, "size"),
        ({"output_format": "gif"}, "output_format"),
        ({"jpeg_quality": 50}, "jpeg_quality"),
        ({"palette": ["#12345"]}, "palette"),
        ({"palette": "no-such-palette"}, "palette"),
        ({"text_artist": "   "}, "text_artist"),
        ({"text_album": "Line\nbreak"}, "text_album"),
        ({"callBackUrl": "ftp://example.com/hook"}, "callBackUrl"),
        ({"callBackUrl": "http://127.0.0.1:9000/hook"}, "callBackUrl"),
        ({"callBackUrl": "http://169.254.169.254/latest/meta-data"}, "callBackUrl"),
        ({"callBackUrl": "http://[::1]/hook"}, "callBackUrl"),
        ({"callBackUrl": "http://10.1.2.3/hook"}, "callBackUrl"),
        ({"source_image": "file:///etc/passwd"}, "source_image"),
        ({"source_image": "http://192.168.1.10/photo.jpg"}, "source_image"),
        ({"source_image": "data:image/jpeg;base64,@@@notbase64"}, "source_image"),
    ],
)
def test_bad_values_are_422_naming_the_field(client, fields, field):
    errors = errors_of(post(client, **fields))
    assert field in errors and errors[field][0]


def test_unknown_genre_lists_the_valid_ones(client):
    msg = post(client, genre="polka-gabber").json()["msg"]
    for genre in ("hiphop", "indie", "edm", "rnb"):
        assert genre in msg


def test_non_image_upload_is_422(client):
    upload = SimpleUploadedFile("photo.jpg", b"this is not an image at all" * 100, content_type="image/jpeg")
    errors = errors_of(client.post(URL, {**VALID, "source_image": upload}, format="multipart"))
    assert "source_image" in errors


def test_truncated_jpeg_is_422(client, astronaut_jpeg):
    upload = SimpleUploadedFile("photo.jpg", astronaut_jpeg[: len(astronaut_jpeg) // 2], content_type="image/jpeg")
    errors = errors_of(client.post(URL, {**VALID, "source_image": upload}, format="multipart"))
    assert "source_image" in errors


def test_image_over_the_pixel_limit_is_422(client, settings):
    settings.MAX_SOURCE_PIXELS = 1_000_000
    big = jpeg_bytes(Image.new("RGB", (1500, 1000), (120, 80, 40)))
    errors = errors_of(post(client, source_image="data:image/jpeg;base64," + base64.b64encode(big).decode()))
    assert "source_image" in errors


def test_tiny_photo_is_refused_and_small_one_warned(client):
    tiny = jpeg_bytes(Image.new("RGB", (300, 300), (10, 10, 10)))
    errors = errors_of(post(client, source_image="data:image/jpeg;base64," + base64.b64encode(tiny).decode()))
    assert "source_image" in errors
    small = jpeg_bytes(Image.new("RGB", (600, 700), (10, 10, 10)))
    response = post(client, source_image="data:image/jpeg;base64," + base64.b64encode(small).decode())
    assert response.status_code == 200
    assert "800" in response.json()["data"]["warnings"][0]


def test_upload_over_the_byte_limit_is_413(client, settings):
    settings.MAX_UPLOAD_BYTES = 50_000
    noise = Image.effect_noise((600, 600), 100).convert("RGB")
    buf = io.BytesIO()
    noise.save(buf, "PNG")
    assert len(buf.getvalue()) > 50_000
    upload = SimpleUploadedFile("photo.png", buf.getvalue(), content_type="image/png")
    response = client.post(URL, {**VALID, "source_image": upload}, format="multipart")
    assert response.status_code == 413 and response.json()["code"] == 413


def test_multipart_upload_stores_the_photo(client, astronaut_jpeg):
    upload = SimpleUploadedFile("photo.jpg", astronaut_jpeg, content_type="image/jpeg")
    response = client.post(URL, {**VALID, "count": "2", "explicit": "true", "source_image": upload},
                           format="multipart")
    assert response.status_code == 200, response.json()
    task = CoverTask.objects.get(pk=response.json()["data"]["taskId"])
    assert task.source_path and task.count == 2 and task.params["explicit"] is True


def test_not_enough_credits_is_402_with_needed_and_available(client, org):
    ledger.hold(org, 99)
    response = post(client, count=3)
    assert response.status_code == 402
    body = response.json()
    assert body["data"] == {"needed": 3, "available": 1}
    assert "3 needed" in body["msg"] and "1 available" in body["msg"]
    assert CoverTask.objects.count() == 0
    assert_ledger_consistent(org)


def test_duplicate_task_id_is_409_while_running_and_400_after(client, org):
    first = post(client, taskId="release-42").json()["data"]["taskId"]
    running = post(client, taskId="release-42")
    assert running.status_code == 409 and running.json()["data"]["taskId"] == first
    task = CoverTask.objects.get(pk=first)
    task.start()
    task.finish(passed=3)
    done = post(client, taskId="release-42")
    assert done.status_code == 400 and done.json()["data"] == {"taskId": first}


def test_a_failed_task_id_can_be_submitted_again(client):
    first = post(client, taskId="release-7").json()["data"]["taskId"]
    CoverTask.objects.get(pk=first).fail("boom")
    again = post(client, taskId="release-7")
    assert again.status_code == 200 and again.json()["data"]["taskId"] != first


def test_same_task_id_in_two_organisations_is_fine(client, outsider_client):
    assert post(client, taskId="shared-id").status_code == 200
    assert post(outsider_client, taskId="shared-id").status_code == 200


def test_record_info_and_status_need_a_task_id(client):
    assert "taskId" in errors_of(client.get("/api/v1/cover/record-info"))
    assert "task_id" in errors_of(client.get("/api/v1/cover/status"))


def test_record_info_of_a_pending_task(client):
    task_id = post(client, taskId="mine").json()["data"]["taskId"]
    data = client.get(f"/api/v1/cover/record-info?taskId={task_id}").json()["data"]
    assert data["taskId"] == task_id and data["musicTaskId"] == "mine" and data["status"] == "PENDING"
    assert data["images"] == [] and data["credits"] == {"held": 3, "charged": 0}
    assert client.get(f"/api/v1/cover/status?task_id={task_id}").json()["data"] == data


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/cover/generate" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_genre_catalogue_lists_genres_aliases_palettes_and_fonts(client):
    data = client.get("/api/v1/genres").json()["data"]
    genres = {g["genre"]: g for g in data["genres"]}
    for key in ("hiphop", "indie", "edm", "rnb", "rock", "pop", "jazz", "ambient", "metal", "lofi", "classical"):
        assert key in genres and genres[key]["fonts"] and genres[key]["palette"]
    assert "trap" in genres["hiphop"]["aliases"]
    assert "dark_gold" in data["palettes"]
    assert post(client, palette="dark_gold").status_code == 200


def test_style_reference_palette_is_extracted(client):
    half = Image.new("RGB", (200, 200), (12, 10, 40))
    half.paste((240, 200, 60), (100, 0, 200, 200))
    data = "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes(half)).decode()
    response = post(client, style_reference=data)
    assert response.status_code == 200, response.json()
    palette = CoverTask.objects.get(pk=response.json()["data"]["taskId"]).params["reference_palette"]
    assert len(palette) == 5 and all(c.startswith("#") and len(c) == 7 for c in palette)
    errors = errors_of(post(client, style_reference="data:image/jpeg;base64,bm90IGFuIGltYWdl"))
    assert "style_reference" in errors


@pytest.mark.parametrize("field", ["source_image", "style_reference"])
def test_a_photo_url_that_trickles_is_422_naming_the_field_within_the_deadline(client, settings, field):
    import time

    from tests.live import Trickle

    settings.ALLOW_PRIVATE_CALLBACKS = True  # the stand-in host is on 127.0.0.1
    settings.FETCH_DEADLINE_SECONDS = 1
    trickle = Trickle()
    try:
        started = time.monotonic()
        errors = errors_of(post(client, **{field: trickle.url}))
        assert time.monotonic() - started < 3  # the web thread is free again, not held for minutes
    finally:
        trickle.close()
    assert "within 1 s" in errors[field][0], errors
    assert not CoverTask.objects.exists()
