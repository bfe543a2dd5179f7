"""`init`: a first config for every provider, valid as written; the online path against
Dovecot and Radicale; never over an existing file."""

from __future__ import annotations

import tomllib

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.config.providers import PRESETS
from tests.conftest import MailUser


def run(config, *args, input_text=None):
    result = CliRunner().invoke(main, ["--config", str(config), *args], input=input_text)
    return result.exit_code, result.output


BASE = ["--name", "Alex Rivera", "--email", "alex.rivera@example.edu", "--role", "first-year resident",
        "--timezone", "America/Denver", "--non-interactive", "--offline"]  # fmt: skip


@pytest.mark.parametrize("provider", sorted(PRESETS))
def test_every_preset_writes_a_config_that_check_config_accepts(tmp_path, provider):
    config = tmp_path / "config.toml"
    extra = ["--imap-host", "imap.hospital.org"] if provider == "other" else []
    code, out = run(config, "init", "--provider", provider, *BASE, "--password-command", "pass show mail", *extra)
    assert code == 0, out
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    code, out = run(config, "check-config", "--offline")
    assert code == 0, out
    data = tomllib.loads(config.read_text())
    preset = PRESETS[provider]
    if provider != "other":
        assert data["mail"]["host"] == preset.imap[0] and data["mail"]["port"] == preset.imap[1]
    if preset.auth == "xoauth2":
        assert data["mail"]["auth"] == "xoauth2" and data["mail"]["token_command"] == ["pass", "show", "mail"]
    if preset.caldav:
        assert data["calendar"]["url"] == preset.caldav
    else:
        assert "calendar" not in data
    if preset.local_part_login:
        assert data["mail"]["username"] == "alex.rivera"
    text = config.read_text()
    assert "# mentor-assistant configuration, read from" in text  # the packaged, commented example
    assert "Dr. Jane Smith" not in text and "\nmentor = " not in text  # the example's people are not yours


def test_microsoft_365_says_it_has_no_caldav(tmp_path):
    code, out = run(tmp_path / "c.toml", "init", "--provider", "microsoft365", *BASE)
    assert code == 0, out
    assert "no CalDAV" in out and "no CalDAV" in (tmp_path / "c.toml").read_text()


def test_init_never_overwrites_without_force(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("# mine\n")
    code, out = run(config, "init", "--provider", "fastmail", *BASE)
    assert code == 64 and "--force" in out
    assert config.read_text() == "# mine\n"
    code, out = run(config, "init", "--provider", "fastmail", *BASE, "--force")
    assert code == 0, out


def test_missing_answers_in_non_interactive_mode_are_usage_errors(tmp_path):
    code, out = run(tmp_path / "c.toml", "init", "--provider", "gmail", "--non-interactive", "--offline")
    assert code == 64 and "--name" in out


@pytest.mark.integration
def test_interactive_init_logs_in_and_lets_you_pick_the_calendar(dovecot, radicale, tmp_path):
    user = MailUser(dovecot, "init-user@example.edu")
    import caldav

    client = caldav.DAVClient(url=radicale.url, username="init-user@example.edu", password="x")
    client.principal().make_calendar(name="Residency")
    config = tmp_path / "config.toml"
    answers = "\n".join([
        "other", "Alex Rivera", user.username, "resident", "America/Denver", f"127.0.0.1:{dovecot.port}",
        f"echo {dovecot.password}", "Residency",
    ]) + "\n"  # fmt: skip
    code, out = run(config, "init", "--security", "plain", "--calendar-url", radicale.url, input_text=answers)
    assert code == 0, out
    assert "IMAP: logged in" in out and "'Residency'" in out
    data = tomllib.loads(config.read_text())
    assert data["calendar"]["calendar"] == "Residency"
    code, out = run(config, "check-config")
    assert code == 0, out


def test_two_ways_to_the_password_are_a_mistake_not_a_silent_choice(tmp_path):
    args = ("--name", "Alex Rivera", "--email", "alex@example.org", "--timezone", "America/Denver",
            "--non-interactive", "--offline")  # fmt: skip
    code, out = run(tmp_path / "a.toml", "init", "--provider", "fastmail", *args, "--keyring",
                    "--password-command", "pass show mail")  # fmt: skip
    assert code == 64 and "two ways to the password" in out and not (tmp_path / "a.toml").exists()
    code, out = run(tmp_path / "b.toml", "init", "--provider", "gmail", *args, "--keyring")
    assert code == 64 and "OAuth2 token" in out and not (tmp_path / "b.toml").exists()


def test_the_next_command_it_prints_works_as_typed(tmp_path, monkeypatch):
    monkeypatch.delenv("MENTOR_ASSISTANT_CONFIG", raising=False)
    config = tmp_path / "my config.toml"
    code, out = run(config, "init", "--provider", "fastmail", *BASE, "--password-command", "pass show mail")
    assert code == 0, out
    assert f"`mentor-assistant --config '{config}' check-config`" in out


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--provider", "other", "--imap-host", "mail.b.org:notaport"], "is not HOST or HOST:PORT"),
        (["--provider", "other", "--imap-host", "mail.b.org", "--security", "plain"], "unencrypted to mail.b.org"),
    ],
)
def test_server_flags_that_cannot_work_are_refused_before_anything_is_written(tmp_path, flags, says):
    config = tmp_path / "c.toml"
    code, out = run(config, "init", *flags, *BASE, "--password-command", "pass show mail")
    assert code == 64 and says in out and not config.exists()


