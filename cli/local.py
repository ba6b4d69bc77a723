"""``batchlab bootstrap`` and ``batchlab dev``: the two commands that do not go
through the REST API (they make the resources and processes the API needs)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def bootstrap(
    wait: Annotated[bool, typer.Option("--wait", help="retry until the endpoints answer")] = False,
    check: Annotated[bool, typer.Option(
        "--check", help="only wait until the queues and table exist (create nothing)")] = False,
) -> None:
    """Create the queues, tables and bucket, idempotently (python -m core.bootstrap;
    AWS credentials and endpoints as usual)."""
    from core import bootstrap as core_bootstrap  # noqa: PLC0415 - boto3 only when needed

    args = [flag for flag, on in (("--wait", wait), ("--check", check)) if on]
    raise typer.Exit(core_bootstrap.main(args))


def dev_env(*, api_port: int, flower_port: int, sqs_port: int, dynamodb_port: int,
            worker_metrics_port: int) -> dict[str, str]:
    """scripts/env.sh in Python: the local stack's environment. What the caller's
    environment already sets wins, as there."""
    defaults = {
        "MOTO_SQS_PORT": str(sqs_port),
        "MOTO_DYNAMODB_PORT": str(dynamodb_port),
        "API_PORT": str(api_port),
        "FLOWER_PORT": str(flower_port),
        "WORKER_METRICS_PORT": str(worker_metrics_port),
        # moto takes any credentials; the endpoints keep them from ever reaching AWS.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{sqs_port}",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{dynamodb_port}",
        "BATCHLAB_FLOWER_URL": f"http://127.0.0.1:{flower_port}",
        "PYTHONUNBUFFERED": "1",
    }
    env = {**defaults, **os.environ}
    # The Procfile runs python, uvicorn, celery and moto_server from PATH: this venv's.
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return env


def dev(
    api_port: Annotated[int, typer.Option(envvar="API_PORT")] = 8000,
    flower_port: Annotated[int, typer.Option(envvar="FLOWER_PORT")] = 5555,
    sqs_port: Annotated[int, typer.Option(envvar="MOTO_SQS_PORT")] = 4566,
    dynamodb_port: Annotated[int, typer.Option(envvar="MOTO_DYNAMODB_PORT")] = 4567,
    worker_metrics_port: Annotated[int, typer.Option(envvar="WORKER_METRICS_PORT")] = 9101,
) -> None:
    """Run the local stack (moto, API + web app, a worker, Flower) like scripts/run,
    until Ctrl-C; the worker finishes its running job first. Unlike scripts/run it
    installs and builds nothing: run scripts/setup once."""
    if not (ROOT / "Procfile").exists():
        # An installed package (pip install ., the image) has no Procfile or web app.
        typer.echo(f"dev: runs from a BatchLab checkout; there is no Procfile in {ROOT}", err=True)
        raise typer.Exit(1)
    env = dev_env(api_port=api_port, flower_port=flower_port, sqs_port=sqs_port,
                  dynamodb_port=dynamodb_port, worker_metrics_port=worker_metrics_port)
    os.environ.update(env)  # before core.settings is imported by core.runner
    os.chdir(ROOT)  # the Procfile, and the web app's build, are found from here
    if not (ROOT / "frontend/dist/batchlab/browser/index.html").exists():
        typer.echo("dev: the web app is not built (scripts/setup builds it); the API runs "
                   "without it", err=True)
    if shutil.which("moto_server", path=env["PATH"]) is None:
        typer.echo("dev: moto_server is not installed (pip install 'moto[server]')", err=True)
        raise typer.Exit(1)
    typer.echo(f"\n  BatchLab (local stack on moto; state is gone on Ctrl-C)\n"
               f"    Web app   http://127.0.0.1:{api_port}/\n"
               f"    API docs  http://127.0.0.1:{api_port}/docs\n"
               f"    Flower    http://127.0.0.1:{flower_port}/\n")
    from core import runner  # noqa: PLC0415 - after the environment is set

    raise typer.Exit(runner.main(["Procfile", "--last", "sqs,dynamodb"]))
