"""What every `copilot` command shares: the Typer app, the consoles, the options, one clear error line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console

from copilot.contracts import parse_request
from copilot.core import Copilot
from copilot.errors import CopilotError, InvalidRequestError
from copilot.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Support copilot command line.")
out = Console()
err = Console(stderr=True)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
KnowledgeOpt = Annotated[
    Path | None, typer.Option("--knowledge", help="Knowledge folder (default: knowledge/).")
]
IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index folder (default: .copilot/index).")]
F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(command: F) -> F:
    """Print a CopilotError as one clear line and exit 2, instead of a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CopilotError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def build(knowledge: Path | None, index: Path | None) -> Copilot:
    return Copilot(Settings.load(knowledge_dir=knowledge, index_dir=index))



def read_request(source: Path) -> object:
    """The JSON request in `source` (a file, or `-` for standard input)."""
    try:
        text = sys.stdin.read() if str(source) == "-" else source.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRequestError(f"{source}: cannot be read ({exc.strerror})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc


def respond(source: Path, model: type[BaseModel], handler: Callable[[Any], BaseModel]) -> None:
    """Read a request of the contract from `source`, run it, print the response JSON."""
    print_json(handler(parse_request(model, read_request(source))).model_dump(mode="json"))


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")

