"""Small helpers that read settings from the environment and fail loudly on a bad value."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def envstr(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off")


def envint(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(f"{name}={value} is outside {minimum}..{maximum}")
    return value


def envpeppers(name: str, default: str | None) -> dict[int, bytes]:
    """Parse `1:secret,2:newer-secret` into {1: b"secret", 2: b"newer-secret"}; the highest id signs new keys."""
    raw = os.environ.get(name, default)
    if not raw:
        raise ImproperlyConfigured(
            f"{name} is not set. Set it to one or more 'id:secret' pairs, e.g. "
            f"{name}=1:$(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    peppers: dict[int, bytes] = {}
    for part in raw.split(","):
        key_id, sep, secret = part.strip().partition(":")
        if not sep or not key_id.isdigit() or len(secret) < 16:
            raise ImproperlyConfigured(
                f"{name}: {part.strip()[:8]!r}... must be 'id:secret' with a numeric id and a secret of 16+ characters"
            )
        peppers[int(key_id)] = secret.encode()
    return peppers


def load_dotenv(path: Path) -> None:
    """Read KEY=VALUE lines from a local .env file (written by `make run`) without overriding the environment."""
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


def s3_storage(env=None) -> dict | None:
    """The storage of covers and photos in S3 or an S3-compatible store, from S3_BUCKET and the other S3_*
    variables of `env` (the process environment by default); None without S3_BUCKET."""
    env = os.environ if env is None else env
    bucket = env.get("S3_BUCKET", "")
    if not bucket:
        return None
    seconds = env.get("S3_URL_SECONDS") or "3600"
    if not seconds.isdigit() or int(seconds) < 60:
        raise ImproperlyConfigured(f"S3_URL_SECONDS must be a whole number of seconds, 60 or more, not {seconds!r}")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": env.get("S3_ENDPOINT_URL") or None,
            "access_key": env.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": env.get("S3_SECRET_ACCESS_KEY") or None,
            "region_name": env.get("S3_REGION") or "us-east-1",
            "addressing_style": env.get("S3_ADDRESSING_STYLE") or "path",
            "default_acl": None,  # private objects: only presigned URLs read them
            "querystring_auth": True,
            "querystring_expire": int(seconds),
            "signature_version": "s3v4",
            "file_overwrite": True,
        },
    }


def redis_client(timeout: float = 1.0):
    """A short-fused client of REDIS_URL for the side uses (rate limits, metrics, health): an unreachable Redis
    costs them `timeout` seconds, never the request."""
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
