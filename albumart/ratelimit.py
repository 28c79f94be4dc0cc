"""Per API key request limits in Redis: a fixed window per key and scope, opened by the key's first request and
lasting RATE_LIMIT_WINDOW_SECONDS. Generate-type POSTs (generate in every dialect, variations) and all other calls
count in separate buckets; an organisation's own limits (admin) override the settings' defaults. Sandbox keys
(`aa_test_`) have their own generate limit, RATE_LIMIT_SANDBOX_GENERATE.

Every answer to an authenticated key carries the fields of draft-ietf-httpapi-ratelimit-headers-06:
RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (seconds until the window resets) and RateLimit-Policy
(`20;w=10`). Past the limit the answer is a 429 envelope whose Retry-After names the same instant as the reset.

One Redis round trip per request (a Lua script), on a client kept per process. Redis down never refuses anyone:
the limit is skipped and logged, and Redis is not asked again for REDIS_BACKOFF seconds.
"""

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings

from accounts.authentication import bearer_key
from accounts.models import ApiKey
from albumart.api import json_envelope
from albumart.env import redis_client
from albumart.middleware import is_api_path

log = logging.getLogger(__name__)

GENERATE, READ = "generate", "read"
# The POSTs that start a task end in one of these in every dialect (native, sunoapi, apiin.one, Runflow).
GENERATE_ENDINGS = ("/generate", "/variations")
REDIS_TIMEOUT = 0.5  # seconds: a hung Redis costs a request at most this, then nothing for REDIS_BACKOFF
REDIS_BACKOFF = 5.0

# KEYS[1] the bucket, ARGV[1] the window in ms -> {requests in the window, ms until it resets}. The PTTL check
# also repairs a bucket that lost its expiry, so that no key stays limited for ever.
WINDOW_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""

_down_until: dict[str, float] = {}  # Redis URL -> monotonic time before which it is not asked


@dataclass(frozen=True)
class Policy:
    scope: str
    limit: int
    window: int  # seconds
    sandbox: bool = False  # a sandbox key's generate limit (RATE_LIMIT_SANDBOX_GENERATE)


def scope_of(request) -> str:
    if request.method == "POST" and request.path.rstrip("/").endswith(GENERATE_ENDINGS):
        return GENERATE
    return READ


def policy_for(key: ApiKey, scope: str) -> Policy:
    """The limit of `key` for `scope`: its organisation's own, else the default; a sandbox key's generate-type
    requests have RATE_LIMIT_SANDBOX_GENERATE, whatever the organisation's own live limit. The counts of sandbox
    and live keys are apart already, since every bucket is per key."""
    if key.sandbox and scope == GENERATE:
        return Policy(scope, settings.RATE_LIMIT_SANDBOX_GENERATE, settings.RATE_LIMIT_WINDOW_SECONDS, sandbox=True)
    org = key.organization
    own, default = ((org.rate_limit_generate, settings.RATE_LIMIT_GENERATE) if scope == GENERATE
                    else (org.rate_limit_read, settings.RATE_LIMIT_READ))
    return Policy(scope, own if own is not None else default, settings.RATE_LIMIT_WINDOW_SECONDS)


@lru_cache(maxsize=8)
def _window_script(redis_url: str):
    # One client (and connection pool) per process and URL: a new connection per request would double the cost.
    return redis_client(REDIS_TIMEOUT).register_script(WINDOW_SCRIPT)


def hit(key: ApiKey, policy: Policy) -> tuple[int, float] | None:
    """Count a request of `key` in its window: (requests in the window so far, seconds until it resets), or None
    when Redis is unavailable."""
    url = settings.REDIS_URL
    if time.monotonic() < _down_until.get(url, 0.0):
        return None
    bucket = f"albumart:ratelimit:{policy.scope}:{key.key_id}"
    try:
        count, ttl_ms = _window_script(url)(keys=[bucket], args=[policy.window * 1000])
    except redis.RedisError as exc:
        _down_until[url] = time.monotonic() + REDIS_BACKOFF
        log.warning("rate limits skipped for %.0f s: Redis unavailable (%s: %s)", REDIS_BACKOFF,
                    exc.__class__.__name__, exc)
        return None
    return int(count), int(ttl_ms) / 1000


def too_many(policy: Policy, wait: int):
    what = "generate and variations requests" if policy.scope == GENERATE else "requests (other than generate)"
    key = "sandbox API key" if policy.sandbox else "API key"
    return json_envelope(429, f"Rate limit reached: {policy.limit} {what} per {policy.window} s for this {key}; "
                              f"retry in {wait} s.",
                         {"scope": policy.scope, "limit": policy.limit, "windowSeconds": policy.window,
                          "retryAfter": wait})


class RateLimitMiddleware:
    """Counts each API request of an authenticated key and answers 429 past its limit. It runs before the other
    API middleware so that their answers (413, 409 of Idempotency-Key...) count and carry the fields too; a
    request without a valid key passes untouched (DRF answers 401)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = bearer_key(request) if is_api_path(request.path) else None
        if key is None:
            return self.get_response(request)
        policy = policy_for(key, scope_of(request))
        counted = hit(key, policy)
        if counted is None:
            return self.get_response(request)
        count, reset = counted
        reset = max(1, math.ceil(reset))
        if count > policy.limit:
            response = too_many(policy, reset)
            response["Retry-After"] = str(reset)
        else:
            response = self.get_response(request)
        response["RateLimit-Limit"] = str(policy.limit)
        response["RateLimit-Remaining"] = str(max(0, policy.limit - count))
        response["RateLimit-Reset"] = str(reset)
        response["RateLimit-Policy"] = f"{policy.limit};w={policy.window}"
        return response
