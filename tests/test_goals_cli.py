"""`goal add/list/done/edit`: the config file edited in place, comments kept; SMART lint."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from assistant.cli import main
from assistant.config import load_config, parse_config
from assistant.core.goals import lint_goal
from tests.test_end_to_end import NOW

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def run(config: Path, *args: str):
    result = CliRunner().invoke(main, ["--config", str(config), *args], env={"MENTOR_ASSISTANT_NOW": NOW.isoformat()})
    return result.exit_code, result.output


def test_add_edit_done_keep_every_comment(tmp_path):
    config = tmp_path / "config.toml"
    original = EXAMPLE.read_text().replace('# path = "~/.local/state', f'path = "{tmp_path}/state.json" # path = "~')
    config.write_text(original)
    config.chmod(0o600)
    code, out = run(config, "goal", "add", "abstract", "--title", "Submit the QI abstract", "--measure",
                    "submitted to the regional meeting", "--relevant", "career", "--estimate", "10d")  # fmt: skip
    assert code == 0, out
    assert "abstract: aim for 2026-12-04 (your target), promise 2026-12-15." in out
    text = config.read_text()
    for line in original.splitlines():
        assert line in text, f"lost: {line!r}"
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    code, out = run(config, "goal", "edit", "abstract", "--estimate", "3w", "--promised", "2027-01-08")
    assert code == 0, out
    assert "promise 2027-01-08" in out
    code, out = run(config, "goal", "done", "abstract", "--on", "2026-12-20")
    assert code == 0, out
    goal = next(g for g in load_config(config).settings.goals if g.id == "abstract")
    assert str(goal.done) == "2026-12-20" and str(goal.promised) == "2027-01-08"
    assert "# mentor-assistant configuration, read from ~/.config/mentor-assistant/config.toml" in config.read_text()
    code, out = run(config, "goal", "list")
    assert code == 0 and "abstract" in out and "done" in out
    assert max(len(line) for line in out.splitlines()) <= 80 and "2027-01-08" in out  # dates never split


def test_an_edit_that_would_break_the_config_changes_nothing(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text())
    before = config.read_text()
    code, out = run(config, "goal", "add", "qi-proposal", "--title", "Dup", "--estimate", "1w")
    assert code == 64 and "already exists" in out and "goal edit qi-proposal" in out
    code, out = run(config, "goal", "edit", "nope", "--title", "x")
    assert code == 64 and "no goal with id 'nope'" in out and "goal list" in out
    code, out = run(config, "goal", "add", "bad id!", "--title", "x y", "--estimate", "1w")
    assert code == 78 and "goals[1].id" in out
    code, out = run(config, "goal", "add", "x", "--title", "x y", "--estimate", "soon")
    assert code != 0 and "30m, 4h, 14d or 2w" in out
    assert config.read_text() == before


def test_smart_lint_names_what_is_missing(tmp_path):
    base = {
        "me": {"name": "A", "email": "a@example.edu"},
        "mail": {"host": "127.0.0.1", "security": "plain", "username": "u", "password": "p"},
    }
    good = {"id": "g", "title": "Draft the proposal", "measure": "3 pages", "relevant": "QI", "start": "2027-01-05",
            "estimate": "2w"}  # fmt: skip
    config = parse_config({**base, "goals": [good]}).settings
    assert lint_goal(config.goals[0], config) == []
    bad = {"id": "b", "title": "Research", "start": "2027-01-05", "estimate": "0d", "promised": "2027-01-05"}
    config = parse_config({**base, "goals": [bad]}).settings
    keys = [p.split(":")[0] for p in lint_goal(config.goals[0], config)]
    assert keys == ["title", "measure", "estimate", "relevant"]
    early = {**good, "promised": "2027-01-19"}  # the target itself: not a workday after it
    config = parse_config({**base, "goals": [early]}).settings
    assert [p.split(":")[0] for p in lint_goal(config.goals[0], config)] == ["promised"]
    none = {**good, "estimate": None}
    del none["estimate"]
    config = parse_config({**base, "goals": [none]}).settings
    assert [p.split(":")[0] for p in lint_goal(config.goals[0], config)] == ["estimate"]


def test_check_config_reports_goals_that_are_not_smart(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(EXAMPLE.read_text().replace('measure = "a 3-5 page draft sent to Dr. Smith"', ""))
    code, out = run(config, "check-config", "--offline")
    assert code == 0, out
    assert "goal qi-proposal is not yet SMART: measure" in out


def test_a_symlinked_config_with_a_byte_order_mark_is_edited_where_it_lives(tmp_path):
    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.read_bytes())  # saved by a Windows editor
    real.chmod(0o600)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    code, out = run(link, "goal", "done", "qi-proposal", "--on", "2026-12-20")
    assert code == 0, out
    assert link.is_symlink() and "done = 2026-12-20" in real.read_text()
    assert real.stat().st_mode & 0o777 == 0o600
