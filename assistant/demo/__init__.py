"""`demo`: the story (`story.py`) and the throwaway loopback servers it runs on (`servers/`),
which the tests start too."""

from __future__ import annotations

from assistant.demo.story import run_demo

__all__ = ["run_demo"]
