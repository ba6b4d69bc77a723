"""``python -m cli``: the batchlab command without its console script."""

from cli.main import app

app(prog_name="batchlab")
