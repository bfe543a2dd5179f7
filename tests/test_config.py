"""The config file: found where DESIGN says, every problem reported at once with its key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.adapters.secrets import resolve
from assistant.cli import main
from assistant.config import Secret, find_config, load_config, parse_config
from assistant.config.keys import TABLES
from assistant.config.validate import validate_config
from assistant.errors import EX_CONFIG, ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def minimal(**tables):
    data = {
        "me": {"name": "Alex", "email": "alex@example.edu", "timezone": "America/Denver"},
        "mail": {"host": "imap.example.edu", "username": "alex", "password": "x"},
    }
    for key, value in tables.items():
        data[key] = value
    return data


def problems(data) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    return info.value.problems


# The keys of the config file that the product's design names (the contract with users).
DESIGN_KEYS = (
    "me.name",
    "me.email",
    "me.role",
    "me.aliases",
    "me.timezone",
    "mail.host",
    "mail.port",
    "mail.security",
    "mail.username",
    "mail.password",
    "mail.password_command",
    "mail.keyring",
    "mail.auth",
    "mail.token_command",
    "mail.ca_file",
    "mail.sent_folder",
    "mail.drafts_folder",
    "mail.trash_folder",
    "mail.watch",
    "mail.idle",
    "mail.poll_interval",
    "smtp.host",
    "smtp.port",
    "smtp.security",
    "smtp.username",
    "smtp.password_command",
    "smtp.digest",
    "calendar.url",
    "calendar.calendar",
    "calendar.username",
    "calendar.password_command",
    "state.path",
    "followup.wait",
    "followup.rounds",
    "followup.closing_note",
    "followup.business_days",
    "tracking.bcc",
    "tracking.keyword",
    "tracking.since",
    "padding.factor",
    "padding.round_to",
    "padding.workdays_only",
    "mentors.name",
    "mentors.email",
    "mentors.area",
    "mentors.project",
    "mentors.source",
    "mentors.recommended_by",
    "mentors.publications",
    "contract.mentor",
    "contract.start",
    "contract.every",
    "contract.weekday",
    "contract.time",
    "contract.duration",
    "contract.location",
    "contract.review",
    "contract.my_goals",
    "contract.my_expectations",
    "contract.mentor_expectations",
    "contract.mentor_goals",
    "contract.outcome",
    "contract.version",
    "contract.ended",
    "contracts.mentor",
    "contracts.review",
    "goals.id",
    "goals.title",
    "goals.measure",
    "goals.relevant",
    "goals.owner",
    "goals.start",
    "goals.estimate",
    "goals.promised",
)


def test_the_example_is_valid_and_has_every_design_key():
    config = load_config(EXAMPLE)
    assert config.mail.host == "imap.example.edu"
    assert config.settings.padding.factor == 1.5
    (contract,) = config.settings.contracts
    assert contract.weekday == "tuesday"
    text = EXAMPLE.read_text()
    for dotted in DESIGN_KEYS:
        table, key = dotted.split(".")
        assert key in TABLES[table], f"the key table lacks {dotted}"
        assert f"{key} =" in text, f"config.example.toml lacks the DESIGN key {dotted!r}"


def test_every_problem_is_reported_at_once_with_its_key():
    data = minimal(
        followup={"wait": "two weeks", "rounds": 9},
        padding={"factor": "1.5", "round_to": "month"},
        tracking={"since": "yesterday", "bcc": "not-an-address"},
        goals=[{"id": "g1", "title": "x", "estimate": "2w"}],
    )
    data["mail"]["security"] = "plain"
    data["mail"]["prot"] = 993
    found = problems(data)
    keys = [p.split(":")[0] for p in found]
    for key in (
        "followup.wait", "followup.rounds", "padding.factor", "padding.round_to", "tracking.since",
        "tracking.bcc", "goals[0].start", "mail.security", "mail.prot",
    ):  # fmt: skip
        assert key in keys, (key, found)
    assert any("did you mean 'port'" in p for p in found)


def test_a_password_source_is_required_and_only_one():
    data = minimal()
    del data["mail"]["password"]
    assert any(p.startswith("mail.password:") for p in problems(data))
    data["mail"]["password"] = "x"
    data["mail"]["password_command"] = ["pass", "show", "x"]
    assert any("only one" in p for p in problems(data))


def test_contract_mentor_must_be_configured_and_review_after_start():
    data = minimal(
        mentors=[{"name": "Dr. A", "email": "a@h.org"}],
        contract={"mentor": "b@h.org", "start": "2027-01-05", "review": "2027-01-01", "every": "10d"},
    )
    found = problems(data)
    assert any(p.startswith("contract.mentor:") for p in found)
    assert any(p.startswith("contract.review:") for p in found)
    assert any(p.startswith("contract.every:") for p in found)


def test_config_location(monkeypatch, tmp_path):
    monkeypatch.setenv("MENTOR_ASSISTANT_CONFIG", str(tmp_path / "env.toml"))
    assert find_config(None) == tmp_path / "env.toml"
    assert find_config(str(tmp_path / "flag.toml")) == tmp_path / "flag.toml"
    monkeypatch.delenv("MENTOR_ASSISTANT_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert find_config(None) == tmp_path / "xdg" / "mentor-assistant" / "config.toml"


def test_check_config_offline_exits_78_and_names_the_keys(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text('[me]\nname = "A"\nemail = "nope"\n[mail]\nhost = "h"\nusername = "u"\n')
    result = CliRunner().invoke(main, ["--config", str(bad), "check-config", "--offline"])
    assert result.exit_code == EX_CONFIG
    assert "me.email" in result.output and "mail.password" in result.output
    assert str(bad) in result.output


def test_broken_toml_names_the_file(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[me\n")
    result = CliRunner().invoke(main, ["--config", str(bad), "check-config", "--offline"])
    assert result.exit_code == EX_CONFIG
    assert "not valid TOML" in result.output


def test_missing_file_exits_78(tmp_path):
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "none.toml"), "status"])
    assert result.exit_code == EX_CONFIG
    assert "no such file" in result.output


def test_example_parses_as_toml_without_the_loader():
    tomllib.loads(EXAMPLE.read_text())


def test_password_command_must_print_exactly_one_line():
    ok = Secret(password_command=("printf", "s3cret-value\\n"), key="mail")
    assert resolve(ok, username="u", host="h") == "s3cret-value"
    two = Secret(password_command=("printf", "a\\nb\\n"), key="mail")
    with pytest.raises(ConfigError, match=r"exactly one non-empty line"):
        resolve(two, username="u", host="h")
    failing = Secret(password_command=("false",), key="mail")
    with pytest.raises(ConfigError, match=r"mail\.password_command"):
        resolve(failing, username="u", host="h")
    missing = Secret(password_command=("no-such-command-xyz",), key="mail")
    with pytest.raises(ConfigError, match="not found"):
        resolve(missing, username="u", host="h")


def test_keys_with_brackets_survive_the_error_printer(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text(
        '[me]\nname = "A"\nemail = "a@b.org"\n[mail]\nhost = "h"\nusername = "u"\npassword = "p"\n'
        '[[mentors]]\nname = "X"\nemail = "broken"\n'
    )
    result = CliRunner().invoke(main, ["--config", str(bad), "check-config", "--offline"])
    assert result.exit_code == EX_CONFIG
    assert "mentors[0].email" in result.output


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("jane.smith@university.edu\u200b", "invisible character (U+200B"),
        ("jane.smith\u00a0@university.edu", "invisible character (U+00A0"),
        ("jürgen@klinik.de", "non-ASCII"),
        ("jane smith@university.edu", "is not an e-mail address"),
    ],
)
def test_an_address_that_could_never_match_is_refused_with_the_reason(tmp_path, address, says):
    import tomlkit

    document = tomlkit.parse(EXAMPLE.read_text())
    document["mentors"][0]["email"] = [address]  # type: ignore[index]
    with pytest.raises(ConfigError) as caught:
        validate_config(tomllib.loads(tomlkit.dumps(document)))
    assert any(p.startswith("mentors[0].email:") and says in p for p in caught.value.problems), caught.value.problems
