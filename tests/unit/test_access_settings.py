"""The access settings refuse a key with two roles or an empty key, and the caller's
role comes from which map holds its key."""

from __future__ import annotations

import pytest
from fastapi import HTTPException
from pydantic import ValidationError

from api import deps
from core.settings import Settings


def test_a_key_cannot_be_both_tenant_and_operator():
    with pytest.raises(ValidationError, match="both"):
        Settings(api_keys={"k": "alice"}, admin_keys={"k": "ops"})


def test_an_empty_key_is_refused():
    with pytest.raises(ValidationError, match="empty"):
        Settings(admin_keys={"": "ops"})


def test_operator_keys_alone_switch_on_api_key_mode():
    assert Settings(admin_keys={"op": "ops"}).keyed
    assert not Settings().keyed


def test_identify(monkeypatch):
    monkeypatch.setattr(deps, "settings", Settings(api_keys={"t": "alice"}, admin_keys={"o": "anna"}))
    assert deps.identify("t") == deps.Caller("tenant", "alice")
    assert deps.identify("t").owner == "alice"
    assert deps.identify("o") == deps.Caller("operator", "anna")
    assert deps.identify("o").owner is None
    for bad in (None, "", "x", "t "):
        with pytest.raises(HTTPException) as exc:
            deps.identify(bad)
        assert exc.value.status_code == 401
    monkeypatch.setattr(deps, "settings", Settings())
    assert deps.identify(None) == deps.Caller("open")
