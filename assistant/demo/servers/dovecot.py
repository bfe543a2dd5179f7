"""A throwaway Dovecot IMAP server on loopback, for the demo and the tests.

Runs unprivileged: everything lives in one temp dir. As root, the mail processes run
under a non-root uid (Dovecot refuses root as mail uid) and the internal services under
the users the Debian package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = "dovecot"

_CONF = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
{internal_users}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{base}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
mail_plugins =
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
{extra_mailboxes}
}}
"""


# From dovecot-imapd (dovecot-core alone has no IMAP): Debian's and Fedora's places.
IMAP_BINARIES = (Path("/usr/lib/dovecot/imap"), Path("/usr/libexec/dovecot/imap"))


def dovecot_available() -> bool:
    """True when Dovecot can serve IMAP here: its master and its IMAP server are installed."""
    master = shutil.which(DOVECOT) is not None or Path("/usr/sbin/dovecot").exists()
    return master and any(p.exists() for p in IMAP_BINARIES)


def _binary() -> str:
    return shutil.which(DOVECOT) or "/usr/sbin/dovecot"


def stop_process(proc: subprocess.Popen[bytes], base: Path) -> None:
    """Terminate a server process (kill it after 10 s) and remove its directory."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(base, ignore_errors=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DovecotServer:
    """A running Dovecot; `stop()` ends it and removes its directory."""

    base: Path
    host: str
    port: int
    username: str
    password: str
    _conf: Path
    tls_port: int = 0  # implicit TLS (imaps), when started with a certificate

    def stop(self) -> None:
        """Stop the server and remove its files."""
        subprocess.run(
            [_doveadm(), "-c", str(self._conf), "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        pidfile = self.base / "run" / "master.pid"
        for _ in range(50):
            if not pidfile.exists():
                break
            time.sleep(0.1)
        shutil.rmtree(self.base, ignore_errors=True)

    def kill_imap_processes(self) -> int:
        """Kill this server's per-connection `imap` processes: drops every client connection."""
        try:
            master = int((self.base / "run" / "master.pid").read_text().split()[0])
        except (OSError, ValueError):
            return 0
        killed = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            # "pid (comm) state ppid ...": the comm may hold spaces, so split after ")".
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            if ppid == master and comm == "imap":
                try:
                    os.kill(int(proc.name), 9)
                    killed += 1
                except ProcessLookupError:
                    pass
        return killed


def _doveadm() -> str:
    return shutil.which("doveadm") or "/usr/bin/doveadm"


def _mail_ids() -> tuple[int, int, str]:
    """The uid/gid for mail and the internal-user settings for this process."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        users = (
            f"default_internal_user = {me.pw_name}\n"
            f"default_internal_group = {_group_name(me.pw_gid)}\n"
            f"default_login_user = {me.pw_name}"
        )
        return me.pw_uid, me.pw_gid, users
    nobody = pwd.getpwnam("nobody")
    users = "default_internal_user = dovecot\ndefault_internal_group = dovecot\ndefault_login_user = dovenull"
    return nobody.pw_uid, nobody.pw_gid, users


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


def start_dovecot(
    *,
    username: str = "resident@example.edu",
    password: str = "secret",
    extra_mailboxes: tuple[str, ...] = (),
    special_use: bool = True,
    tls: tuple[bytes, bytes] | None = None,
    capabilities: str | None = None,
) -> DovecotServer:
    """Start Dovecot on a free loopback port and wait until it accepts connections.

    With `tls` (certificate chain and key, PEM), the plain port offers STARTTLS and a
    second port speaks implicit TLS. `capabilities` replaces what it announces after
    login (`imap_capability`), to play a server that lacks an extension.
    """
    base = Path(tempfile.mkdtemp(prefix="ma-dovecot-"))
    # The mail uid must be able to enter every directory above its home.
    for parent in [base, *base.parents]:
        if parent == Path("/"):
            break
        try:
            mode = parent.stat().st_mode
            if parent == base or not mode & 0o001:
                parent.chmod(mode | 0o711)
        except PermissionError:
            pass
    uid, gid, users = _mail_ids()
    (base / "mail").mkdir()
    (base / "run").mkdir()
    (base / "state").mkdir()
    if os.geteuid() == 0:
        os.chown(base / "mail", uid, gid)
    port = free_port()
    tls_port, ssl = 0, "ssl = no"
    if tls is not None:
        tls_port = free_port()
        (base / "cert.pem").write_bytes(tls[0])
        (base / "key.pem").write_bytes(tls[1])
        for name in ("cert.pem", "key.pem"):
            (base / name).chmod(0o644)
        ssl = f"ssl = yes\nssl_cert = <{base}/cert.pem\nssl_key = <{base}/key.pem"
    mailboxes = "\n".join(f"  mailbox {name} {{\n    auto = subscribe\n  }}" for name in extra_mailboxes)
    conf_text = _CONF.format(
        base=base,
        internal_users=users,
        uid=uid,
        gid=gid,
        password=password,
        port=port,
        extra_mailboxes=mailboxes,
        tls_port=tls_port,
        ssl=ssl,
    )
    if not special_use:
        for line in ("special_use = \\Drafts", "special_use = \\Sent", "special_use = \\Trash", "special_use = \\Junk"):
            conf_text = conf_text.replace(line, "")
    if capabilities is not None:
        conf_text += f"imap_capability = {capabilities}\n"
    conf = base / "dovecot.conf"
    conf.write_text(conf_text)
    # Dovecot daemonizes and keeps our stdout/stderr open: never hand it a pipe.
    proc = subprocess.run(
        [_binary(), "-c", str(conf)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    server = DovecotServer(base, "127.0.0.1", port, username, password, conf, tls_port)
    if proc.returncode != 0:
        log = _read(base / "dovecot.log")
        server.stop()
        raise RuntimeError(f"dovecot failed to start (exit {proc.returncode}): {log}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return server
        except OSError:
            time.sleep(0.05)
    log = _read(base / "dovecot.log")
    server.stop()
    raise RuntimeError(f"dovecot did not come up on port {port}: {log}")


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"
