"""Goals in the calendar, synced both ways, against real Radicale and Xandikos; then read
by real calendar clients (vdirsyncer to a local directory, khal and todoman)."""

from __future__ import annotations

import itertools
import json
import textwrap
from datetime import timedelta

import pytest
from caldav.davclient import DAVClient

from assistant.adapters import caldav as caldav_adapter
from tests.calendar_clients import khal_list, sync_to_vdir, todo_list
from tests.conftest import write_config
from tests.test_end_to_end import NOW, cli

pytestmark = pytest.mark.integration
GOALS = textwrap.dedent("""
    [[goals]]
    id = "qi-proposal"
    title = "First draft of the QI proposal"
    measure = "a 3-5 page draft sent to Dr. Smith"
    relevant = "inpatient anticoagulation QI project"
    owner = "me"
    start = 2026-11-24
    estimate = "2w"

    [[goals]]
    id = "abstract"
    title = "Submit the QI abstract"
    measure = "submitted to the regional meeting"
    owner = "me"
    start = 2026-11-24
    estimate = "10d"
""")
MENTOR = '\n[[mentors]]\nname = "Dr. Jane Smith"\nemail = ["jsmith@hospital.org"]\n'
_names = itertools.count()


@pytest.fixture(params=["radicale", "xandikos"])
def server(request):
    return request.getfixturevalue(request.param)


class World:
    def __init__(self, server, mail_user, tmp_path, *, vevent_only=False):
        self.server = server
        self.user = mail_user.username.split("@")[0] if server.kind == "radicale" else "user"
        self.name = f"Mentorship {next(_names)}"
        self.client = DAVClient(url=server.url, username=self.user, password="x", timeout=30)
        if vevent_only:
            self.client.principal().make_calendar(name=self.name, supported_calendar_component_set=["VEVENT"])
        self.config = write_config(
            tmp_path / "config.toml",
            user=mail_user,
            calendar=server,
            cal_user=self.user,
            goals=GOALS,
            mentors=MENTOR,
            calendar_name=self.name,
        )

    def calendar(self):
        return next(c for c in self.client.principal().calendars() if c.get_display_name() == self.name)

    def objects(self) -> dict[str, tuple[str, str]]:
        """marker (goal:kind) -> (etag, ics)"""
        out = {}
        for obj in self.calendar().objects(load_objects=True):
            data = obj.data
            if data is None:
                continue  # listed by the library but gone on the server
            marker = data.split("X-MENTOR-ASSISTANT:")[1].split("\r\n")[0].split("\n")[0].strip()
            out[marker] = (obj.props.get("{DAV:}getetag") or "", data)
        return out

    def edit(self, marker: str, change) -> None:
        for obj in self.calendar().objects(load_objects=True):
            if f"X-MENTOR-ASSISTANT:{marker}" in obj.data:
                obj.data = change(obj.data)
                obj.save()
                return
        raise AssertionError(marker)

    def delete(self, marker: str) -> None:
        for obj in self.calendar().objects(load_objects=True):
            if f"X-MENTOR-ASSISTANT:{marker}" in obj.data:
                obj.delete()
                return
        raise AssertionError(marker)

    def status(self, now):
        return {g["id"]: g for g in json.loads(cli(self.config, "status", "--json", now=now)[1])["goals"]}


def once_counting_requests(server, config, monkeypatch, *, now):
    """`once`, and every HTTP request it sent on the wire with the status it got."""
    requests = []
    session = type(DAVClient(url=server.url).session)
    original = session.request

    def counting(self, method, url, *args, **kwargs):
        response = original(self, method, url, *args, **kwargs)
        requests.append((method, response.status_code))
        return response

    monkeypatch.setattr(session, "request", counting)
    code, out = cli(config, "once", now=now)
    monkeypatch.undo()
    return code, out, requests


