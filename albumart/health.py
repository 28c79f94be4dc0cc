"""Health for orchestrators: /healthz says the process answers (liveness, no dependency touched); /readyz says
it can serve (the database, Redis, the storage and the segmentation models), via django-health-check, in JSON
with `Accept: application/json` or `?format=json`, 500 while any check fails."""

import dataclasses
import datetime

import redis
from django.conf import settings
from django.http import JsonResponse
from health_check.base import HealthCheck
from health_check.checks import Database, Storage
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from albumart.env import redis_client
from generation.engine.segmentation.models import MODEL_FILES, resolve_dir


def healthz(request):
    return JsonResponse({"status": "ok"})


@dataclasses.dataclass
class Queue(HealthCheck):
    """The Redis that carries the render and callback queues answers a PING."""

    timeout = datetime.timedelta(seconds=3)

    def run(self) -> None:
        client = redis_client(timeout=2)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise ServiceUnavailable(f"Redis does not answer ({exc.__class__.__name__})") from None
        finally:
            client.close()


@dataclasses.dataclass
class Models(HealthCheck):
    """The segmentation models a render needs lie in ALBUMART_MODEL_DIR (size checked; the digest is checked when
    a worker loads them)."""

    def run(self) -> None:
        folder = resolve_dir(settings.ALBUMART_MODEL_DIR)
        missing = [m.filename for m in MODEL_FILES
                   if not (folder / m.filename).is_file() or (folder / m.filename).stat().st_size != m.size]
        if missing:
            raise ServiceUnavailable(f"models missing in the model folder: {', '.join(missing)} "
                                     f"(python manage.py fetch_models)")


readyz = HealthCheckView.as_view(checks=(Database, Storage, Queue, Models))
