"""SSRF guard for URLs the platform gives us: callbacks we POST to and source images we fetch."""

import ipaddress
import socket
import threading
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings


class UnsafeUrl(ValueError):
    pass


def _blocked(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    # is_global is False for private, loopback, link-local (cloud metadata at 169.254.169.254), CGNAT,
    # unique-local, reserved and documentation ranges; multicast is refused separately.
    return not ip.is_global or ip.is_multicast


RESOLVE_DEADLINE_SECONDS = 3.0  # a resolver that does not answer must not hold a web thread or a delivery


def _resolve(host: str, port: int) -> list:
    """getaddrinfo within RESOLVE_DEADLINE_SECONDS (TimeoutError past it). The C library's own retries can add up
    to tens of seconds for a name whose server does not answer, and a submit must not wait for them: the lookup
    runs on a thread of its own and is abandoned (it ends by itself) when the deadline passes."""
    outcome: dict = {}

    def lookup() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except Exception as exc:  # noqa: BLE001 (handed to the caller's thread)
            outcome["error"] = exc

    thread = threading.Thread(target=lookup, name="resolve", daemon=True)
    thread.start()
    thread.join(RESOLVE_DEADLINE_SECONDS)
    if thread.is_alive():
        raise TimeoutError(f"{host} did not resolve within {RESOLVE_DEADLINE_SECONDS:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["infos"]


def check_url(url: str, *, resolve: bool = True, allow_unresolved: bool = False) -> None:
    """Raise UnsafeUrl unless `url` is http(s) and every address its host resolves to is public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("must be an http or https URL")
    if not parts.hostname:
        raise UnsafeUrl("has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("must not carry credentials")
    if settings.ALLOW_PRIVATE_CALLBACKS:
        return
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise UnsafeUrl(f"host {host} is a local name; use a public address") from None
        if not resolve:
            return
        try:
            infos = _resolve(host, parts.port or 443)
        except (OSError, UnicodeError) as exc:  # no such name, or no answer within the deadline
            if allow_unresolved:
                return
            late = isinstance(exc, TimeoutError)
            raise UnsafeUrl(f"host {host} did not resolve within {RESOLVE_DEADLINE_SECONDS:g} s" if late
                            else f"host {host} does not resolve") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for ip in addresses:
        if _blocked(ip):
            raise UnsafeUrl(f"points at a private, loopback or link-local address ({ip}); use a public address")


class Deadline(UnsafeUrl):
    """The exchange did not complete within its total deadline."""


def bounded(method: str, url: str, *, deadline: float, max_bytes: int, **kwargs) -> tuple[int, dict, bytes, bool]:
    """One HTTP exchange that ends within `deadline` seconds in all: connecting, sending, and reading the answer
    (at most `max_bytes` of it). Returns (status, headers, body, truncated); raises Deadline when the time ran
    out (a peer trickling its answer a byte at a time included: the calling thread is never held past the
    deadline), requests' errors when the exchange failed. No redirect is followed."""
    outcome: dict = {}
    ends = time.monotonic() + deadline

    def exchange() -> None:
        try:
            with requests.request(method, url, allow_redirects=False, stream=True,
                                  timeout=(min(5.0, deadline), min(5.0, deadline)), **kwargs) as response:
                outcome["status"], outcome["headers"] = response.status_code, dict(response.headers)
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > max_bytes and method != "POST":
                    outcome["body"], outcome["truncated"] = b"", True
                    return
                chunks, size = [], 0
                while time.monotonic() < ends:
                    chunk = response.raw.read1(64 * 1024)  # what has arrived: a trickle never fills a buffer
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > max_bytes:
                        outcome["truncated"] = True
                        break
                else:
                    outcome["late"] = True
                outcome["body"] = b"".join(chunks)[:max_bytes]
        except Exception as exc:  # noqa: BLE001 (handed to the caller's thread)
            outcome["error"] = exc

    thread = threading.Thread(target=exchange, name="bounded-http", daemon=True)
    thread.start()
    thread.join(deadline)
    if thread.is_alive() or outcome.get("late"):
        raise Deadline(f"did not answer completely within {deadline:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["status"], outcome["headers"], outcome["body"], outcome.get("truncated", False)


def fetch(url: str, *, max_bytes: int, deadline: float | None = None) -> bytes:
    """GET a public URL without following redirects, within a total deadline (FETCH_DEADLINE_SECONDS), refusing
    bodies larger than `max_bytes`."""
    check_url(url)
    deadline = settings.FETCH_DEADLINE_SECONDS if deadline is None else deadline
    status, headers, body, truncated = bounded("GET", url, deadline=deadline, max_bytes=max_bytes)
    if 300 <= status < 400 and headers.get("Location"):
        raise UnsafeUrl(f"answered a redirect ({status}); give the final URL")
    if status != 200:
        raise UnsafeUrl(f"answered HTTP {status}")
    if truncated:
        declared = headers.get("Content-Length", "")
        size = f"is {int(declared)} bytes" if declared.isdigit() else "is larger than the limit"
        raise UnsafeUrl(f"{size}; the limit is {max_bytes} bytes")
    return body
