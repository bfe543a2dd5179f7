"""Loading the draft templates: the packaged defaults, overridden by the resident's own.

The texts are handed to the core, which renders them in Jinja2's sandbox.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from assistant.errors import ConfigError


def load_templates(user_dir: Path | None) -> dict[str, str]:
    """Template name -> source. A file of the same name in `user_dir` replaces a default."""
    templates: dict[str, str] = {}
    for entry in resources.files("assistant").joinpath("templates").iterdir():
        if entry.name.endswith(".j2"):
            templates[entry.name] = entry.read_text(encoding="utf-8")
    if user_dir is not None:
        for path in sorted(user_dir.glob("*.j2")):
            try:
                templates[path.name] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError([f"templates.path: {path} cannot be read ({exc})"]) from None
    return templates
