"""The README's examples, run literally (issue 13, part 12): every curl command in a fenced block of README.md runs
through bash and the real curl against the live test server, in the README's order, and must answer 2xx, or
exactly the code its `# -> {"code": N` comment below it shows; the Idempotency-Key example twice; the callback
verification snippet against real signed callbacks; and the curl lines `make run` prints."""

import html
import io
import json
import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import path

from albumart.urls import urlpatterns as site_urlpatterns
from generation.api import cancel_task
from generation.callbacks import deliver_callback, signed_headers
from generation.devreceiver import RECEIVED
from generation.devreceiver import callbacks as dev_callbacks
from generation.models import CallbackDelivery, CoverTask
from tests.conftest import api_client, make_org
from tests.live import BASE_DIR, Receiver, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

README = BASE_DIR / "README.md"
# The lines a reader edits by hand (KEY=aa_xxx..., BASE=...): the test sets real values instead.
PROVIDED = re.compile(r"^(BASE|KEY)=\S*(\s+#.*)?$")
ASSIGNED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=\$\(")
EXPECTED = re.compile(r'^#\s*->\s*\{"code":\s*(\d+)')
CURL_START = re.compile(r"^(curl\s|[A-Za-z_][A-Za-z0-9_]*=\$\(curl\s)")
# curl reads this from $CURL_HOME: every request it makes reports its status on stderr, and stdout stays the
# README's own output.
CURLRC = 'write-out = "%{stderr}README-HTTP %{http_code} %{method} %{url_effective}\\n"\n'
VAR_MARK = "README-VAR"

# `make run` mounts the demo callback receiver (DEBUG=1); the live server gets it through this URLconf.
urlpatterns = [path("dev/callbacks", dev_callbacks), *site_urlpatterns]


@dataclass
class Command:
    where: str  # "README.md:123"
    text: str  # as written, continuation lines included
    expect: int | None = None  # the code of a `# -> {"code": N` comment right below it

    def __str__(self) -> str:
        return f"{self.where}: {self.text.splitlines()[0].strip()}"


@dataclass
class Ran:
    command: Command
    returncode: int
    stdout: str
    stderr: str
    statuses: list[tuple[int, str]] = field(default_factory=list)  # (HTTP status, "METHOD url") per request
    value: str | None = None  # what an assignment `NAME=$(...)` set

    def headers_and_body(self) -> tuple[dict[str, str], str]:
        """The answer's headers (lower-case names) when curl printed them (-i), and its body."""
        if not self.stdout.startswith("HTTP/"):
            return {}, self.stdout
        head, _, body = self.stdout.partition("\n\n")  # (text mode has turned curl's CRLFs into LFs)
        lines = head.splitlines()[1:]
        return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}, body

    def envelope(self) -> dict | None:
        try:
            answer = json.loads(self.headers_and_body()[1])
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None


def fenced_blocks(text: str) -> list[tuple[int, str, list[str]]]:
    """(line number of the first line, info string, lines) of every fenced block, list-indented ones included."""
    blocks, current = [], None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if current is None and stripped.startswith("```"):
            current = (number + 1, stripped[3:].strip(), [], len(line) - len(line.lstrip()))
        elif current is not None and stripped == "```":
            blocks.append(current[:3])
            current = None
        elif current is not None:
            indent = current[3]
            current[2].append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
    assert current is None, f"README.md:{current[0] - 1}: a fenced block is never closed"
    return blocks


def complete(text: str) -> bool:
    """Whether the shell would stop reading here: no trailing backslash and no quote left open."""
    if text.endswith("\\"):
        return False
    try:
        shlex.split(text, comments=True)
    except ValueError:
        return False
    return True


