"""Import the modules that register a team's own job types (issue 16).

A team keeps its types in its own package and registers them with
``core.jobs.job_types.job_type``; BatchLab imports that package at start-up, so the API
(validation, the OpenAPI document, ``/api/job-types``) and the workers (the handlers)
see the same registry and nobody edits ``core/``. Two ways to name the modules:

- the setting ``BATCHLAB_JOB_MODULES=acme.jobs,acme.more`` (comma-separated), for a
  package that is merely importable (on ``PYTHONPATH``);
- the entry-point group ``batchlab.job_types`` of an installed distribution, e.g. in its
  pyproject.toml ``[project.entry-points."batchlab.job_types"] acme = "acme.jobs"``.

``core.jobs.job_types`` calls :func:`load_job_modules` once its built-ins are registered, so
every process that imports it (uvicorn, ``celery -A tasks worker``, tools) loads them
the same way. A module that does not import stops the process with
:class:`JobModuleError`, naming the module and where it was named: a worker that
silently lacked a type would fail every job of it, and an API would refuse them.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from functools import partial
from importlib.metadata import entry_points

from core.settings import settings

log = logging.getLogger("batchlab.plugins")

ENTRY_POINT_GROUP = "batchlab.job_types"


class JobModuleError(RuntimeError):
    """A job module named by the setting or an entry point could not be loaded."""


def _registry_size() -> int:
    from core.jobs.job_types import REGISTRY  # noqa: PLC0415 - core.jobs.job_types imports this module

    return len(REGISTRY)


_loaded: set[str] = set()


def _importing(target: str) -> bool:
    """Whether ``target``'s module is being imported right now: it imported
    core.jobs.job_types first (e.g. a test importing it), and registers once that returns."""
    module = sys.modules.get(target.split(":")[0])
    return bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


def _load(target: str, load: Callable[[], object], *, source: str) -> None:
    before = _registry_size()
    importing = _importing(target)
    try:
        load()
    except Exception as exc:  # noqa: BLE001 - any failure at import is the same fault to report
        raise JobModuleError(
            f"{source} names the job module {target!r}, which could not be imported: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if _registry_size() == before and target not in _loaded and not importing:
        # Usually a package whose __init__ does not import the module with the types.
        log.warning("job module %s (%s) registered no job type", target, source)
    _loaded.add(target)


def load_job_modules(*, modules: list[str] | None = None) -> None:
    """Import every module of ``BATCHLAB_JOB_MODULES`` (or ``modules``), then every
    ``batchlab.job_types`` entry point. Idempotent: Python imports a module once, so a
    second call registers nothing twice."""
    for name in settings.job_modules if modules is None else modules:
        _load(name, partial(importlib.import_module, name), source="BATCHLAB_JOB_MODULES")
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        _load(entry.value, entry.load,
              source=f"the entry point {entry.name!r} (group {ENTRY_POINT_GROUP})")
