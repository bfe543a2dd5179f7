"""CalDAV through the caldav library: find (or create) the calendar, conditional PUT/DELETE.

Creates send `If-None-Match: *`, updates and deletes send `If-Match`, so nothing is ever
overwritten blindly; a 412 surfaces as `PreconditionFailed` for `apply.py` to resolve.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from xml.sax.saxutils import escape

from caldav.collection import Calendar as DAVCalendar
from caldav.davclient import DAVClient
from caldav.lib import error as dav_error

from assistant.config import CalendarSettings
from assistant.errors import AuthenticationError, TempFailError, UnavailableError

log = logging.getLogger(__name__)

TIMEOUT = 30
_ICS = {"Content-Type": "text/calendar; charset=utf-8"}


class PreconditionFailed(TempFailError):
    """The server's copy changed (or exists) since we last saw it: HTTP 412."""


class CalendarGone(TempFailError):
    """The remembered calendar URL answers 404: discover the calendar again."""


@dataclass
class Changes:
    """Members of the calendar by path with their ETags (None: deleted), and the new sync token."""

    objects: dict[str, str | None]
    token: str | None
    full: bool


def href_path(href: str) -> str:
    """The unquoted path of an href or URL, for comparing what servers write differently."""
    return unquote(urlsplit(href).path)


def _parse_multistatus(response: Any) -> tuple[dict[str, str | None], str | None]:
    tree = response.tree
    if tree is None:
        return {}, None
    objects: dict[str, str | None] = {}
    for item in tree.iter("{DAV:}response"):
        href_el = item.find("{DAV:}href")
        if href_el is None or not href_el.text:
            continue
        path = href_path(href_el.text.strip())
        status = item.find("{DAV:}status")
        if status is not None and status.text and " 404" in status.text:
            objects[path] = None
            continue
        etag_el = item.find(".//{DAV:}getetag")
        if path.endswith("/"):
            continue  # the collection itself
        objects[path] = etag_el.text.strip() if etag_el is not None and etag_el.text else ""
    token_el = tree.find("{DAV:}sync-token") if hasattr(tree, "find") else None
    token = token_el.text.strip() if token_el is not None and token_el.text else None
    return objects, token


@dataclass
class CalendarObject:
    href: str
    etag: str | None
    ics: str