def test_create_noop_change_delete(server, mail_user, tmp_path, monkeypatch):
    w = World(server, mail_user, tmp_path)
    code, out = cli(w.config, "once")
    assert code == 0, out
    objects = w.objects()
    assert set(objects) == {f"goal:{g}:{k}" for g in ("qi-proposal", "abstract") for k in ("due", "aim", "todo")}
    assert "DTSTART;VALUE=DATE:20261215" in objects["goal:qi-proposal:due"][1]
    assert "DUE;VALUE=DATE:20261208" in objects["goal:qi-proposal:todo"][1]  # due on your own aim

    # No change: nothing written, and exactly one HTTP request on the wire (the credentials go
    # with it: no 401 round trip first).
    code, out, requests = once_counting_requests(server, w.config, monkeypatch, now=NOW + timedelta(minutes=5))
    assert "Nothing to do." in out
    assert w.objects() == objects
    assert requests == [("REPORT", 207)], requests

    # A changed estimate updates that goal's objects in place, SEQUENCE up; the other goal is untouched.
    w.config.write_text(w.config.read_text().replace('estimate = "10d"', 'estimate = "3w"'))
    code, out = cli(w.config, "once", now=NOW + timedelta(minutes=10))
    assert out.count("update calendar entry") == 3 and "create" not in out and "delete" not in out
    after = w.objects()
    assert after["goal:qi-proposal:due"] == objects["goal:qi-proposal:due"]
    assert "SEQUENCE:1" in after["goal:abstract:due"][1]

    # A removed goal's objects are deleted.
    text = w.config.read_text()
    w.config.write_text(text[: text.index('[[goals]]\nid = "abstract"')])
    code, out = cli(w.config, "once", now=NOW + timedelta(minutes=15))
    assert out.count("delete calendar entry") == 3, out
    assert set(w.objects()) == {"goal:qi-proposal:due", "goal:qi-proposal:aim", "goal:qi-proposal:todo"}


def test_completion_move_and_deletion_are_read_back(server, mail_user, tmp_path):
    w = World(server, mail_user, tmp_path)
    assert cli(w.config, "once")[0] == 0
    # In a task app: the abstract's task is completed. In a calendar app: the proposal's
    # deadline moves three days later, and its "Aim" event is deleted.
    w.edit("goal:abstract:todo", lambda d: d.replace("STATUS:NEEDS-ACTION", "STATUS:COMPLETED\r\nPERCENT-COMPLETE:100"))
    w.edit("goal:qi-proposal:due", lambda d: d.replace("20261215", "20261218").replace("20261216", "20261219"))
    w.delete("goal:qi-proposal:aim")
    later = NOW + timedelta(days=1)
    code, out = cli(w.config, "once", now=later)
    assert code == 0, out
    assert "marked done" in out and "that is now the promised date" in out and "stays deleted" in out
    goals = w.status(later)
    assert goals["abstract"]["status"] == "done" and "task app" in goals["abstract"]["note"]
    assert goals["qi-proposal"]["deadline"] == "2026-12-18"
    assert "moved in your calendar from 2026-12-15 to 2026-12-18" in goals["qi-proposal"]["note"]
    objects = w.objects()
    assert "goal:qi-proposal:aim" not in objects  # not recreated
    assert "SUMMARY:✓ Due: Submit the QI abstract" in objects["goal:abstract:due"][1].replace("\r\n ", "")
    assert "Dec 18" in objects["goal:qi-proposal:todo"][1].replace("\r\n ", "")  # the new promise
    # Quiet afterwards.
    code, out = cli(w.config, "once", now=later + timedelta(minutes=5))
    assert "Nothing to do." in out, out
    # Editing the goal in the config brings the deleted event back and supersedes the move.
    w.config.write_text(w.config.read_text().replace('measure = "a 3-5 page draft', 'measure = "a 4-page draft'))
    code, out = cli(w.config, "once", now=later + timedelta(minutes=10))
    assert "create calendar entry 'Aim: First draft of the QI proposal" in out, out
    assert w.status(later)["qi-proposal"]["deadline"] == "2026-12-15"


