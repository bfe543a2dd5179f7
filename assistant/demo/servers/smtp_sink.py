"""A throwaway SMTP server (aiosmtpd) on loopback that keeps every message it receives."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

from assistant.demo.servers.dovecot import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    _controller: Any = None

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted"

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def start_smtp_sink(*, starttls: ssl.SSLContext | None = None, tls: ssl.SSLContext | None = None) -> SmtpSink:
    """aiosmtpd on a free loopback port, in its own thread; optionally STARTTLS or TLS."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", free_port())
    options: dict[str, Any] = {}
    if starttls is not None:
        options.update(tls_context=starttls, require_starttls=True)
    if tls is not None:
        options.update(ssl_context=tls)
    controller = Controller(sink, hostname=sink.host, port=sink.port, **options)
    controller.start()
    sink._controller = controller
    return sink