class CalendarStore:
    """One calendar collection on a CalDAV server."""

    def __init__(self, client: Any, calendar: Any, name: str) -> None:
        self.client = client
        self.calendar = calendar
        self.name = name
        self.url = str(calendar.url).rstrip("/") + "/"

    @classmethod
    def connect(
        cls, settings: CalendarSettings, password: str, *, create: bool = True, known_url: str | None = None
    ) -> CalendarStore:
        """Log in, find the calendar by display name, create it when missing and allowed.

        With `known_url` (remembered from an earlier cycle) no discovery request is made;
        if that URL is gone, the next request fails and the caller forgets it.
        """
        server = f"the CalDAV server {settings.url}"
        try:
            bearer = settings.secret.auth == "xoauth2"
            client: Any = DAVClient(
                url=settings.url,
                username=None if bearer else settings.username,
                password=None if bearer else password,
                # Basic credentials sent with the first request, as Cyrus's clients do: no 401
                # round trip per cycle (a server that wants Digest gets it after one refusal).
                auth_type=None if bearer else "basic",
                timeout=TIMEOUT,
                ssl_verify_cert=settings.ca_file or True,
                enable_rfc6764=False,
                headers=_auth_headers(settings, password),
            )
            if known_url:
                return cls(client, DAVCalendar(client=client, url=known_url), settings.calendar)
            try:
                principal = client.principal()
            except dav_error.AuthorizationError:
                if not _negotiate_instead(client):
                    raise
                principal = client.principal()
            for calendar in principal.calendars():
                if _display_name(calendar) == settings.calendar:
                    return cls(client, calendar, settings.calendar)
            if not create:
                names = ", ".join(repr(_display_name(c)) for c in principal.calendars()) or "none"
                raise UnavailableError(
                    f"no calendar named {settings.calendar!r} at {settings.url} (the account has: {names})",
                    server=server,
                    hint="Run `mentor-assistant once` to create it, or set calendar.calendar to an existing name.",
                )
            log.info("Creating the calendar %r at %s", settings.calendar, settings.url)
            calendar = principal.make_calendar(name=settings.calendar)
            return cls(client, calendar, settings.calendar)
        except dav_error.AuthorizationError:
            raise AuthenticationError(
                f"{server} refused the login for {settings.username}", server=server, source=settings.secret.source
            ) from None
        except dav_error.MkcalendarError as exc:
            raise UnavailableError(
                f"the calendar {settings.calendar!r} does not exist and could not be created: {exc}",
                server=server,
                hint="Create it in your calendar app, or set calendar.calendar to an existing calendar's name.",
            ) from None
        except dav_error.NotFoundError:
            raise UnavailableError(
                f"calendar.url {settings.url} does not exist on the server (404)",
                server=server,
                hint=_calendars_hint(settings, password),
            ) from None
        except dav_error.DAVError as exc:
            raise TempFailError(f"{server} answered with an error: {exc}") from None
        except OSError as exc:
            raise UnavailableError(f"cannot connect to {server}: {exc}", server=server) from None
        except Exception as exc:
            # niquests' connection errors do not derive from OSError.
            if type(exc).__module__.startswith(("niquests", "requests", "urllib3")):
                raise UnavailableError(f"cannot connect to {server}: {exc}", server=server) from None
            raise

    def supports_vtodo(self) -> bool:
        """Whether the calendar takes tasks (its supported-calendar-component-set)."""
        try:
            components = self.calendar.get_supported_components()
        except dav_error.DAVError as exc:
            raise TempFailError(f"cannot read what the calendar supports: {exc}") from None
        return "VTODO" in {str(c).upper() for c in components}

    def changes(self, token: str | None) -> Changes:
        """What changed since `token` (RFC 6578 sync-collection), or everything.

        Returns every member's path and ETag when `full`, else only the changed ones
        (ETag None: deleted). A refused or missing token falls back to a full listing.
        """
        body = (
            '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
            f"<D:sync-token>{escape(token or '')}</D:sync-token><D:sync-level>1</D:sync-level>"
            "<D:prop><D:getetag/></D:prop></D:sync-collection>"
        )
        headers = {"Content-Type": "application/xml; charset=utf-8", "Depth": "1"}
        response = self._request("REPORT", self.url, body, headers)
        if response.status == 404:
            raise CalendarGone(f"the calendar at {self.url} no longer exists")
        if response.status < 300:
            objects, new_token = _parse_multistatus(response)
            return Changes(objects, new_token, full=not token)
        if token:
            log.info("The server refused the sync token (%s); listing the calendar in full", response.status)
            return self.changes(None) if response.status in (403, 409, 412) else self._listing()
        return self._listing()

    def _listing(self) -> Changes:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
        )
        headers = {"Content-Type": "application/xml; charset=utf-8", "Depth": "1"}
        response = self._request("PROPFIND", self.url, body, headers)
        if response.status == 404:
            raise CalendarGone(f"the calendar at {self.url} no longer exists")
        if response.status >= 300:
            raise TempFailError(f"CalDAV PROPFIND {self.url} answered {response.status}")
        objects, _token = _parse_multistatus(response)
        return Changes(objects, None, full=True)

    def href_for(self, uid: str) -> str:
        """Where a new object with this UID is created."""
        safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in uid)
        return urljoin(self.url, f"{safe}.ics")

    def _request(self, method: str, href: str, body: str = "", headers: dict[str, str] | None = None) -> Any:
        try:
            try:
                return self.client.request(href, method, body, headers or {})
            except dav_error.AuthorizationError:
                if not _negotiate_instead(self.client):
                    raise
                return self.client.request(href, method, body, headers or {})
        except dav_error.AuthorizationError:
            raise AuthenticationError(f"the CalDAV server refused {method} {href}", server=self.url) from None
        except dav_error.DAVError as exc:
            raise TempFailError(f"CalDAV {method} {href} failed: {exc}") from None
        except Exception as exc:
            if isinstance(exc, OSError) or type(exc).__module__.startswith(("niquests", "requests", "urllib3")):
                raise TempFailError(f"CalDAV {method} {href} failed: {exc}") from None
            raise

    def get(self, href: str) -> CalendarObject | None:
        """The object at `href` with its ETag, or None when it does not exist."""
        response = self._request("GET", href)
        if response.status == 404:
            return None
        if response.status >= 300:
            raise TempFailError(f"CalDAV GET {href} answered {response.status}")
        body = getattr(response, "_raw_body", b"") or getattr(response, "_raw", b"") or b""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        etag = response.headers.get("ETag")
        return CalendarObject(href, str(etag) if etag else None, text)

    def put(self, href: str, ics: str, *, etag: str | None) -> str | None:
        """Create (etag None) or update (If-Match etag); returns the new ETag."""
        headers = dict(_ICS)
        if etag is None:
            headers["If-None-Match"] = "*"
        else:
            headers["If-Match"] = etag
        response = self._request("PUT", href, ics, headers)
        if response.status == 412:
            raise PreconditionFailed(f"CalDAV PUT {href}: the server's copy changed (412)")
        if response.status >= 300:
            raise TempFailError(f"CalDAV PUT {href} answered {response.status}")
        new_etag: str | None = response.headers.get("ETag")
        if not new_etag or new_etag.startswith("W/"):
            current = self.get(href)
            new_etag = current.etag if current else None
        return new_etag

    def delete(self, href: str, *, etag: str | None) -> None:
        """Delete with If-Match; an object already gone is fine."""
        headers = {"If-Match": etag} if etag else {}
        response = self._request("DELETE", href, "", headers)
        if response.status == 412:
            raise PreconditionFailed(f"CalDAV DELETE {href}: the server's copy changed (412)")
        if response.status not in (200, 204, 404):
            raise TempFailError(f"CalDAV DELETE {href} answered {response.status}")

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: S110 - closing is best effort
            pass