def test_a_412_race_is_resolved_without_losing_the_users_change(server, mail_user, tmp_path, monkeypatch):
    w = World(server, mail_user, tmp_path)
    assert cli(w.config, "once")[0] == 0
    w.config.write_text(w.config.read_text().replace('measure = "submitted', 'measure = "accepted'))
    original = caldav_adapter.CalendarStore.put
    raced = []

    def put_after_a_user_edit(self, href, ics, *, etag):
        if etag is not None and not raced:
            raced.append(href)  # the resident edits the same object between our read and our write
            w.edit("goal:abstract:aim", lambda d: d.replace("DESCRIPTION:", "DESCRIPTION:(note) "))
        return original(self, href, ics, etag=etag)

    monkeypatch.setattr(caldav_adapter.CalendarStore, "put", put_after_a_user_edit)
    code, out = cli(w.config, "once", now=NOW + timedelta(minutes=5))
    assert code == 0, out
    assert raced
    objects = w.objects()
    assert list(objects).count("goal:abstract:aim") == 1  # no duplicate
    assert "accepted" in objects["goal:abstract:aim"][1].replace("\r\n ", "")
    monkeypatch.undo()
    # A date moved by the user during the race is not overwritten: it is read back next cycle.
    w.config.write_text(w.config.read_text().replace('measure = "accepted', 'measure = "presented'))
    raced.clear()

    def put_after_a_move(self, href, ics, *, etag):
        if etag is not None and not raced and "goal:abstract:due" in ics:
            raced.append(href)
            w.edit("goal:abstract:due", lambda d: d.replace("20261215", "20261218").replace("20261216", "20261219"))
        return original(self, href, ics, etag=etag)

    monkeypatch.setattr(caldav_adapter.CalendarStore, "put", put_after_a_move)
    code, out = cli(w.config, "once", now=NOW + timedelta(minutes=10))
    monkeypatch.undo()
    assert raced
    assert "changed in the calendar meanwhile" in out
    code, out = cli(w.config, "once", now=NOW + timedelta(minutes=15))
    assert code == 0, out
    assert w.status(NOW + timedelta(minutes=15))["abstract"]["deadline"] == "2026-12-18"


def test_a_vevent_only_calendar_gets_events_and_no_tasks(server, mail_user, tmp_path):
    w = World(server, mail_user, tmp_path, vevent_only=True)
    code, out = cli(w.config, "once")
    assert code == 0, out
    assert set(w.objects()) == {f"goal:{g}:{k}" for g in ("qi-proposal", "abstract") for k in ("due", "aim")}
    assert "Nothing to do." in cli(w.config, "once", now=NOW + timedelta(minutes=1))[1]


def test_khal_and_todoman_show_the_goals_on_the_right_dates(server, mail_user, tmp_path):
    w = World(server, mail_user, tmp_path)
    assert cli(w.config, "once")[0] == 0
    local = sync_to_vdir(tmp_path, str(w.calendar().url), w.user)
    listing = khal_list(tmp_path, local, "2026-11-24", "60d")
    days = listing.split("\n")

    def under(day: str) -> str:
        start = next(i for i, line in enumerate(days) if day in line)
        return "\n".join(days[start : start + 4])

    assert "Due: First draft of the QI proposal" in under("2026-12-15")
    assert "Aim: First draft of the QI proposal" in under("2026-12-08")
    assert "Aim: Submit the QI abstract" in under("2026-12-04")
    tasks = todo_list(tmp_path, local)
    assert any("2026-12-08" in line and "First draft of the QI proposal" in line for line in tasks.splitlines())
    assert any("Submit the QI abstract" in line for line in tasks.splitlines())
    print("\n" + listing + "\n" + tasks)


@pytest.fixture(scope="module")
def radicale_with_login():
    from assistant.demo.servers.caldav_servers import start_radicale

    server = start_radicale(username="alex", password="s3cret", login=True)
    yield server
    server.stop()


