"""Connecting to the IMAP server and leaving it: TLS as configured, the login, the logout.

`adapters/imap.py` works on the logged-in connection this gives.
"""

from __future__ import annotations

import contextlib
import functools
import ssl

import imapclient
from imapclient.exceptions import IMAPClientError, LoginError

from assistant.config import MailSettings
from assistant.errors import AuthenticationError, UnavailableError, tls_failure

LOGOUT_WAIT = 2.0  # seconds; a connection that may be dead is not waited on for the full read timeout


@functools.lru_cache(maxsize=4)
def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """System CAs plus an optional extra one; verification is never turned off.

    Built once per CA file: loading the system store costs more than a loopback login.
    """
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def login(settings: MailSettings, password: str) -> imapclient.IMAPClient:
    """Connect and log in; raise UnavailableError or AuthenticationError."""
    server = f"the IMAP server {settings.host}:{settings.port}"
    timeout = imapclient.SocketTimeout(connect=15, read=120)
    context = tls_context(settings.ca_file)
    try:
        client = imapclient.IMAPClient(
            settings.host,
            port=settings.port,
            ssl=settings.security == "tls",
            ssl_context=context,
            timeout=timeout,
        )
        if settings.security == "starttls":
            if b"STARTTLS" not in client.capabilities():
                log_out(client)
                raise UnavailableError(
                    f"{server} does not offer STARTTLS",
                    server=server,
                    hint='Use mail.security = "tls" with the server\'s TLS port (usually 993); '
                    "mentor-assistant never logs in without encryption to a server that is not on this machine.",
                )
            client.starttls(context)
    except ssl.SSLError as exc:
        raise tls_failure(str(exc.reason or exc), server=server, key="mail", port=settings.port, tls_port=993,
                          starttls_port=143) from None  # fmt: skip
    except (OSError, IMAPClientError) as exc:
        raise UnavailableError(f"cannot connect to {server}: {exc}", server=server) from None
    client.normalise_times = False
    try:
        if settings.secret.auth == "xoauth2":
            client.oauth2_login(settings.username, password)
        elif (settings.username + password).isascii():
            client.login(settings.username, password)
        else:
            # LOGIN takes ASCII only; AUTHENTICATE PLAIN carries UTF-8 ("é", "ß" in a password).
            client.plain_login(settings.username, password)
    except LoginError:
        log_out(client)
        raise AuthenticationError(
            f"{server} refused the login for {settings.username}", server=server, source=settings.secret.source
        ) from None
    except (OSError, IMAPClientError) as exc:
        log_out(client)
        raise UnavailableError(f"login to {server} failed: {exc}", server=server) from None
    return client


def log_out(client: imapclient.IMAPClient, *, wait: float | None = None) -> None:
    """LOGOUT, or at least close the socket; never raises. With `wait`, the server's answer is
    waited for that long at most: a connection that may be dead (a laptop that slept,
    another network) is not waited on for the full read timeout."""
    if wait is not None:
        with contextlib.suppress(OSError, AttributeError):
            client.socket().settimeout(wait)
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):
            client.shutdown()