def shell_commands(first: int, lines: list[str], source: str = "README.md", starts=lambda line: True
                   ) -> list[Command]:
    """The commands of a block: each from a line `starts` accepts to where the shell would end it."""
    found: list[Command] = []
    pending: list[str] = []
    below = False  # a comment here is right below the last command
    for number, line in enumerate(lines, first):
        stripped = line.strip()
        if not pending:
            if not stripped:
                below = False
                continue
            if stripped.startswith("#"):
                if below and (match := EXPECTED.match(stripped)) and found[-1].expect is None:
                    found[-1].expect = int(match[1])
                continue
            if not starts(stripped):
                below = False
                continue
            start = number
        pending.append(stripped if not pending else line)
        if complete("\n".join(pending)):
            found.append(Command(f"{source}:{start}", "\n".join(pending)))
            pending, below = [], True
    assert not pending, f"{source}:{start}: this command never ends (an open quote or a trailing backslash)"
    return found


def readme_curl_commands() -> list[Command]:
    """Every command of every fenced block with a curl in it, in the README's order, but the KEY= and BASE= lines."""
    commands = []
    for first, _info, lines in fenced_blocks(README.read_text()):
        block = shell_commands(first, lines)
        if any(re.search(r"\bcurl\s", c.text) for c in block):
            commands += [c for c in block if not PROVIDED.match(c.text)]
    return commands


class Shell:
    """Runs commands one at a time with bash in a folder holding photo.jpg; a variable a command assigns
    (`TASK=$(curl ...)`) is set for the commands after it, as in the reader's terminal."""

    def __init__(self, folder: Path, base: str, key: str, photo: bytes):
        (folder / "photo.jpg").write_bytes(photo)
        (folder / ".curlrc").write_text(CURLRC)
        self.folder = folder
        self.env = {**os.environ, "BASE": base, "KEY": key, "CURL_HOME": str(folder)}

    def run(self, command: Command) -> Ran:
        script = "set -eo pipefail\n" + command.text
        if assigned := ASSIGNED.match(command.text):
            script += f'\nprintf "\\n{VAR_MARK} %s\\n" "${assigned[1]}" >&2'
        done = subprocess.run(["bash", "-c", script], cwd=self.folder, env=self.env, capture_output=True, text=True,
                              timeout=120)
        ran = Ran(command, done.returncode, done.stdout, done.stderr)
        for line in done.stderr.splitlines():
            if line.startswith("README-HTTP "):
                _, status, request = line.split(" ", 2)
                ran.statuses.append((int(status), request))
            elif line.startswith(f"{VAR_MARK} "):
                ran.value = line[len(VAR_MARK) + 1:]
        if assigned and ran.value is not None:
            self.env[assigned[1]] = ran.value
        return ran


def problems(ran: Ran) -> list[str]:
    """What is wrong with a command's run: a failed command, a request answering an error it does not show, an
    envelope whose code is not the HTTP status, an assignment that set nothing."""
    out = f"\n    stdout: {ran.stdout[:600]!r}\n    stderr: {ran.stderr[-600:]!r}"
    if ran.returncode:
        return [f"{ran.command}\n  exited {ran.returncode}{out}"]
    if re.search(r"\bcurl\s", ran.command.text) and not ran.statuses:
        return [f"{ran.command}\n  made no HTTP request{out}"]
    found = []
    for status, request in ran.statuses:
        if ran.command.expect is not None and status != ran.command.expect:
            found.append(f"{ran.command}\n  {request} answered {status}, the README shows {ran.command.expect}{out}")
        elif ran.command.expect is None and not 200 <= status < 300:
            found.append(f"{ran.command}\n  {request} answered {status}{out}")
    envelope = ran.envelope()
    if envelope is not None and "code" in envelope and ran.statuses and envelope["code"] != ran.statuses[-1][0]:
        found.append(f"{ran.command}\n  the envelope's code {envelope['code']} is not the HTTP status{out}")
    if ASSIGNED.match(ran.command.text) and ran.value in (None, "", "None", "null"):
        found.append(f"{ran.command}\n  set nothing ({ran.value!r}){out}")
    return found


@pytest.fixture
def shell(live, tmp_path, astronaut_jpeg):
    org = make_org("Readme Records", credits=100)
    folder = tmp_path / "reader"
    folder.mkdir()
    return Shell(folder, live.url, api_client(org).plaintext_key, astronaut_jpeg)


