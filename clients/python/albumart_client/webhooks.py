"""Verifying a result callback: the Standard Webhooks signature over the raw body, within the timestamp tolerance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from standardwebhooks import Webhook, WebhookVerificationError

from albumart_client.models import Task


class InvalidCallback(WebhookVerificationError):
    """The callback is not from AlbumArt: no secret's signature matches, the timestamp is outside the tolerance
    (5 minutes either way: a replayed old callback), or a header is missing."""


def verify_callback(body: bytes | str, headers: Mapping[str, str], secret: str | Sequence[str]) -> Task:
    """The task data of a callback, once its signature is verified against `secret` (`whsec_...`), or against
    any of several during a rotation: pass the new secret and the one you had before it, until the
    previous one expires (24 hours after the rotation). Raises InvalidCallback.

    `body` must be the raw request body, exactly as received: re-serialised JSON does not verify."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or not all(secrets):
        raise ValueError("secret: pass the whsec_... secret (or a list of them) from the dashboard")
    # Header names are case-insensitive: Django, Flask and Starlette hand them over in different cases.
    plain = {str(k).lower(): v for k, v in headers.items()}
    reasons = []
    for candidate in secrets:
        try:
            envelope = Webhook(candidate).verify(body, plain)  # the parsed body, once verified
        except WebhookVerificationError as exc:
            reasons.append(str(exc))
            continue
        return Task.from_api(envelope["data"])
    raise InvalidCallback("; ".join(dict.fromkeys(reasons)))
