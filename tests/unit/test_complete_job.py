"""core.jobs.store.complete_job never lets a result that cannot be stored pass as COMPLETED,
and core.jobs.jobdata.place puts a result where its size says (issue 13)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from core.errors import ResultNotStored
from core.jobs import jobdata, store, transitions
from core.settings import settings


class FakeDynamoDB:
    def __init__(self, error: ClientError | None = None) -> None:
        self.error = error
        self.calls: list[dict] = []

    def update_item(self, **kwargs):
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        return {"Attributes": {}}


@pytest.fixture
def started() -> dict:
    item = store.new_job(job_id="j", owner_id="o", name="n", type_="csv-summary",
                         payload={"csv": "a"}, max_attempts=3).item
    item["Status"] = {"S": "PROCESSING"}
    item["Attempts"] = {"N": "1"}
    return item


def use(monkeypatch, fake: FakeDynamoDB) -> None:
    monkeypatch.setattr(transitions, "client", lambda service: fake)


def test_a_result_over_the_result_limit_is_refused_before_any_write(monkeypatch):
    monkeypatch.setattr(settings, "max_result_bytes", 10_000)
    with pytest.raises(ResultNotStored, match="over the limit of 10000 bytes for a result"):
        jobdata.place(job_id="j", part="result", value={"x": "y" * 10_000}, inline=False,
                      attempt=1)


def test_a_result_goes_inline_to_an_item_or_to_s3_by_its_size():
    small = jobdata.place(job_id="j", part="result", value={"a": 1}, inline=True, attempt=1)
    assert small.where == "inline" and small.values == {"Result": '{"a":1}'}
    mid = jobdata.place(job_id="j", part="result", value={"a": "é" * 2000}, inline=False,
                        attempt=2)
    assert (mid.where, mid.key) == ("item", "j#result#2")
    assert mid.values == {"ResultIn": "item", "ResultBytes": 4008}
    big = jobdata.place(job_id="j", part="result", value={"a": "b" * 9000}, inline=False,
                        attempt=2)
    assert (big.where, big.key) == ("s3", "jobs/j/result-2.json")


def test_dynamodbs_validation_exception_is_a_result_not_stored(monkeypatch, started):
    refused = ClientError({"Error": {"Code": "ValidationException",
                                     "Message": "Item size has exceeded the maximum allowed size"}},
                          "UpdateItem")
    use(monkeypatch, FakeDynamoDB(refused))
    with pytest.raises(ResultNotStored, match="DynamoDB refused it"):
        store.complete_job("j", attempt=1, result_values={"Result": "{}"}, item=started)


def test_a_completion_sets_the_trimmed_history_pinned_by_its_count(monkeypatch, started):
    fake = FakeDynamoDB()
    use(monkeypatch, fake)
    store.complete_job("j", attempt=1, result_values={"Result": '{"text":"é"}'}, item=started)
    (call,) = fake.calls
    assert "HistoryCount = :hc" in call["ConditionExpression"]
    assert "Attempts = :attempt" in call["ConditionExpression"]
    values = call["ExpressionAttributeValues"]
    assert [e["M"]["Status"]["S"] for e in values[":h"]["L"]] == ["QUEUED", "COMPLETED"]
    assert {"S": '{"text":"é"}'} in values.values()  # UTF-8, not \\u00e9 escapes
