"""Logging for the command line: stderr, journald priorities under systemd, secrets redacted."""

from __future__ import annotations

import logging
import os
import sys

from assistant.adapters import secrets

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class RedactingFilter(logging.Filter):
    """Replaces every known password and token in a record's final text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = secrets.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = secrets.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JournalFormatter(logging.Formatter):
    """`<N>message` lines: journald reads the priority and adds its own timestamps."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = f"<{_PRIORITY.get(record.levelno, 6)}>"
        return "\n".join(prefix + line for line in text.splitlines())


def setup_logging(verbose: int) -> None:
    """Log to stderr; journald-friendly when systemd connected stderr to the journal."""
    level = logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("assistant").setLevel(level)
    if verbose > 1:
        root.setLevel(logging.DEBUG)
