"""A callback receiver for local development (DEBUG only): `make run`'s demo curl points its callBackUrl here.

It checks each callback's Standard Webhooks signature with the organisation's secret, the way a platform would,
and keeps the last few in memory so that `GET /dev/callbacks` shows what arrived and whether it verified.
"""

import hmac
import json
from collections import deque

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from generation.callbacks import sign
from generation.models import CoverTask

RECEIVED: deque = deque(maxlen=20)


def _verified(request, body: bytes) -> bool:
    webhook_id = request.headers.get("webhook-id", "")
    timestamp = request.headers.get("webhook-timestamp", "")
    task = CoverTask.objects.select_related("organization").filter(pk=webhook_id.removeprefix("msg_")).first()
    if task is None or not timestamp.isdigit():
        return False
    expected = sign(task.organization.webhook_key, webhook_id, int(timestamp), body)
    given = request.headers.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, signature) for signature in given)


@csrf_exempt
def callbacks(request):
    if request.method == "POST":
        body = request.body
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        RECEIVED.appendleft({"receivedAt": timezone.now().isoformat(), "webhookId": request.headers.get("webhook-id"),
                             "signatureValid": _verified(request, body), "body": payload})
        return JsonResponse({"ok": True})
    return JsonResponse({"callbacks": list(RECEIVED)})
