"""Every error the assistant reports, with its exit code and the advice a resident needs.

    AssistantError                 exit 1   something unexpected
    ├── UsageError                 exit 64  a command-line mistake (an unknown goal id, a bad date)
    ├── ConfigError                exit 78  the config file is wrong (systemd must not restart)
    │   └── StateFileError         exit 78  the state file's place cannot be used
    ├── UnavailableError           exit 69  a server is unreachable
    │   └── AuthenticationError    exit 69  a server refused the login
    ├── TempFailError              exit 75  try again later (timeouts, a busy state file)
    └── MessageError               exit 1   one malformed e-mail (logged and skipped, never fatal)

Adapters map their library's exceptions into this tree; `cli.py` turns an error into
its message, its advice (`advice()`) and its exit code. Advice lives only here.
"""

from __future__ import annotations

from pathlib import Path

EX_OK = 0
EX_SOFTWARE = 1
EX_USAGE = 64
EX_UNAVAILABLE = 69
EX_TEMPFAIL = 75
EX_CONFIG = 78


class AssistantError(Exception):
    """Base of every error the assistant raises on purpose."""

    exit_code = EX_SOFTWARE

    def advice(self) -> str:
        """One or two sentences telling the resident what to do about it."""
        return "This is a bug in mentor-assistant; please report it with the log (run with -v)."


class ConfigError(AssistantError):
    """The configuration is invalid. `problems` lists each one as `key: what is wrong`."""

    exit_code = EX_CONFIG

    def __init__(self, problems: list[str], *, source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        where = f" in {source}" if source else ""
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s){where}:\n{lines}")

    def advice(self) -> str:
        if self.problems and all(": no such file" in p for p in self.problems):
            return "`mentor-assistant init` writes a first config; --config PATH reads another."
        return (
            "Fix the keys named above in the config file, then run "
            "`mentor-assistant check-config`. The comments in the config `init` wrote explain every key "
            "(docs/guide.md too)."
        )


# What an SSL error's reason says when the other side does not speak TLS at all.
_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST", "RECORD_LAYER_FAILURE",
                      "PACKET_LENGTH_TOO_LONG", "UNEXPECTED_RECORD"})  # fmt: skip


def tls_failure(
    reason: str, *, server: str, key: str, port: int, tls_port: int, starttls_port: int
) -> UnavailableError:
    """The right words for a failed TLS handshake: a plaintext port, or a certificate."""
    if reason in _NOT_TLS:
        return UnavailableError(
            f"port {port} of {server} does not speak TLS",
            server=server,
            hint=f'Port {port} does not speak TLS: use {key}.security = "starttls" (usually port {starttls_port}) '
            f"or {key}.port = {tls_port}.",
        )
    return UnavailableError(
        f"TLS with {server} failed: {reason}",
        server=server,
        hint="The server's certificate was not accepted. If your institution uses its own certificate "
        f"authority, set {key}.ca_file to its certificate; certificate checks are never turned off.",
    )


class UsageError(AssistantError):
    """A command-line mistake; `fix` says what to type instead."""

    exit_code = EX_USAGE

    def __init__(self, message: str, *, fix: str = "") -> None:
        self.fix = fix
        super().__init__(message)

    def advice(self) -> str:
        return self.fix or "See `mentor-assistant COMMAND --help` for what the command takes."


class StateFileError(ConfigError):
    """The state file (or its directory) is a directory, unwritable, or otherwise unusable."""

    def __init__(self, message: str, *, path: Path) -> None:
        self.path = path
        super().__init__([message])

    def advice(self) -> str:
        return (
            f"mentor-assistant keeps what it has seen and done in {self.path}. Make that a file you can "
            "write (check the directory's owner and permissions), or set [state] path in the config file "
            "to another place."
        )


class UnavailableError(AssistantError):
    """A server could not be reached (DNS, refused connection, TLS failure)."""

    exit_code = EX_UNAVAILABLE

    def __init__(self, message: str, *, server: str = "", hint: str = "") -> None:
        self.server = server
        self.hint = hint
        super().__init__(message)

    def advice(self) -> str:
        if self.hint:
            return self.hint
        return (
            f"Check the host and port of {self.server or 'the server'} and your network; "
            "mentor-assistant will retry on its own when run as a service."
        )


class AuthenticationError(UnavailableError):
    """A server refused the login. `source` is the config key the password came from."""

    def __init__(self, message: str, *, server: str = "", source: str = "") -> None:
        self.source = source
        super().__init__(message, server=server)

    def advice(self) -> str:
        where = self.source or "the password setting"
        key = where.rsplit(".", 1)[-1]
        how = {
            "password": f"Check the username, and the password written in {where}.",
            "password_command": f"Check the username, and that {where} prints the current password (run it).",
            "password_env": f"Check the username, and the environment variable named by {where}.",
            "keyring": "Check the username, and the password stored in the keyring "
            "(`keyring set mentor-assistant USER@HOST`).",
            "token_command": f"Check the username, and that {where} prints a fresh OAuth2 access token (run it).",
        }.get(key, f"Check the username and {where}.")
        return f"The login to {self.server or 'the server'} was refused. {how}"


class TempFailError(AssistantError):
    """A temporary failure: a timeout, a dropped connection, a busy state file."""

    exit_code = EX_TEMPFAIL

    def advice(self) -> str:
        return "This is usually temporary; the next cycle retries it."


class StateLockedError(TempFailError):
    """Another process holds the state file's lock."""

    def advice(self) -> str:
        return (
            "Another mentor-assistant (probably the service) is writing the state file. "
            "Wait a moment, or stop it with `systemctl --user stop mentor-assistant`."
        )


class MessageError(AssistantError):
    """One malformed e-mail; it is logged and skipped, never fatal."""
