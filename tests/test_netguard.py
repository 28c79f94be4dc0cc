import socket
import threading
import time

import pytest

from generation import netguard
from generation.callbacks import sign, signed_headers


@pytest.fixture(autouse=True)
def strict(settings):
    settings.ALLOW_PRIVATE_CALLBACKS = False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "http://192.168.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://metadata.google.internal/computeMetadata/v1/",
        "gopher://example.com/",
        "file:///etc/passwd",
        "http://user:pass@93.184.215.14/hook",
    ],
)
def test_private_and_odd_urls_are_refused(url):
    with pytest.raises(netguard.UnsafeUrl):
        netguard.check_url(url)


def test_public_address_is_accepted():
    netguard.check_url("https://93.184.215.14/hook")


def test_names_are_checked_after_resolution(monkeypatch):
    def fake_getaddrinfo(host, port, *args, **kwargs):
        address = {"evil.example": "10.9.8.7", "good.example": "93.184.215.14"}[host]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(netguard.UnsafeUrl, match="private"):
        netguard.check_url("https://evil.example/hook")
    netguard.check_url("https://good.example/hook")


def test_unresolvable_name_is_refused_at_delivery_but_may_be_accepted_at_submit(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(netguard.UnsafeUrl, match="does not resolve"):
        netguard.check_url("https://nowhere.example/hook")
    netguard.check_url("https://nowhere.example/hook", allow_unresolved=True)


def test_a_resolver_that_does_not_answer_is_given_up_at_the_deadline(monkeypatch):
    release = threading.Event()

    def hang(*args, **kwargs):
        release.wait(30)  # a DNS server that never answers (the C library would retry for tens of seconds)
        raise socket.gaierror("timed out")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    monkeypatch.setattr(netguard, "RESOLVE_DEADLINE_SECONDS", 0.3)
    try:
        started = time.monotonic()
        with pytest.raises(netguard.UnsafeUrl, match="did not resolve within 0.3 s"):
            netguard.check_url("https://slow.example/hook")
        netguard.check_url("https://slow.example/hook", allow_unresolved=True)  # submit: delivery checks again
        assert time.monotonic() - started < 10  # two lookups abandoned at 0.3 s, not 30 s each
    finally:
        release.set()


def test_operator_switch_allows_private_addresses(settings):
    settings.ALLOW_PRIVATE_CALLBACKS = True
    netguard.check_url("http://127.0.0.1:9000/hook")


def test_signature_follows_standard_webhooks():
    # Reference vector computed independently: HMAC-SHA256 over "id.timestamp.body", base64.
    import base64
    import hashlib
    import hmac

    key = b"0123456789abcdef0123456789abcdef"
    body = b'{"code":200}'
    expected = base64.b64encode(hmac.new(key, b"msg_1.1700000000." + body, hashlib.sha256).digest()).decode()
    assert sign(key, "msg_1", 1700000000, body) == "v1," + expected
    headers = signed_headers(key, "msg_1", body, timestamp=1700000000)
    assert headers["webhook-id"] == "msg_1" and headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"] == "v1," + expected


def test_a_photo_host_that_trickles_is_cut_off_at_the_deadline(settings):
    import time

    from tests.live import Trickle

    settings.ALLOW_PRIVATE_CALLBACKS = True
    trickle = Trickle()
    try:
        started = time.monotonic()
        with pytest.raises(netguard.Deadline, match="within 1.5 s"):
            netguard.fetch(trickle.url, max_bytes=10_000_000, deadline=1.5)
        assert time.monotonic() - started < 2.5  # 1.5 s in all, not 1.5 s per byte
    finally:
        trickle.close()


def test_a_photo_larger_than_the_limit_is_refused_without_reading_it(settings):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Big(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(50_000))
            self.end_headers()
            self.wfile.write(b"x" * 50_000)

        def log_message(self, *args):
            pass

    settings.ALLOW_PRIVATE_CALLBACKS = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), Big)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(netguard.UnsafeUrl, match="50000 bytes; the limit is 1000 bytes"):
            netguard.fetch(f"http://127.0.0.1:{server.server_port}/p.jpg", max_bytes=1000, deadline=5)
        assert netguard.fetch(f"http://127.0.0.1:{server.server_port}/p.jpg", max_bytes=60_000, deadline=5) \
            == b"x" * 50_000
    finally:
        server.shutdown()
