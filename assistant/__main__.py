"""`python -m assistant` is the `mentor-assistant` command."""

from assistant.cli import main

main(prog_name="mentor-assistant")
