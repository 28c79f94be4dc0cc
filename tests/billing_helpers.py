"""Billing test helpers: a local HTTP stand-in for the Stripe API, and Stripe-signed webhook deliveries."""

import contextlib
import itertools
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from django.test import Client

WEBHOOK_SECRET = "whsec_test_" + "s3cr3t" * 4
WEBHOOK_URL = "/billing/stripe/webhook"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The users fixture hashes three passwords; the production hasher makes that most of a billing test's time.
    Imported into each billing test module, where autouse makes it run before `users`."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def unflatten(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding (`line_items[0][price_data][currency]=usd`) back into nested dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


class StripeStandIn:
    """A small HTTP server answering the Stripe API calls billing makes, Stripe-shaped, recording every request.

    `fail_next` makes the next N requests answer 500 (with Stripe-Should-Retry: false, so the client gives up).
    """

    def __init__(self):
        self.requests: list[dict] = []
        self.customers: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.payment_intents: dict[str, dict] = {}
        self.idempotent: dict[str, tuple[int, dict]] = {}
        self.fail_next = 0
        self.decline_payment_methods: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                standin._handle(self, "GET")

            def do_POST(self):
                standin._handle(self, "POST")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):04d}{secrets.token_hex(4)}"

    def calls(self, method: str, path_prefix: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"].startswith(path_prefix)]

    # -- the HTTP side ---------------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str):
        parts = urlsplit(handler.path)
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0)).decode()
        params = unflatten(parse_qsl(parts.query if method == "GET" else body, keep_blank_values=True))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append({"method": method, "path": parts.path, "params": params, "headers": headers})
            if self.fail_next:
                self.fail_next -= 1
                status, payload = 500, _error("api_error", "The stand-in was told to fail.")
            else:
                key = headers.get("idempotency-key")
                if method == "POST" and key and key in self.idempotent:
                    status, payload = self.idempotent[key]  # Stripe replays the first answer for a key
                else:
                    status, payload = self._route(method, parts.path, params)
                    if method == "POST" and key:
                        self.idempotent[key] = (status, payload)
        raw = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        handler.send_header("Request-Id", "req_" + secrets.token_hex(6))
        if status >= 500:
            handler.send_header("Stripe-Should-Retry", "false")
        handler.end_headers()
        handler.wfile.write(raw)

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        if method == "POST" and path == "/v1/customers":
            customer = {"id": self.new_id("cus"), "object": "customer", "name": params.get("name"),
                        "metadata": params.get("metadata", {}), "livemode": False}
            self.customers[customer["id"]] = customer
            return 200, customer
        if method == "POST" and path == "/v1/checkout/sessions":
            if params.get("customer") not in self.customers:
                error = _error("invalid_request_error", f"No such customer: '{params.get('customer')}'")
                error["error"].update(param="customer", code="resource_missing")
                return 400, error
            session_id = self.new_id("cs")
            item = params["line_items"][0]
            amount = int(item["price_data"]["unit_amount"]) if "price_data" in item else 1234
            session = {
                "id": session_id, "object": "checkout.session", "mode": params["mode"],
                "client_reference_id": params.get("client_reference_id"), "customer": params.get("customer"),
                "metadata": params.get("metadata", {}), "amount_total": amount,
                "currency": item.get("price_data", {}).get("currency", "usd"), "payment_status": "unpaid",
                "status": "open", "payment_intent": None, "url": f"https://checkout.stripe.test/c/pay/{session_id}",
                "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
                "livemode": False, "_params": params,
            }
            self.sessions[session_id] = session
            return 200, session
        if match := re.fullmatch(r"/v1/checkout/sessions/([\w]+)", path):
            session = self.sessions.get(match[1])
            return (200, session) if session else (404, _error("invalid_request_error", "No such session"))
        if method == "GET" and (match := re.fullmatch(r"/v1/payment_intents/([\w]+)", path)):
            pi = self.payment_intents.get(match[1])
            if pi is None:
                return 404, _error("invalid_request_error", "No such payment_intent")
            return 200, self._expanded(pi, params)
        if method == "POST" and path == "/v1/payment_intents":
            return self._create_payment_intent(params)
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path})")

    def _expanded(self, pi: dict, params: dict) -> dict:
        pi = dict(pi)
        if "latest_charge" not in (params.get("expand") or []):
            pi["latest_charge"] = pi["latest_charge"]["id"] if pi.get("latest_charge") else None
        return pi

    def _create_payment_intent(self, params: dict) -> tuple[int, dict]:
        pi_id = self.new_id("pi")
        if params.get("payment_method") in self.decline_payment_methods:
            error = _error("card_error", "Your card was declined.")
            error["error"].update(code="card_declined", decline_code="generic_decline")
            return 402, error
        pi = self._payment_intent(pi_id, int(params["amount"]), params.get("customer"), params.get("payment_method"),
                                  params.get("metadata", {}))
        return 200, self._expanded(pi, params)

    def _payment_intent(self, pi_id: str, amount: int, customer, payment_method, metadata) -> dict:
        charge = {"id": self.new_id("ch"), "object": "charge", "amount": amount, "payment_intent": pi_id,
                  "receipt_url": f"https://pay.stripe.test/receipts/{pi_id}", "paid": True, "refunded": False,
                  "amount_refunded": 0, "metadata": metadata}
        pi = {"id": pi_id, "object": "payment_intent", "amount": amount, "currency": "usd", "status": "succeeded",
              "customer": customer, "payment_method": payment_method or self.new_id("pm"), "metadata": metadata,
              "latest_charge": charge, "livemode": False}
        self.payment_intents[pi_id] = pi
        return pi

    # -- what a buyer does on Stripe's page ----------------------------------------------------------------------
    def pay(self, session_id: str, payment_status: str = "paid") -> dict:
        """Complete a session as Stripe would after the buyer paid; returns the session object."""
        with self._lock:
            s = self.sessions[session_id]
            metadata = s["_params"].get("payment_intent_data", {}).get("metadata", {})
            pi = self._payment_intent(self.new_id("pi"), s["amount_total"], s["customer"], None, metadata)
            s.update(status="complete", payment_status=payment_status, payment_intent=pi["id"])
            return {k: v for k, v in s.items() if not k.startswith("_")}

    def charge_of(self, session_id: str) -> dict:
        return self.payment_intents[self.sessions[session_id]["payment_intent"]]["latest_charge"]