def test_the_readme_has_curl_examples_to_run():
    commands = readme_curl_commands()
    assert len(commands) >= 10, [str(c) for c in commands]
    # A placeholder (<nextCursor>, 5f0c...) cannot run as written: an earlier line sets a variable instead.
    placeholders = [str(c) for c in commands if any(re.search(r"<\w+>|\.\.\.", word)
                                                    for word in shlex.split(c.text, comments=True))]
    assert not placeholders, placeholders
    assert any("Idempotency-Key:" in c.text for c in commands)


def test_every_readme_curl_line_runs_literally_and_answers_as_shown(shell):
    found = []
    for command in readme_curl_commands():
        found += problems(shell.run(command))
    assert not found, "README curl lines that do not work as written:\n" + "\n".join(found)


def test_the_idempotency_key_example_run_twice_replays_one_task(shell):
    """After every example above it (so its taskId is not one an earlier example took), twice: one task, and the
    second answer is the first one replayed."""
    commands = readme_curl_commands()
    index = next(i for i, c in enumerate(commands) if "Idempotency-Key:" in c.text)
    for command in commands[:index]:
        shell.run(command)
    first, again = shell.run(commands[index]), shell.run(commands[index])
    assert not problems(first) and not problems(again), problems(first) + problems(again)
    (first_headers, _), (again_headers, _) = first.headers_and_body(), again.headers_and_body()
    assert again_headers, f"{commands[index]}: the example does not show the answer's headers (curl -i)"
    assert first.envelope()["code"] == again.envelope()["code"] == 200
    task_id = first.envelope()["data"]["taskId"]
    assert again.envelope()["data"]["taskId"] == task_id
    assert "idempotent-replayed" not in first_headers and again_headers["idempotent-replayed"] == "true"
    client_task_id = json.loads(re.search(r"-d '(.*?)'", commands[index].text, re.S)[1])["taskId"]
    assert list(CoverTask.objects.filter(client_task_id=client_task_id).values_list("pk", flat=True)) == [task_id]


# The callback verification snippet

def verify_snippet() -> str:
    text = README.read_text()
    section = text[text.index("### Callbacks"):]
    section = section[:section.index("\n## ")]
    snippets = [("\n".join(lines)) for _, info, lines in fenced_blocks(section) if info == "python"]
    assert len(snippets) == 1, "the Callbacks section should hold one Python snippet"
    return snippets[0]


