"""The `copilot` command: each command is a thin call into the library, grouped by who runs it."""

# ruff: noqa: I001 (the order the groups are imported in is the order `copilot --help` lists them)
from copilot.cli import service
from copilot.cli import reports, steps, team
from copilot.cli.common import app, build

__all__ = ["app", "build", "main", "reports", "service", "steps", "team"]


def main() -> None:
    app()
