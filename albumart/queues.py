"""The RQ queues, over one Redis connection pool per process.

`django_rq.get_queue(name)` builds a new client, and so a new TCP connection, on every call: on the submit path
that was a connect and the client's handshake per request. Here each process (each gunicorn worker, each forked
work horse) keeps one client per queue for its life, with deadlines, so an unreachable Redis costs a request a
few seconds at most and the outbox takes over.
"""

import os
import threading

import django_rq
import redis
from django.conf import settings

_lock = threading.Lock()
_clients: dict[tuple[int, str], redis.Redis] = {}


def connection(name: str) -> redis.Redis:
    key = (os.getpid(), name)  # a forked child never shares its parent's sockets
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = redis.Redis.from_url(
                    settings.RQ_QUEUES[name]["URL"], socket_connect_timeout=2, socket_timeout=10,
                    health_check_interval=30)
    return client


def get_queue(name: str):
    return django_rq.get_queue(name, connection=connection(name))
