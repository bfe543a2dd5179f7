"""CalDAV through the caldav library: find (or create) the calendar, conditional PUT/DELETE.

Creates send `If-None-Match: *`, updates and deletes send `If-Match`, so nothing is ever
overwritten blindly; a 412 surfaces as `PreconditionFailed` for `apply.py` to resolve.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from caldav.davclient import DAVClient
from caldav.lib import error as dav_error

from assistant.config import CalendarSettings
from assistant.errors import AuthenticationError, TempFailError, UnavailableError

log = logging.getLogger(__name__)

TIMEOUT = 30
_ICS = {"Content-Type": "text/calendar; charset=utf-8"}


class PreconditionFailed(TempFailError):
    """The server's copy changed (or exists) since we last saw it: HTTP 412."""


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
    def connect(cls, settings: CalendarSettings, password: str, *, create: bool = True) -> CalendarStore:
        """Log in, find the calendar by display name, create it when missing and allowed."""
        server = f"the CalDAV server {settings.url}"
        try:
            client: Any = DAVClient(
                url=settings.url,
                username=settings.username,
                password=password,
                timeout=TIMEOUT,
                ssl_verify_cert=settings.ca_file or True,
                enable_rfc6764=False,
            )
            principal = client.principal()
            for calendar in principal.calendars():
                if _display_name(calendar) == settings.calendar:
                    return cls(client, calendar, settings.calendar)
            if not create:
                raise UnavailableError(
                    f"no calendar named {settings.calendar!r} at {settings.url}",
                    server=server,
                    hint="Run `mentor-assistant once` to create it, or set calendar.calendar to an existing name.",
                )
            log.info("Creating the calendar %r at %s", settings.calendar, settings.url)
            calendar = principal.make_calendar(name=settings.calendar)
            return cls(client, calendar, settings.calendar)
        except dav_error.AuthorizationError:
            raise AuthenticationError(f"{server} refused the login for {settings.username}", server=server) from None
        except dav_error.MkcalendarError as exc:
            raise UnavailableError(
                f"the calendar {settings.calendar!r} does not exist and could not be created: {exc}",
                server=server,
                hint="Create it in your calendar app, or set calendar.calendar to an existing calendar's name.",
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

    def href_for(self, uid: str) -> str:
        """Where a new object with this UID is created."""
        safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in uid)
        return urljoin(self.url, f"{safe}.ics")

    def _request(self, method: str, href: str, body: str = "", headers: dict[str, str] | None = None) -> Any:
        try:
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


def _display_name(calendar: Any) -> str | None:
    getter = getattr(calendar, "get_display_name", None)
    if callable(getter):
        name = getter()
        return str(name) if name is not None else None
    name = getattr(calendar, "name", None)
    return str(name) if name is not None else None
