"""Covers and photos in an S3-compatible object store, over HTTP: a moto server started for these tests stands in
for S3. Workers on other machines share the files through it (no shared folder), and clients download them
through our signed URL, which redirects to a short-lived presigned URL of the store."""

import base64
import io

import boto3
import pytest
import requests
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from moto.server import ThreadedMotoServer
from PIL import Image

from albumart.env import s3_storage
from albumart.local import free_port
from generation import files
from tests.conftest import api_client, assert_ledger_consistent, make_org
from tests.live import Worker, empty_queues, wait_for

BUCKET = "albumart-covers"
KEYS = {"S3_ACCESS_KEY_ID": "test-key", "S3_SECRET_ACCESS_KEY": "test-secret", "S3_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3_server():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test-key", aws_secret_access_key="test-secret",
                 region_name="us-east-1").create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def on_s3(settings, s3_server):
    """The storage settings that S3_BUCKET and the other S3_* variables give (albumart.env.s3_storage)."""
    settings.STORAGES = {**django_settings.STORAGES,
                         "default": s3_storage({"S3_BUCKET": BUCKET, "S3_ENDPOINT_URL": s3_server, **KEYS})}
    return s3_server


def objects(endpoint: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test-key",
                          aws_secret_access_key="test-secret", region_name="us-east-1")
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


@pytest.mark.django_db
def test_files_live_in_the_bucket_and_are_served_by_presigned_redirect(on_s3, client):
    assert default_storage.__class__.__name__ == "S3Storage"
    path = files.save("covers/1/t/0.png", b"\x89PNG cover bytes")
    assert path == "covers/1/t/0.png" and path in objects(on_s3)
    assert files.save(path, b"\x89PNG replaced") == path  # the same name, overwritten
    assert files.read(path) == b"\x89PNG replaced"

    url = files.signed_url(path, "NOVA_STILL_STANDING_3000x3000.png").removeprefix(django_settings.PUBLIC_BASE_URL)
    response = client.get(url)
    assert response.status_code == 302
    target = response["Location"]
    assert target.startswith(on_s3) and "X-Amz-Signature=" in target  # presigned, short-lived
    download = requests.get(target, timeout=10)
    assert download.status_code == 200 and download.content == b"\x89PNG replaced"
    assert 'filename="NOVA_STILL_STANDING_3000x3000.png"' in download.headers["Content-Disposition"]
    assert requests.get(target.split("?")[0], timeout=10).status_code == 403  # private without the signature

    files.delete(path)
    assert path not in objects(on_s3)
    assert client.get(url).status_code == 404


def _photo() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (900, 900), (40, 90, 160)).save(buf, "JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_renders_into_the_bucket_and_the_client_downloads_from_it(live, on_s3, tmp_path):
    org = make_org("Bucket Records", credits=5)
    worker = Worker(live.url, {"S3_BUCKET": BUCKET, "S3_ENDPOINT_URL": on_s3, **KEYS,
                               "MEDIA_ROOT": str(tmp_path / "nothing-shared")}).start()
    try:
        client = api_client(org)
        response = requests.post(f"{live.url}/api/v1/cover/generate", timeout=30,
                                 headers={"Authorization": f"Bearer {client.plaintext_key}"},
                                 json={"genre": "hiphop", "text_artist": "NOVA", "text_album": "STILL STANDING",
                                       "seed": 11, "count": 1, "source_image": _photo()})
        assert response.status_code == 200, response.text
        task_id = response.json()["data"]["taskId"]
        wait_for(lambda: client.get(f"/api/v1/cover/record-info?taskId={task_id}").json()["data"]["status"]
                 in ("SUCCESS", "PARTIAL", "FAILED"), timeout=180, what="the task to finish")
    finally:
        print(worker.stop()[-3000:])
        empty_queues()
    data = client.get(f"/api/v1/cover/record-info?taskId={task_id}").json()["data"]
    assert data["status"] == "SUCCESS", data
    stored = objects(on_s3)
    assert any(key.startswith(f"sources/{org.pk}/") for key in stored)  # the upload, read by the worker from S3
    assert any(key.startswith(f"covers/{org.pk}/{task_id}/") for key in stored)
    assert not any((tmp_path / "nothing-shared").rglob("*.png"))  # nothing went through a shared folder
    image = data["images"][0]
    download = requests.get(image["url"], timeout=30)  # our signed URL, then the store's presigned one
    assert download.status_code == 200 and download.history and download.history[0].status_code == 302
    assert len(download.content) == image["bytes"]
    assert Image.open(io.BytesIO(download.content)).size == (3000, 3000)
    assert_ledger_consistent(org)
