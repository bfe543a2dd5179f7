"""TLS with real certificates (trustme) against Dovecot, XOAUTH2, and secrets kept out of logs."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
import trustme
from click.testing import CliRunner

from assistant.cli import main
from assistant.demo.servers.dovecot import start_dovecot
from tests.conftest import MailUser, write_config
from tests.test_end_to_end import NOW, seed

pytestmark = pytest.mark.integration
TOKEN = "ya29.token-Zq8vNw3x"  # what an OAuth2 helper would print


def run(config: Path, *args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(
        main, ["--config", str(config), *args], env={"MENTOR_ASSISTANT_NOW": NOW.isoformat(), **(env or {})}
    )
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_dovecot(ca):
    cert = ca.issue_cert("127.0.0.1", "localhost")
    chain = b"".join(p.bytes() for p in cert.cert_chain_pems)
    server = start_dovecot(password="tls-pw", tls=(chain, cert.private_key_pem.bytes()))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def wrong_host_dovecot(ca):
    cert = ca.issue_cert("mail.elsewhere.example")
    chain = b"".join(p.bytes() for p in cert.cert_chain_pems)
    server = start_dovecot(password="tls-pw", tls=(chain, cert.private_key_pem.bytes()))
    yield server
    server.stop()


def tls_config(tmp_path: Path, server, *, security: str, port: int, ca_file: Path | None) -> Path:
    user = MailUser(server, "tls@example.edu")
    config = write_config(tmp_path / "config.toml", user=user, calendar=None)
    text = config.read_text().replace('security = "plain"', f'security = "{security}"')
    text = text.replace(f"port = {server.port}", f"port = {port}")
    if ca_file is not None:
        text = text.replace("idle = false", f'idle = false\nca_file = "{ca_file}"')
    config.write_text(text)
    return config


def test_tls_accepts_the_ca_file_and_refuses_a_self_signed_certificate(tls_dovecot, ca, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    for security, port in (("tls", tls_dovecot.tls_port), ("starttls", tls_dovecot.port)):
        good = tls_config(tmp_path, tls_dovecot, security=security, port=port, ca_file=ca_file)
        code, out = run(good, "check-config")
        assert code == 0, out
        assert "Drafts: Drafts" in out
        refused = tls_config(tmp_path, tls_dovecot, security=security, port=port, ca_file=None)
        code, out = run(refused, "check-config")
        assert code == 69, out
        assert "certificate" in out and "ca_file" in out


def test_a_certificate_for_another_host_is_refused(wrong_host_dovecot, ca, tmp_path):
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    config = tls_config(tmp_path, wrong_host_dovecot, security="tls", port=wrong_host_dovecot.tls_port, ca_file=ca_file)
    code, out = run(config, "check-config")
    assert code == 69, out
    assert "certificate" in out.lower()


def test_starttls_not_offered_is_an_error(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    config.write_text(config.read_text().replace('security = "plain"', 'security = "starttls"'))
    code, out = run(config, "check-config")
    assert code == 69, out
    assert "does not offer STARTTLS" in out


def test_plain_is_refused_for_a_remote_host(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        textwrap.dedent("""
        [me]
        name = "A"
        email = "a@example.edu"
        [mail]
        host = "imap.example.edu"
        security = "plain"
        username = "a"
        password_env = "X"
    """)
    )
    code, out = run(config, "check-config", "--offline")
    assert code == 78 and "mail.security" in out


def test_xoauth2_with_a_token_command_and_no_token_in_a_debug_log(tmp_path):
    server = start_dovecot(password=TOKEN)  # Dovecot checks the bearer token like a password here
    try:
        user = MailUser(server, "oauth@example.edu")
        seed(user)
        config = write_config(tmp_path / "config.toml", user=user, calendar=None)
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN + "\n")
        text = config.read_text().replace(
            f'password = "{TOKEN}"', f'auth = "xoauth2"\ntoken_command = ["cat", "{token_file}"]'
        )
        config.write_text(text)
        assert TOKEN not in text
        code, out = run(config, "-vv", "once")
        assert code == 0, out
        assert "DEBUG" in out and "write draft" in out
        assert TOKEN not in out
    finally:
        server.stop()


def test_password_from_the_environment_and_a_warning_for_a_readable_config(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    os.chmod(config, 0o644)
    code, out = run(config, "check-config")
    assert code == 0, out
    assert "can be read by other users" in out and "chmod 600" in out
    text = config.read_text().replace(f'password = "{mail_user.server.password}"', 'password_env = "MA_TEST_PW"')
    config.write_text(text)
    code, out = run(config, "check-config", env={"MA_TEST_PW": mail_user.server.password})
    assert code == 0, out
    assert "can be read by other users" not in out
    code, out = run(config, "check-config")
    assert code == 78 and "mail.password_env" in out and "MA_TEST_PW is not set" in out
