"""SSRF guard for URLs the platform gives us: callbacks we POST to and source images we fetch."""

import ipaddress
import socket
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
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            if allow_unresolved:
                return
            raise UnsafeUrl(f"host {host} does not resolve") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for ip in addresses:
        if _blocked(ip):
            raise UnsafeUrl(f"points at a private, loopback or link-local address ({ip}); use a public address")


def fetch(url: str, *, max_bytes: int, timeout: float = 15.0) -> bytes:
    """GET a public URL without following redirects, refusing bodies larger than `max_bytes`."""
    check_url(url)
    with requests.get(url, timeout=timeout, allow_redirects=False, stream=True) as response:
        if response.is_redirect:
            raise UnsafeUrl(f"answered a redirect ({response.status_code}); give the final URL")
        if response.status_code != 200:
            raise UnsafeUrl(f"answered HTTP {response.status_code}")
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise UnsafeUrl(f"is {int(declared)} bytes; the limit is {max_bytes}")
        chunks, size = [], 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise UnsafeUrl(f"is larger than the limit of {max_bytes} bytes")
            chunks.append(chunk)
    return b"".join(chunks)
