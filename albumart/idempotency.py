"""Idempotency-Key on the API's POSTs, as Stripe does it: the first response is stored for 24 hours and replayed
for the same key and parameters; other parameters under the same key, or the same key still in flight, are 409.

Keys are scoped per organisation. The organisation comes from the bearer key itself, since DRF authenticates
only later; a request without a valid key passes through untouched (and DRF answers 401).
"""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone

from accounts.authentication import bearer_key
from albumart.api import json_envelope
from albumart.middleware import is_api_path
from billing.models import IdempotencyRecord

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
# A record still in flight after this long belongs to a request that died (process killed): its key is reusable.
ABANDONED_AFTER = timedelta(minutes=10)
MAX_KEY_LENGTH = 255
# Not stored, so that the same key can be retried: server errors, rate limits, conflicts and invalid input.
NOT_STORED = {409, 422, 429}


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not is_api_path(request.path):
            return self.get_response(request)
        org = _organization(request)
        if org is None:
            return self.get_response(request)
        if not key or len(key) > MAX_KEY_LENGTH:
            return json_envelope(422, f"{HEADER}: must be 1 to {MAX_KEY_LENGTH} characters.",
                                 {"errors": {HEADER: [f"must be 1 to {MAX_KEY_LENGTH} characters"]}})
        fingerprint = _fingerprint(request)
        record, existing = _claim(org, key, fingerprint)
        if existing is not None:
            return _answer_existing(existing, fingerprint)
        try:
            response = self.get_response(request)
        except BaseException:
            record.delete()
            raise
        if response.status_code >= 500 or response.status_code in NOT_STORED or response.streaming:
            record.delete()
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code, content_type=response.get("Content-Type", ""),
            body=bytes(response.content), completed_at=timezone.now(),
        )
        return response


def _organization(request):
    key = bearer_key(request)  # DRF's authentication reuses this answer
    return key.organization if key else None


def _claim(org, key: str, fingerprint: str):
    """(our new in-flight record, None), or (None, the record another request made first)."""
    now = timezone.now()
    IdempotencyRecord.objects.filter(  # expired, or abandoned in flight
        Q(created_at__lt=now - TTL) | Q(completed_at__isnull=True, created_at__lt=now - ABANDONED_AFTER),
        organization=org, key=key).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(organization=org, key=key, fingerprint=fingerprint), None
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(organization=org, key=key).first()
        if existing is None:  # it finished with an unstored answer in between: ours to claim again
            return _claim(org, key, fingerprint)
        return None, existing


def _answer_existing(record, fingerprint: str):
    if record.fingerprint != fingerprint:
        return json_envelope(409, f"{HEADER} {record.key!r} was already used with different parameters; "
                                  f"use a new key for a new request.")
    if record.in_flight:
        return json_envelope(409, f"A request with {HEADER} {record.key!r} is still in progress; retry later.")
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def _fingerprint(request) -> str:
    """The method, path and parameters; JSON key order and multipart boundaries do not change it."""
    content_type = request.content_type or ""
    body = request.body
    if content_type == "application/json":
        try:
            parts = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
        except ValueError:
            parts = body.hex()
    elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            fields = sorted((k, v) for k in request.POST for v in request.POST.getlist(k))
            files = sorted((k, _file_digest(f)) for k in request.FILES for f in request.FILES.getlist(k))
            parts = json.dumps([fields, files])
        except MultiPartParserError:  # a body that is not the form it claims: the view answers it in the envelope
            parts = body.hex()
    else:
        parts = body.hex()
    raw = "\n".join([request.method, request.path, request.META.get("QUERY_STRING", ""), content_type, parts])
    key = bearer_key(request)
    if key is not None and key.sandbox:
        # A sandbox key's answer (a free test task) must never be replayed to a live key reusing the same
        # Idempotency-Key and body, nor the other way round: the two kinds are different requests (409).
        raw += "\nsandbox"
    return hashlib.sha256(raw.encode()).hexdigest()


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()
