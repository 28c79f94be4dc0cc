"""Brute-force limits on the pages that take a password or send an email: sign-in failures are counted by
django-axes (per user name and address, in the database); sign-up and password-reset requests per address in
Redis (a fixed window). Redis down never locks anyone out: the limit is skipped and logged."""

import logging
import time
from functools import wraps

import redis
from django.conf import settings
from django.shortcuts import render

from albumart.env import redis_client

log = logging.getLogger(__name__)


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def throttled(scope: str, limit_setting: str):
    """Allow POSTs from one address `settings.<limit_setting>` times per THROTTLE_WINDOW_SECONDS, then 429."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST":
                limit, window = getattr(settings, limit_setting), settings.THROTTLE_WINDOW_SECONDS
                slot = int(time.time() // window)
                key = f"albumart:throttle:{scope}:{client_address(request)}:{slot}"
                try:
                    client = redis_client()
                    count = client.incr(key)
                    if count == 1:
                        client.expire(key, window)
                except redis.RedisError as exc:
                    log.warning("throttle %s skipped: Redis unavailable (%s)", scope, exc.__class__.__name__)
                    count = 0
                if count > limit:
                    wait = max(1, round((slot + 1) * window - time.time()) // 60 + 1)
                    return render(request, "accounts/throttled.html", {"minutes": wait}, status=429)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out sign-in: a 429 page that says when to try again."""
    from axes.helpers import get_client_username

    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(request, "accounts/locked.html", {"minutes": minutes,
                                                     "username": get_client_username(request, credentials) or ""},
                  status=429)
