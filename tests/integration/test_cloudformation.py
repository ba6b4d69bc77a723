"""The template's data resources, deployed into moto's CloudFormation, run a job.

One moto server answers CloudFormation and every service the stack creates (moto's
CloudFormation creates resources in its own process), so DynamoDB is pointed at it too.
The stack is created with ``Compute=false`` (ECS, IAM, the load balancer left out) and
names that are not the defaults, then the API and a worker get those names from the
stack's outputs, as the ECS task definitions pass them, and one job runs to COMPLETED.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from core.devstack import MOTO_SERVER, Stack, wait_for
from tests.conftest import Live

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "cloudformation" / "batchlab.yaml"
PREFIX = "cfn"
# Unused with Compute=false, but they have no defaults: any well-formed values.
REQUIRED = {
    "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/batchlab:test",
    "VpcId": "vpc-0123456789abcdef0",
    "PublicSubnetIds": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
    "PrivateSubnetIds": "subnet-0123456789abcdef2,subnet-0123456789abcdef3",
    "DomainName": "batchlab.example.com",
    "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/test",
    "KeysSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:batchlab-keys",
}
NAMES = {
    "TableName": f"{PREFIX}-Jobs",
    "BatchesTableName": f"{PREFIX}-Batches",
    "MetersTableName": f"{PREFIX}-Meters",
    "QueueName": f"{PREFIX}-jobs",
    "DlqName": f"{PREFIX}-jobs-dlq",
    "BucketName": f"{PREFIX}-data",
}
# The settings the ECS task definitions set from the same resources (outputs here).
ENV_FROM_OUTPUTS = {
    "BATCHLAB_TABLE_NAME": "TableName",
    "BATCHLAB_BATCHES_TABLE_NAME": "BatchesTableName",
    "BATCHLAB_METERS_TABLE_NAME": "MetersTableName",
    "BATCHLAB_QUEUE_NAME": "QueueName",
    "BATCHLAB_DLQ_NAME": "DlqName",
    "BATCHLAB_QUEUE_URL": "QueueUrl",
    "BATCHLAB_DLQ_URL": "DlqUrl",
    "BATCHLAB_BUCKET_NAME": "BucketName",
}


def client(stack: Stack, service: str):
    return boto3.client(service, endpoint_url=stack.env["AWS_ENDPOINT_URL"],
                        region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """Named ``stack`` so that conftest prints the process logs of a failed test."""
    cfn_stack = Stack(tmp_path_factory.mktemp("cloudformation-logs"),
                      extra_env={"BATCHLAB_WAIT_TIME_SECONDS": "1",
                                 "BATCHLAB_SHUTDOWN_GRACE_SECONDS": "1"})
    cfn_stack.env["AWS_ENDPOINT_URL_DYNAMODB"] = cfn_stack.env["AWS_ENDPOINT_URL"]
    try:
        cfn_stack.spawn("moto", [*MOTO_SERVER, "-H", "127.0.0.1",
                                 "-p", str(cfn_stack.sqs_port)])
        wait_for(lambda: client(cfn_stack, "sqs").list_queues() is not None,
                 timeout=60, what="moto to answer")
        yield cfn_stack
    finally:
        cfn_stack.stop_all()


@pytest.fixture(scope="module")
def outputs(stack: Stack) -> dict[str, str]:
    cfn = client(stack, "cloudformation")
    params = {**REQUIRED, **NAMES, "Compute": "false", "WaitTimeSeconds": "1"}
    cfn.create_stack(
        StackName="batchlab-test",
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM"],
    )

    def created() -> dict | None:
        found = cfn.describe_stacks(StackName="batchlab-test")["Stacks"][0]
        assert not found["StackStatus"].endswith(("FAILED", "ROLLBACK_COMPLETE")), found
        return found if found["StackStatus"] == "CREATE_COMPLETE" else None

    found = wait_for(created, timeout=60, what="the CloudFormation stack", every=0.2)
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def test_data_resources_are_created_as_the_app_wants(stack: Stack, outputs: dict[str, str]):
    resources = {
        r["LogicalResourceId"]: r["ResourceType"]
        for r in client(stack, "cloudformation").list_stack_resources(
            StackName="batchlab-test")["StackResourceSummaries"]
    }
    # Compute=false: data only. moto does not implement AWS::S3::BucketPolicy (the bucket's
    # TLS-only policy): it lists it with a blank id and creates nothing.
    assert set(resources) - {""} == {"DeadLetterQueue", "JobsQueue", "EventsTopic",
                                     "PidboxTopic", "JobsTable", "BatchesTable",
                                     "MetersTable", "DataBucket"}, resources
    assert {k: outputs[k] for k in NAMES} == NAMES
    ddb = client(stack, "dynamodb")
    table = ddb.describe_table(TableName=NAMES["TableName"])["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["OwnerCreatedAt"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    sqs = client(stack, "sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=outputs["QueueUrl"],
                                     AttributeNames=["All"])["Attributes"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=outputs["DlqUrl"],
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn and int(redrive["maxReceiveCount"]) == 10
    assert attrs["VisibilityTimeout"] == "120"
    topics = {t["TopicArn"].rsplit(":", 1)[1] for t in client(stack, "sns").list_topics()["Topics"]}
    assert {"batchlab-events", "batchlab-pidbox"} <= topics
    client(stack, "s3").head_bucket(Bucket=NAMES["BucketName"])


def test_a_job_runs_on_what_the_template_created(stack: Stack, outputs: dict[str, str]):
    env = {name: outputs[key] for name, key in ENV_FROM_OUTPUTS.items()}
    _, url = stack.start_api(env)
    stack.start_worker(env)
    with httpx.Client(base_url=url, timeout=30) as http:
        live = Live(stack=stack, api_url=url, http=http)
        # Large enough to go to S3 (over 8 KB): the bucket is used too.
        job = live.submit("sha256", {"text": "x" * 20_000}, owner="cfn-owner")
        done = live.wait_terminal(job["id"], timeout=90)
        assert done["status"] == "COMPLETED", done
        listed = http.get("/api/jobs", params={"ownerId": "cfn-owner"}).json()["items"]
        assert [j["id"] for j in listed] == [job["id"]]
    # It is in the template's table and bucket, not in a default-named one.
    item = client(stack, "dynamodb").get_item(TableName=NAMES["TableName"],
                                              Key={"JobId": {"S": job["id"]}})
    assert item["Item"]["Status"]["S"] == "COMPLETED"
    keys = [o["Key"] for o in client(stack, "s3").list_objects_v2(
        Bucket=NAMES["BucketName"]).get("Contents", [])]
    assert f"jobs/{job['id']}/payload.json" in keys, keys
    assert "Jobs" not in client(stack, "dynamodb").list_tables()["TableNames"]
