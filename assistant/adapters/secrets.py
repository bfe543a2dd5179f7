"""Passwords and tokens: from the config, a command, or the system keyring.

Every secret obtained is registered with `redact`, so the log filter in `cli.py` can
replace it wherever it might appear.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

from assistant.config import Secret
from assistant.errors import ConfigError

log = logging.getLogger(__name__)

KEYRING_SERVICE = "mentor-assistant"
_KNOWN: set[str] = set()


def register(secret: str) -> None:
    """Remember a secret so log lines never show it."""
    if secret and len(secret) >= 3:
        _KNOWN.add(secret)


def redact(text: str) -> str:
    """`text` with every known secret replaced by ***."""
    for secret in sorted(_KNOWN, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _run(argv: tuple[str, ...], key: str) -> str:
    try:
        done = subprocess.run(list(argv), capture_output=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ConfigError([f"{key}: the command {argv[0]!r} was not found"]) from None
    except subprocess.TimeoutExpired:
        raise ConfigError([f"{key}: the command {argv[0]!r} did not finish within 60 seconds"]) from None
    if done.returncode != 0:
        raise ConfigError([f"{key}: the command {argv[0]!r} failed with exit status {done.returncode}"])
    lines = [line for line in done.stdout.decode("utf-8", "replace").splitlines() if line.strip()]
    if len(lines) != 1:
        raise ConfigError([f"{key}: the command must print exactly one non-empty line, it printed {len(lines)}"])
    return lines[0].strip()


def warn_if_readable(path: Path, secrets_in_file: bool) -> None:
    """Warn when a config file that holds a password can be read by other users."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if secrets_in_file and mode & 0o077:
        log.warning(
            "%s holds a password and can be read by other users (mode %o): run `chmod 600 %s`, "
            "or use password_command or the keyring.",
            path,
            mode & 0o777,
            path,
        )


def resolve(secret: Secret, *, username: str, host: str) -> str:
    """The password (or OAuth2 token) described by `secret`."""
    if secret.auth == "xoauth2":
        value = _run(secret.token_command, f"{secret.key}.token_command")
    elif secret.password is not None:
        value = secret.password
    elif secret.password_command:
        value = _run(secret.password_command, f"{secret.key}.password_command")
    elif secret.password_env:
        found_env = os.environ.get(secret.password_env, "")
        if not found_env:
            raise ConfigError([f"{secret.key}.password_env: the environment variable {secret.password_env} is not set"])
        value = found_env
    elif secret.keyring:
        import keyring

        try:
            found = keyring.get_password(KEYRING_SERVICE, f"{username}@{host}")
        except keyring.errors.KeyringError as exc:
            raise ConfigError([f"{secret.key}.keyring: the keyring is not usable ({exc})"]) from None
        if not found:
            raise ConfigError(
                [f"{secret.key}.keyring: no password stored; run `keyring set {KEYRING_SERVICE} {username}@{host}`"]
            )
        value = found
    else:
        raise ConfigError([f"{secret.key}.password: no password configured"])
    register(value)
    return value
