"""Job types from a team's own modules (core/plugins/loader.py, issue 16)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest

from core.devstack import ROOT
from core.jobs import job_types
from core.plugins import loader
from core.plugins.loader import ENTRY_POINT_GROUP, JobModuleError, load_job_modules
from core.settings import Settings

TYPES = textwrap.dedent("""
    from pydantic import BaseModel
    from core.jobs.job_types import job_type

    class P(BaseModel):
        n: int

    @job_type("{name}", payload=P, example={{"n": 1}}, description="test")
    def double(payload: P) -> dict:
        return {{"n": payload.n * 2}}
""")


@pytest.fixture
def modules(tmp_path, monkeypatch):
    """Write modules into a directory on sys.path; the registry is restored afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(job_types, "REGISTRY", dict(job_types.REGISTRY))
    written: list[str] = []

    def write(name: str, source: str) -> str:
        (tmp_path / f"{name}.py").write_text(source)
        written.append(name)
        return name

    yield write
    for name in written:
        sys.modules.pop(name, None)


def test_the_setting_is_comma_separated(monkeypatch):
    monkeypatch.setenv("BATCHLAB_JOB_MODULES", " acme.jobs, acme.more ,,")
    assert Settings().job_modules == ["acme.jobs", "acme.more"]
    monkeypatch.delenv("BATCHLAB_JOB_MODULES")
    assert Settings().job_modules == []


def test_a_module_registers_its_types_once(modules):
    name = modules("unit_team_jobs", TYPES.format(name="unit-double"))
    load_job_modules(modules=[name])
    load_job_modules(modules=[name])  # a second load imports nothing again
    assert job_types.REGISTRY["unit-double"].run({"n": 21}, job_types.NullContext()) == {"n": 42}


def test_a_missing_module_is_a_clear_error():
    with pytest.raises(JobModuleError, match=r"BATCHLAB_JOB_MODULES names the job module "
                                             r"'unit_no_such_module'.*No module named"):
        load_job_modules(modules=["unit_no_such_module"])


def test_a_module_failing_at_import_is_a_clear_error(modules):
    name = modules("unit_broken_jobs", "raise RuntimeError('no database here')\n")
    with pytest.raises(JobModuleError, match="'unit_broken_jobs'.*RuntimeError: no database here"):
        load_job_modules(modules=[name])


def test_a_type_name_taken_is_a_clear_error(modules):
    name = modules("unit_clash_jobs", TYPES.format(name="sha256"))
    with pytest.raises(JobModuleError, match="'unit_clash_jobs'.*'sha256' is already registered"):
        load_job_modules(modules=[name])


def test_entry_points_are_loaded(modules, monkeypatch):
    name = modules("unit_installed_jobs", TYPES.format(name="unit-installed"))
    entry = EntryPoint(name="team", value=name, group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(loader, "entry_points",
                        lambda *, group: [entry] if group == ENTRY_POINT_GROUP else [])
    load_job_modules(modules=[])
    assert "unit-installed" in job_types.REGISTRY


def test_a_broken_entry_point_is_a_clear_error(monkeypatch):
    entry = EntryPoint(name="team", value="unit_gone_jobs", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(loader, "entry_points", lambda *, group: [entry])
    with pytest.raises(JobModuleError, match="entry point 'team'.*'unit_gone_jobs'"):
        load_job_modules(modules=[])


@pytest.mark.parametrize("argv", [["-m", "celery", "-A", "tasks", "worker"],
                                  ["-c", "import api.main"]])
def test_worker_and_api_refuse_to_start_without_the_module(argv):
    # Before any AWS call: the import of the app itself fails.
    proc = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT),
                               "BATCHLAB_JOB_MODULES": "acme_nowhere"}, timeout=60)
    assert proc.returncode != 0
    assert "BATCHLAB_JOB_MODULES names the job module 'acme_nowhere'" in proc.stderr



def test_a_module_registering_nothing_is_a_warning(modules, caplog):
    name = modules("unit_empty_jobs", "VALUE = 1\n")
    with caplog.at_level("WARNING", logger="batchlab.plugins"):
        load_job_modules(modules=[name])
    assert "job module unit_empty_jobs (BATCHLAB_JOB_MODULES) registered no job type" in caplog.text
