"""SMTP through aiosmtplib: the digest, to the resident and to nobody else.

The recipient check here is the last line of defence for the rule that the assistant
never sends mail to anyone but the resident: the core only ever plans mail to them, and
this module refuses anything else.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

import aiosmtplib

from assistant.config.model import SmtpSettings
from assistant.core.settings import Me
from assistant.errors import AssistantError, AuthenticationError, TempFailError, UnavailableError, tls_failure

log = logging.getLogger(__name__)

TIMEOUT = 30


class RefusedRecipient(AssistantError):
    """An attempt to send mail to someone other than the resident (a bug; never done)."""


def send_to_resident(settings: SmtpSettings, password: str, *, me: Me, raw: bytes) -> None:
    """Deliver `raw` to the resident's own address."""
    asyncio.run(_send(settings, password, me=me, raw=raw, recipients=[me.email]))


def check_login(settings: SmtpSettings, password: str, *, me: Me) -> None:
    """Connect and log in as the digest would, sending nothing (for `check-config`)."""
    asyncio.run(_send(settings, password, me=me, raw=b"", recipients=[]))


async def _send(settings: SmtpSettings, password: str, *, me: Me, raw: bytes, recipients: list[str]) -> None:
    if any(r.lower() not in me.addresses for r in recipients):
        raise RefusedRecipient(f"refusing to send mail to {recipients}: only the resident may receive mail")
    server = f"the SMTP server {settings.host}:{settings.port}"
    context = ssl.create_default_context(cafile=settings.ca_file) if settings.security != "plain" else None
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        tls_context=context,
        timeout=TIMEOUT,
    )
    try:
        await client.connect()
        if settings.username and client.supports_extension("auth"):
            await client.login(settings.username, password)
        if recipients:
            await client.sendmail(me.email, recipients, raw)
    except aiosmtplib.SMTPAuthenticationError:
        raise AuthenticationError(
            f"{server} refused the login for {settings.username}", server=server, source=settings.secret.source
        ) from None
    except ssl.SSLError as exc:
        raise tls_failure(str(exc.reason or exc), server=server, key="smtp", port=settings.port, tls_port=465,
                          starttls_port=587) from None  # fmt: skip
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError, OSError) as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ssl.SSLError):
            raise tls_failure(str(cause.reason or cause), server=server, key="smtp", port=settings.port,
                              tls_port=465, starttls_port=587) from None  # fmt: skip
        raise UnavailableError(f"cannot connect to {server}: {exc}", server=server) from None
    except aiosmtplib.SMTPException as exc:
        if "starttls" in str(exc).lower():
            raise UnavailableError(
                f"{server} does not offer STARTTLS",
                server=server,
                hint='Use smtp.security = "tls" with the server\'s TLS port (usually 465), or ask '
                "your IT department which port offers STARTTLS (usually 587).",
            ) from None
        raise TempFailError(f"{server} did not take the digest: {exc}") from None
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except aiosmtplib.SMTPException:
                client.close()