def test_a_server_that_asks_for_a_login_gets_it_with_the_first_request(radicale_with_login, mail_user, tmp_path,
                                                                          monkeypatch):  # fmt: skip
    server = radicale_with_login
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=server, cal_user="alex", goals=GOALS,
                          mentors=MENTOR)  # fmt: skip
    config.write_text(config.read_text().replace('password = "x"', 'password = "s3cret"'))
    code, out = cli(config, "once")
    assert code == 0 and "create calendar entry" in out, out
    code, out, requests = once_counting_requests(server, config, monkeypatch, now=NOW + timedelta(minutes=5))
    assert code == 0 and "Nothing to do." in out, out
    assert requests == [("REPORT", 207)], requests
    # A wrong password is still refused, with the key it came from.
    config.write_text(config.read_text().replace('password = "s3cret"', 'password = "wrong"'))
    code, out = cli(config, "once", now=NOW + timedelta(minutes=10))
    assert code == 69 and "calendar: the CalDAV server refused" in out, out  # the mail side went on


class DigestProxy:
    """HTTP Digest (RFC 7616, MD5, qop=auth) in front of Radicale, as servers built on
    sabre/dav can be set up: Basic credentials and requests without any are answered 401 with
    a Digest challenge; a valid Digest answer is passed on (as Basic: what Radicale speaks).
    Every request is counted as (method, status)."""

    def __init__(self, upstream: str, username: str, password: str) -> None:
        import base64
        import hashlib
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        up = urlsplit(upstream)
        self.requests: list[tuple[str, int]] = []
        proxy = self
        realm, nonce = "mentorship", "b4e1d2c3a5f6"
        basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        def valid(header: str, method: str) -> bool:
            if not header.startswith("Digest "):
                return False
            fields = {
                k.strip(): v.strip().strip('"') for k, v in (p.split("=", 1) for p in header[7:].split(",") if "=" in p)
            }
            ha1 = md5(f"{username}:{realm}:{password}")
            ha2 = md5(f"{method}:{fields.get('uri', '')}")
            expected = md5(f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
            return fields.get("username") == username and fields.get("response") == expected

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not valid(self.headers.get("Authorization", ""), self.command):
                    proxy.requests.append((self.command, 401))
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", f'Digest realm="{realm}", nonce="{nonce}", qop="auth", '
                                                         'algorithm=MD5')  # fmt: skip
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                connection = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("authorization", "host")}
                headers["Authorization"] = basic  # Radicale itself speaks Basic: it learns who it is
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
                proxy.requests.append((self.command, answer.status))
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                connection.close()

            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_MKCALENDAR = do_OPTIONS = _handle
            do_PROPPATCH = do_MKCOL = do_HEAD = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{up.path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


def test_a_server_that_wants_digest_gets_it_after_the_basic_credentials_are_refused(mail_user, tmp_path):
    from assistant.demo.servers.caldav_servers import start_radicale

    server = start_radicale()  # its own: the calendars it gets are not the shared servers'
    proxy = DigestProxy(server.url, "alex", "s3cret")
    try:
        config = write_config(tmp_path / "config.toml", user=mail_user, calendar=server, cal_user="alex", goals=GOALS,
                              mentors=MENTOR)  # fmt: skip
        config.write_text(config.read_text().replace(server.url, proxy.url).replace('password = "x"',
                                                                                   'password = "s3cret"'))  # fmt: skip
        code, out = cli(config, "once")
        assert code == 0 and "create calendar entry" in out, out
        proxy.requests.clear()
        code, out = cli(config, "once", now=NOW + timedelta(minutes=5))
        assert code == 0 and "Nothing to do." in out, out
        # The pre-emptive Basic credentials are refused, then the server's challenge is
        # answered with Digest: one REPORT gets through, after the refusals Digest costs
        # (the Basic try, and the challenge for a nonce: 3 in all with this client library).
        assert [r for r in proxy.requests if r[1] != 401] == [("REPORT", 207)], proxy.requests
        assert len(proxy.requests) <= 4, proxy.requests
        print(f"\nno-change sync behind Digest: {proxy.requests}")
        config.write_text(config.read_text().replace('password = "s3cret"', 'password = "wrong"'))
        code, out = cli(config, "once", now=NOW + timedelta(minutes=10))
        assert code == 69 and "calendar: the CalDAV server refused" in out, out
    finally:
        proxy.stop()
        server.stop()