def _error(kind: str, message: str) -> dict:
    return {"error": {"type": kind, "message": message}}


@contextlib.contextmanager
def stripe_standin(settings):
    """A running stand-in with settings pointing stripe-python at it, and the webhook secret set."""
    standin = StripeStandIn()
    settings.STRIPE_SECRET_KEY = "sk_test_standin"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = standin.url
    try:
        yield standin
    finally:
        standin.close()


# -- webhooks ----------------------------------------------------------------------------------------------------
def event(type_: str, obj: dict, event_id: str | None = None) -> dict:
    return {"id": event_id or "evt_" + secrets.token_hex(12), "object": "event", "api_version": "2026-10-28.endive",
            "created": int(time.time()), "type": type_, "livemode": False, "pending_webhooks": 1,
            "data": {"object": obj}}


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def deliver(evt: dict, *, secret: str = WEBHOOK_SECRET, signature: str | None = None, http=None):
    """POST an event to the webhook as Stripe does: the raw JSON body and its Stripe-Signature header."""
    payload = json.dumps(evt)
    http = http or Client()
    return http.post(WEBHOOK_URL, data=payload, content_type="application/json",
                     HTTP_STRIPE_SIGNATURE=signature if signature is not None else sign(payload, secret))


def session_completed(standin: StripeStandIn, session_id: str, event_id: str | None = None) -> dict:
    """Pay the session on the stand-in and build its checkout.session.completed event."""
    return event("checkout.session.completed", standin.pay(session_id), event_id)


def charge_refunded(charge: dict, amount_refunded: int) -> dict:
    refunded = dict(charge, amount_refunded=amount_refunded, refunded=amount_refunded >= charge["amount"])
    return event("charge.refunded", refunded)


def web_client(user) -> Client:
    web = Client()
    web.force_login(user)
    return web


def start_purchase(web: Client, credits: int = 100) -> str:
    """Press Buy on the billing page; returns the Checkout Session id the buyer is sent to."""
    response = web.post("/billing/buy", {"credits": credits})
    assert response.status_code == 303, response.content
    return response["Location"].rsplit("/", 1)[1]