def _negotiate_instead(client: Any) -> bool:
    """After the pre-emptive Basic credentials were refused: let the server's 401 choose the
    scheme (Digest) for one more try. False when that was done already."""
    if getattr(client, "auth_type", None) != "basic" or getattr(client, "negotiated", False):
        return False
    client.auth, client.auth_type, client.negotiated = None, None, True
    return True


def _display_name(calendar: Any) -> str | None:
    getter = getattr(calendar, "get_display_name", None)
    if callable(getter):
        name = getter()
        return str(name) if name is not None else None
    name = getattr(calendar, "name", None)
    return str(name) if name is not None else None


def list_calendars(settings: CalendarSettings, password: str) -> list[tuple[str, str]]:
    """The account's calendars as (display name, URL), found from calendar.url."""
    try:
        bearer = settings.secret.auth == "xoauth2"
        client: Any = DAVClient(url=settings.url, username=None if bearer else settings.username,
                                password=None if bearer else password, timeout=TIMEOUT,
                                ssl_verify_cert=settings.ca_file or True, enable_rfc6764=False,
                                headers=_auth_headers(settings, password))  # fmt: skip
        return [(_display_name(c) or "", str(c.url)) for c in client.principal().calendars()]
    except dav_error.AuthorizationError:
        raise AuthenticationError(f"the CalDAV server {settings.url} refused the login",
                                  server=settings.url, source=settings.secret.source) from None  # fmt: skip
    except Exception as exc:
        raise UnavailableError(f"cannot list the calendars at {settings.url}: {exc}", server=settings.url) from None


def _auth_headers(settings: CalendarSettings, token: str) -> dict[str, str]:
    """OAuth2 (Google's CalDAV): the token as a bearer; else none (Basic auth from the password)."""
    return {"Authorization": f"Bearer {token}"} if settings.secret.auth == "xoauth2" else {}


def _calendars_hint(settings: CalendarSettings, password: str) -> str:
    """Which calendars the account does have (found from the server's root), to copy into calendar.url."""
    parts = urlsplit(settings.url)
    root = f"{parts.scheme}://{parts.netloc}/"
    try:
        client: Any = DAVClient(url=root, username=settings.username, password=password, timeout=TIMEOUT,
                                ssl_verify_cert=settings.ca_file or True, enable_rfc6764=False)  # fmt: skip
        principal = client.principal()
        found = [(_display_name(c), str(c.url)) for c in principal.calendars()]
        home = str(principal.url)
    except Exception:  # discovery is a courtesy here; the error itself is already clear
        return "Check calendar.url: copy the CalDAV address from your calendar provider's settings."
    if not found:
        return f"The account's home is {home}; set calendar.url to it, and the calendar is created there."
    listing = "; ".join(f"{name!r}: {url}" for name, url in found)
    return f"Set calendar.url to the account's home {home} (or one of its calendars: {listing})."