def test_a_pasted_address_with_spaces_becomes_the_login_name_without_them(tmp_path):
    config = tmp_path / "config.toml"
    args = [a if a != "alex.rivera@example.edu" else "  alex.rivera@example.edu " for a in BASE]
    code, out = run(config, "init", "--provider", "fastmail", *args, "--password-command", " pass show mail ")
    assert code == 0, out
    data = tomllib.loads(config.read_text())
    assert data["me"]["email"] == data["mail"]["username"] == data["calendar"]["username"] == "alex.rivera@example.edu"
    assert data["mail"]["password_command"] == ["pass", "show", "mail"]


@pytest.mark.integration
@pytest.mark.parametrize("command", ["cat ~/.mailpass", "cat $HOME/.mailpass", "cat ~/.mailpass | head -1"])
def test_a_password_command_typed_as_at_a_shell_works_as_typed(dovecot, tmp_path, command, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".mailpass").write_text(dovecot.password + "\n")
    user = MailUser(dovecot, "init-shell@example.edu")
    config = tmp_path / "config.toml"
    code, out = run(config, "init", "--provider", "other", "--imap-host", f"127.0.0.1:{dovecot.port}",
                    "--security", "plain", "--name", "Alex Rivera", "--timezone", "America/Denver",
                    "--non-interactive", "--email", user.username, "--password-command", command)  # fmt: skip
    assert code == 0 and "IMAP: logged in" in out, out
    assert tomllib.loads(config.read_text())["mail"]["password_command"] == ["sh", "-c", command]


def test_an_unclosed_quote_in_the_password_command_writes_nothing(tmp_path):
    config = tmp_path / "config.toml"
    code, out = run(config, "init", "--provider", "fastmail", *BASE, "--password-command", "pass show 'mail")
    assert code == 64 and "quot" in out and not config.exists(), out


@pytest.mark.parametrize(("said", "means"), [("Gmail", "gmail"), (" google ", "gmail"), ("Outlook", "microsoft365"),
                                           ("Office 365", "microsoft365"), ("iCloud", "icloud")])  # fmt: skip
def test_providers_by_the_names_people_use(tmp_path, said, means):
    config = tmp_path / "config.toml"
    code, out = run(config, "init", "--provider", said, *BASE, "--password-command", "oama access x")
    assert code == 0, out
    assert tomllib.loads(config.read_text())["mail"]["host"] == PRESETS[means].imap[0]


def test_a_provider_nobody_has_is_refused(tmp_path):
    config = tmp_path / "config.toml"
    code, out = run(config, "init", "--provider", "aol", *BASE)
    assert code == 64 and "no provider 'aol'" in out and not config.exists(), out


def test_interactive_init_asks_again_after_a_wrong_answer(tmp_path):
    config = tmp_path / "config.toml"
    answers = ["Gmial", "gmail", "Alex Rivera", "alex@example", "alex@example.edu", "resident", "Mountain",
               "America/Denver", "oama access alex@example.edu"]  # fmt: skip
    code, out = run(config, "init", "--offline", input_text="\n".join(answers) + "\n")
    assert code == 0, out
    assert "no provider 'Gmial'" in out and "'Mountain' is not a time zone" in out
    data = tomllib.loads(config.read_text())
    assert data["mail"]["host"] == "imap.gmail.com" and data["me"]["timezone"] == "America/Denver"
    assert data["me"]["email"] == "alex@example.edu"
