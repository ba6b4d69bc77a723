"""The CloudFormation template cannot drift from the app.

* Each component's role grants exactly what deploy/iam/<role>.json grants (read at test
  time, so a policy file changed on another branch is compared too), statement by statement,
  once the template's ``!Sub`` ARNs are resolved with its parameters' defaults and region
  and account are the files' ``*``.
* The parameters' defaults are the settings' defaults, and the tables, index and queue
  match what core/bootstrap.py and core/queues.py create.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from core import bootstrap
from core.queues import DLQ_RETENTION_SECONDS
from core.settings import Settings
from core.storage.objects import lifecycle_days

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "cloudformation" / "batchlab.yaml"
POLICIES = ROOT / "deploy" / "iam"


def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE))


def resolve(value: Any, defaults: dict[str, str]) -> str:
    """A Resource of the template as the policy files write it (defaults, ``*`` region)."""
    if isinstance(value, str):
        return value
    (fn, arg), = value.items()
    assert fn == "Fn::Sub" and isinstance(arg, str), f"write ARNs as !Sub strings: {value}"
    names = {"AWS::Partition": "aws", "AWS::Region": "*", "AWS::AccountId": "*", **defaults}

    def name(match: re.Match[str]) -> str:
        assert match.group(1) in names, f"{match.group(1)} in {arg} has no default"
        return str(names[match.group(1)])

    return re.sub(r"\$\{([^}]+)\}", name, arg)


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def statements(document: dict[str, Any], defaults: dict[str, str] | None = None) -> dict:
    out = {}
    for st in document["Statement"]:
        assert st.get("Sid"), f"every statement has a Sid: {st}"
        out[st["Sid"]] = {
            "Effect": st["Effect"],
            "Action": sorted(as_list(st["Action"])),
            "Resource": sorted(resolve(r, defaults or {}) for r in as_list(st["Resource"])),
        }
    return out


def test_each_role_grants_what_its_policy_file_grants():
    tpl = template()
    defaults = {name: str(p["Default"]) for name, p in tpl["Parameters"].items() if "Default" in p}
    files = sorted(POLICIES.glob("*.json"))
    assert files
    for path in files:
        role = f"{path.stem.capitalize()}Role"
        assert role in tpl["Resources"], f"{path.name} has no {role} in the template"
        policies = tpl["Resources"][role]["Properties"]["Policies"]
        assert len(policies) == 1, role
        expected = statements(json.loads(path.read_text()))
        actual = statements(policies[0]["PolicyDocument"], defaults)
        for sid in sorted(expected.keys() | actual.keys()):
            assert sid in actual, f"{path.name} statement {sid} is missing from {role}"
            assert sid in expected, f"{role} statement {sid} is not in {path.name}"
            assert actual[sid] == expected[sid], (
                f"{role} statement {sid} differs from {path.name}:\n"
                f"template {actual[sid]}\nfile     {expected[sid]}")


def test_parameter_defaults_are_the_settings_defaults():
    params = template()["Parameters"]
    defaults = Settings.model_construct()  # the code's defaults, whatever the environment
    assert params["TableName"]["Default"] == defaults.table_name
    assert params["MetersTableName"]["Default"] == defaults.meters_table_name
    assert params["QueueName"]["Default"] == defaults.queue_name
    assert params["DlqName"]["Default"] == defaults.dlq_name
    assert params["BucketName"]["Default"] == defaults.bucket_name
    assert params["VisibilityTimeout"]["Default"] == defaults.visibility_timeout
    assert params["MaxReceiveCount"]["Default"] == defaults.max_receive_count
    assert params["WaitTimeSeconds"]["Default"] == defaults.wait_time_seconds
    assert params["JobTtlHours"]["Default"] == defaults.job_ttl_hours
    assert params["ObjectExpirationDays"]["Default"] == lifecycle_days()
    # The Batches table (issue 14): its setting arrives with the batches code.
    if "batches_table_name" in Settings.model_fields:
        assert params["BatchesTableName"]["Default"] == defaults.batches_table_name


def test_tables_and_queues_are_the_bootstraps():
    resources = template()["Resources"]
    jobs = resources["JobsTable"]["Properties"]
    spec = bootstrap._table_spec()
    assert jobs["BillingMode"] == spec["BillingMode"]
    assert jobs["KeySchema"] == spec["KeySchema"]
    assert sorted(map(dict, jobs["AttributeDefinitions"]), key=str) == sorted(
        spec["AttributeDefinitions"], key=str)
    (index,) = jobs["GlobalSecondaryIndexes"]
    owner = bootstrap._owner_index()
    assert index["IndexName"] == Settings.model_construct().owner_index_name == owner["IndexName"]
    assert index["KeySchema"] == owner["KeySchema"] and index["Projection"] == owner["Projection"]
    for table in ("JobsTable", "MetersTable", "BatchesTable"):
        ttl = resources[table]["Properties"]["TimeToLiveSpecification"]
        assert ttl == {"AttributeName": "ExpiresAt", "Enabled": True}, table
    meters = resources["MetersTable"]["Properties"]
    assert [k["AttributeName"] for k in meters["KeySchema"]] == ["Day", "Slot"]
    batches = resources["BatchesTable"]["Properties"]  # /work/briefs/batch-contract.md
    assert [k["AttributeName"] for k in batches["KeySchema"]] == ["BatchId", "Part"]
    (batch_index,) = batches["GlobalSecondaryIndexes"]
    assert batch_index["IndexName"] == "owner-created"
    assert batch_index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    dlq = resources["DeadLetterQueue"]["Properties"]
    assert dlq["MessageRetentionPeriod"] == DLQ_RETENTION_SECONDS
    jobs_queue = resources["JobsQueue"]["Properties"]
    assert jobs_queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    assert jobs_queue["RedrivePolicy"]["maxReceiveCount"] == {"Ref": "MaxReceiveCount"}
    assert jobs_queue["VisibilityTimeout"] == {"Ref": "VisibilityTimeout"}
    assert jobs_queue["ReceiveMessageWaitTimeSeconds"] == {"Ref": "WaitTimeSeconds"}


def test_workers_scale_on_backlog_per_task_and_stop_softly():
    resources = template()["Resources"]
    target = resources["WorkerScalableTarget"]["Properties"]
    assert target["MinCapacity"] == {"Ref": "WorkerMinCount"}
    assert target["MaxCapacity"] == {"Ref": "WorkerMaxCount"}
    tracking = resources["WorkerBacklogPolicy"]["Properties"][
        "TargetTrackingScalingPolicyConfiguration"]
    metrics = tracking["CustomizedMetricSpecification"]["Metrics"]
    returned = [m for m in metrics if m.get("ReturnData")]
    assert len(returned) == 1 and "/" in returned[0]["Expression"]
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in metrics if "MetricStat" in m}
    assert names == {"ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible",
                     "RunningTaskCount"}
    assert tracking["TargetValue"] == {"Ref": "BacklogPerWorker"}
    # From zero workers target tracking cannot scale out: the wake-from-zero alarm does.
    alarm = resources["WorkerWakeFromZeroAlarm"]["Properties"]
    assert alarm["AlarmActions"] == [{"Ref": "WorkerWakeFromZeroPolicy"}]
    worker = resources["WorkerTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    env = {e["Name"]: e["Value"] for e in worker["Environment"]}
    assert env["REMAP_SIGTERM"] == "SIGQUIT"
    grace = float(env["BATCHLAB_SHUTDOWN_GRACE_SECONDS"])
    assert grace + 5 <= worker["StopTimeout"]
    assert worker["Command"][:4] == ["celery", "-A", "tasks", "worker"]


def test_task_environment_names_are_settings():
    fields = {f"BATCHLAB_{name.upper()}" for name in Settings.model_fields}
    allowed = fields | {"AWS_REGION", "PYTHONUNBUFFERED", "REMAP_SIGTERM"}
    resources = template()["Resources"]
    for name, resource in resources.items():
        if resource["Type"] != "AWS::ECS::TaskDefinition":
            continue
        for container in resource["Properties"]["ContainerDefinitions"]:
            for key in [e["Name"] for e in container.get("Environment", [])] + [
                    s["Name"] for s in container.get("Secrets", [])]:
                assert key in allowed, (name, key)


def test_read_only_tasks_mount_the_images_writable_volume():
    """Root filesystems are read-only: each task mounts a task volume where the image's
    TMPDIR is, the directory the Dockerfile declares as its VOLUME (ECS gives the volume
    that directory's owner, the image's non-root user)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    (volume,) = re.findall(r'^VOLUME \["([^"]+)"\]', dockerfile, flags=re.M)
    assert f"TMPDIR={volume}" in dockerfile
    for name, resource in template()["Resources"].items():
        if resource["Type"] != "AWS::ECS::TaskDefinition":
            continue
        volumes = {v["Name"] for v in resource["Properties"]["Volumes"]}
        for container in resource["Properties"]["ContainerDefinitions"]:
            assert container["ReadonlyRootFilesystem"] is True, name
            mounts = {(m["SourceVolume"], m["ContainerPath"]) for m in container["MountPoints"]}
            assert any(path == volume and source in volumes for source, path in mounts), name
