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
