"""What every command shares: options, the Api it is given, problems as exit codes."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from cli.client import Api, ApiError, dumps
from cli.waiting import GaveUp, stderr

stdout = Console()

EXIT_PROBLEM, EXIT_NOT_COMPLETED, EXIT_GAVE_UP = 1, 3, 4

Owner = Annotated[str | None, typer.Option(
    "--owner", envvar="BATCHLAB_OWNER",
    help="ownerId (open mode, or an operator key); a tenant key is its owner already.")]
Timeout = Annotated[float | None, typer.Option(
    "--timeout", min=0, help="with --wait/--watch: give up after this many seconds (exit 4)")]
AsJson = Annotated[bool, typer.Option("--json", help="print the API's JSON, not a table")]


def handled(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``command`` with an :class:`Api` as its first argument; map problems to exit codes."""

    @functools.wraps(command)
    def run(ctx: typer.Context, *args: Any, **kwargs: Any) -> Any:
        api = Api(ctx.obj["api"], api_key=ctx.obj["api_key"])
        try:
            return command(api, *args, **kwargs)
        except ApiError as exc:
            report_problem(exc)
            raise typer.Exit(EXIT_PROBLEM) from None
        except GaveUp as exc:
            stderr.print(f"[yellow]{escape(str(exc))}[/]", highlight=False)
            raise typer.Exit(EXIT_GAVE_UP) from None
        finally:
            api.close()

    # Typer reads the signature: the context takes the Api argument's place.
    params = list(inspect.signature(command, eval_str=True).parameters.values())[1:]
    ctx_param = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                  annotation=typer.Context)
    run.__signature__ = inspect.Signature([ctx_param, *params])  # type: ignore[attr-defined]
    return run


def report_problem(exc: ApiError) -> None:
    status = f" ({exc.status})" if exc.status else ""
    stderr.print(f"[red]Error{status}:[/] {escape(exc.title)}", highlight=False)
    if exc.detail:
        stderr.print(exc.detail, highlight=False, markup=False)
    for error in exc.errors:
        stderr.print(f"  {error.get('field', '')}: {error.get('message', '')}",
                     highlight=False, markup=False)


def print_json(value: Any) -> None:
    sys.stdout.write(dumps(value) + "\n")


def parse_json_object(text: str, *, option: str) -> dict[str, Any]:
    """``text`` as a JSON object; ``@file.json`` reads the file (``@-``: stdin)."""
    if text.startswith("@"):
        source = text[1:]
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {source}: {exc.strerror}",
                                     param_hint=option) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint=option) from None
    if not isinstance(value, dict):
        raise typer.BadParameter("must be a JSON object", param_hint=option)
    return value
