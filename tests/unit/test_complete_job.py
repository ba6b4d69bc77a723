"""core.store.complete_job never lets a result that cannot be stored pass as COMPLETED."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from core import store
from core.errors import ResultNotStored
from core.item_size import MAX_ITEM_BYTES, item_size


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
    item = store.new_job_item(job_id="j", owner_id="o", name="n", type_="csv-summary",
                              payload={"csv": "a"}, max_attempts=3)
    item["Status"] = {"S": "PROCESSING"}
    item["Attempts"] = {"N": "1"}
    return item


def use(monkeypatch, fake: FakeDynamoDB) -> None:
    monkeypatch.setattr(store, "client", lambda service: fake)


def test_a_result_too_large_is_refused_before_any_write(monkeypatch, started):
    fake = FakeDynamoDB()
    use(monkeypatch, fake)
    result = {"columns": ["x" * 100] * 5_000}  # ~0.5 MB as JSON
    with pytest.raises(ResultNotStored, match=f"item limit of {MAX_ITEM_BYTES} bytes"):
        store.complete_job("j", attempt=1, result=result, item=started)
    assert fake.calls == []


def test_dynamodbs_validation_exception_is_a_result_not_stored(monkeypatch, started):
    refused = ClientError({"Error": {"Code": "ValidationException",
                                     "Message": "Item size has exceeded the maximum allowed size"}},
                          "UpdateItem")
    use(monkeypatch, FakeDynamoDB(refused))
    with pytest.raises(ResultNotStored, match="DynamoDB refused it"):
        store.complete_job("j", attempt=1, result={"ok": True}, item=started)


def test_a_result_that_fits_is_written_with_its_size_measured_as_stored(monkeypatch, started):
    fake = FakeDynamoDB()
    use(monkeypatch, fake)
    store.complete_job("j", attempt=1, result={"text": "é" * 10}, item=started)
    (call,) = fake.calls
    values = call["ExpressionAttributeValues"]
    stored = next(v["S"] for v in values.values() if v.get("S", "").startswith('{"text"'))
    assert stored == '{"text":"' + "é" * 10 + '"}'  # UTF-8, not \\u00e9 escapes
    assert item_size(started) < MAX_ITEM_BYTES