def dashboard_verify_snippet() -> str:
    """The snippet of the dashboard's API guide (/docs/), as a signed-in member sees it."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from accounts.models import Membership

    user = get_user_model().objects.create_user("guide-reader", password="pw-guide-123")
    Membership.objects.create(organization=make_org("Guide Records"), user=user, role=Membership.Role.MEMBER)
    browser = Client()
    browser.force_login(user)
    page = browser.get("/docs/").content.decode()
    codes = [html.unescape(c) for c in re.findall(r"<pre><code>(.*?)</code></pre>", page, re.S)
             if "def verify_callback" in c]
    assert len(codes) == 1, "the API guide should hold one verify snippet"
    return codes[0]


@pytest.mark.parametrize("where", ["README.md", "the dashboard's API guide"])
def test_the_verify_snippet_accepts_real_callbacks_in_time_and_during_a_rotation(live, where):
    namespace: dict = {}
    source = verify_snippet() if where == "README.md" else dashboard_verify_snippet()
    exec(compile(source, where, "exec"), namespace)
    verify, Rejected = namespace["verify_callback"], namespace["WebhookVerificationError"]

    # A real callback: a cancelled task's, posted by the server's delivery code to a local receiver.
    org = make_org("Snippet Records", credits=10)
    client = api_client(org)
    receiver = Receiver()
    try:
        answer = client.post("/api/v1/cover/generate", {"genre": "hiphop", "text_artist": "NOVA",
                                                        "text_album": "STILL STANDING", "callBackUrl": receiver.url},
                             format="json")
        task_id = answer.json()["data"]["taskId"]
        assert client.post(f"/api/v1/cover/{task_id}/cancel").status_code == 200
        deliver_callback(CallbackDelivery.objects.get(task_id=task_id).pk)
        wait_for(lambda: receiver.calls, timeout=10, what="the callback")
    finally:
        receiver.close()
    body = receiver.calls[0]["body"]
    headers = {k.title(): v for k, v in receiver.calls[0]["headers"].items()}  # as a framework hands them over
    before = org.webhook_secret

    assert verify(body, headers, [before])["data"]["taskId"] == task_id
    with pytest.raises(Rejected):  # tampered
        verify(body.replace(b"CANCELLED", b"SUCCESS"), headers, [before])
    with pytest.raises(Rejected):  # somebody else's secret
        verify(body, headers, ["whsec_" + "A" * 32])

    webhook_id, now = f"msg_{task_id}", int(time.time())
    for seconds in (-400, 400):  # a replay of a captured callback, a clock far ahead: 5 minutes either way
        with pytest.raises(Rejected, match="too old" if seconds < 0 else "too new"):
            verify(body, signed_headers(org.webhook_keys, webhook_id, body, timestamp=now + seconds), [before])
    assert verify(body, signed_headers(org.webhook_keys, webhook_id, body, timestamp=now - 240), [before])

    # A rotation: for 24 hours the server signs with both secrets (two signatures in one header), and a callback
    # signed before it may still be on its way. A receiver that has switched keeps the previous secret in its
    # list; one that has not switched yet verifies with the previous secret alone.
    in_flight = signed_headers(org.webhook_keys, webhook_id, body)
    org.rotate_webhook_secret()
    current = org.webhook_secret
    during = signed_headers(org.webhook_keys, webhook_id, body)
    assert len(during["webhook-signature"].split()) == 2
    for signed in (during, in_flight):
        assert verify(body, signed, [current, before])["data"]["taskId"] == task_id
    assert verify(body, during, [before])["data"]["taskId"] == task_id
    assert verify(body, during, [current])["data"]["taskId"] == task_id
    with pytest.raises(Rejected):  # the previous secret is why the list has two
        verify(body, in_flight, [current])


# `make run`'s banner

def test_the_curl_lines_make_run_prints_run_literally(live, settings, tmp_path, astronaut_jpeg):
    """Its lines, as printed for the demo organisation, against the live server with the demo receiver mounted;
    the callback the first one asked for arrives there verified (delivered here for a cancel: a render is
    another test's)."""
    settings.ROOT_URLCONF = __name__
    RECEIVED.clear()
    banner = io.StringIO()
    call_command("create_demo_org", stdout=banner)
    key = re.search(r"API key\s*:\s*(\S+)", banner.getvalue())[1]
    commands = shell_commands(1, banner.getvalue().splitlines(), "make run", starts=CURL_START.match)
    assert len(commands) >= 4, banner.getvalue()
    folder = tmp_path / "reader"
    folder.mkdir()
    shell = Shell(folder, live.url, key, astronaut_jpeg)
    found = []
    ran = [shell.run(c) for c in commands]
    for each in ran:
        found += problems(each)
    assert not found, "make run's curl lines that do not work as printed:\n" + "\n".join(found)

    task_id = shell.env.get("TASK")
    assert task_id and CoverTask.objects.filter(pk=task_id, organization__slug="demo").exists()
    cancel_task(CoverTask.objects.get(pk=task_id).organization, task_id)
    deliver_callback(CallbackDelivery.objects.get(task_id=task_id).pk)
    listing = next(c for c in commands if "/dev/callbacks" in c.text and "generate" not in c.text)
    arrived = json.loads(shell.run(listing).stdout)["callbacks"]
    assert [(c["webhookId"], c["signatureValid"]) for c in arrived] == [(f"msg_{task_id}", True)]
