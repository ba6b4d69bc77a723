"""docker-compose.optional.yml cannot run here (no Docker engine); check what we can."""

from pathlib import Path

import yaml

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.optional.yml").read_text())


def test_services_present():
    assert {"localstack", "bootstrap", "api", "worker", "flower"} <= set(compose()["services"])


def test_environment_names_are_settings_or_standard_aws():
    fields = {f"BATCHLAB_{name.upper()}" for name in Settings.model_fields}
    aws = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL"}
    for name, service in compose()["services"].items():
        for key in service.get("environment", {}):
            assert key in fields | aws | {"PYTHONUNBUFFERED", "SERVICES", "REMAP_SIGTERM"}, (name, key)


def test_values_parse_as_settings():
    env = compose()["services"]["api"]["environment"]
    values = {k.removeprefix("BATCHLAB_").lower(): v for k, v in env.items() if k.startswith("BATCHLAB_")}
    parsed = Settings(**values)
    assert parsed.queue_name == env["BATCHLAB_QUEUE_NAME"]
    assert parsed.visibility_timeout == int(env["BATCHLAB_VISIBILITY_TIMEOUT"])


def test_commands_match_the_procfile():
    services = compose()["services"]
    procfile = (ROOT / "Procfile").read_text()
    assert "celery -A tasks worker" in procfile and services["worker"]["command"][:4] == [
        "celery", "-A", "tasks", "worker"]
    assert "uvicorn api.main:app" in procfile and services["api"]["command"][1] == "api.main:app"
    assert services["bootstrap"]["command"][:3] == ["python", "-m", "core.bootstrap"]


def test_worker_soft_shutdown_and_flower_password():
    services = compose()["services"]
    assert services["worker"]["environment"]["REMAP_SIGTERM"] == "SIGQUIT"
    assert "--address=0.0.0.0" in services["flower"]["command"]
    assert services["flower"]["environment"]["BATCHLAB_FLOWER_PASSWORD"].startswith("${FLOWER_PASSWORD:?")


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined), split into stages at FROM."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_compose_builds_the_one_dockerfile():
    services = compose()["services"]
    for name in ("bootstrap", "api", "worker", "flower"):
        assert services[name]["build"] == {"context": ".", "dockerfile": "Dockerfile"}, name
        assert services[name]["image"] == "batchlab:local"
    # core.storage.objects needs S3 (the bootstrap creates the bucket).
    assert set(services["localstack"]["environment"]["SERVICES"].split(",")) >= {
        "sqs", "sns", "dynamodb", "s3"}


def test_dockerfile_is_multi_stage_non_root_without_dev_extras():
    stages = dockerfile_stages()
    assert stages[0][0].startswith("FROM node:") and " AS web" in stages[0][0]
    assert any("ng build" in line for line in stages[0])
    runtime = stages[-1]
    assert runtime[0] == "FROM python:3.11-slim"
    user = next(line for line in runtime if line.startswith("USER "))
    assert user.split()[1].split(":")[0] not in ("root", "0")
    installs = [line for stage in stages for line in stage if "pip install" in line]
    assert installs and not any("[dev]" in line or "-e " in line for line in installs)
    # The runtime gets the built web app where the API looks for it.
    env = " ".join(line for line in runtime if line.startswith("ENV "))
    assert "BATCHLAB_FRONTEND_DIST=/app/frontend/dist/batchlab/browser" in env
    assert any(line.startswith("COPY --from=web ") and
               line.endswith("/app/frontend/dist/batchlab/browser") for line in runtime)
    # Nothing of the build stages' tools is copied whole: only the venv and the dist.
    copies = [line for line in runtime if line.startswith("COPY")]
    assert all("--from=" in line for line in copies), copies


def test_dockerignore_keeps_local_state_out():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".tools", "frontend/node_modules", "tests"} <= ignored
