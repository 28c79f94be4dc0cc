import json

from django.test import RequestFactory

from generation import devreceiver
from generation.callbacks import signed_headers
from generation.models import CoverTask


def _post(body: bytes, headers: dict):
    request = RequestFactory().post("/dev/callbacks", data=body, content_type="application/json",
                                    headers={k: v for k, v in headers.items() if k != "content-type"})
    return devreceiver.callbacks(request)


def test_demo_receiver_verifies_signatures(org):
    devreceiver.RECEIVED.clear()
    task = CoverTask.objects.create(organization=org, genre="hiphop", params={}, count=1)
    body = json.dumps({"code": 200, "data": {"taskId": task.id}}).encode()
    headers = signed_headers(org.webhook_key, f"msg_{task.id}", body)
    assert _post(body, headers).status_code == 200
    assert _post(body.replace(b"200", b"201"), headers).status_code == 200
    listing = json.loads(devreceiver.callbacks(RequestFactory().get("/dev/callbacks")).content)["callbacks"]
    assert [c["signatureValid"] for c in listing] == [False, True]


def test_demo_receiver_is_not_mounted_outside_debug(client):
    assert client.get("/dev/callbacks").status_code == 404
