"""The `copilot` command: each command is a thin call into the library, grouped by who runs it."""

from copilot.cli import reports, service, team
from copilot.cli.common import app, build

__all__ = ["app", "build", "main", "reports", "service", "team"]


def main() -> None:
    app()
