"""The CLI's only way to BatchLab: its REST API, over httpx.

Every error answer is RFC 9457 problem+json; :class:`ApiError` keeps its title,
detail and field errors so the command can print them and exit non-zero. A server
that cannot be reached is an :class:`ApiError` too (no status), never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

API_KEY_HEADER = "X-API-Key"  # api/deps.py


@dataclass
class ApiError(Exception):
    title: str
    detail: str = ""
    status: int | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.title}: {self.detail}" if self.detail else self.title


def problem_of(resp: httpx.Response) -> ApiError:
    """The problem an error answer carries (or what can be said of a non-problem one)."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "title" in body:
        errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
        return ApiError(title=str(body["title"]), detail=str(body.get("detail") or ""),
                        status=resp.status_code, errors=errors)
    # Not from BatchLab (a proxy, a wrong --api): say what came back.
    return ApiError(title=f"HTTP {resp.status_code} {resp.reason_phrase}",
                    detail=resp.text[:200].strip() or f"from {resp.request.url}",
                    status=resp.status_code)


class Api:
    """One httpx client for the API at ``base_url``; the key goes to the API only,
    never to the presigned S3 URLs (:meth:`put_presigned`)."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 30,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json, application/problem+json"}
        if api_key:
            headers[API_KEY_HEADER] = api_key
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                 follow_redirects=False, transport=transport)
        # Presigned URLs carry their own signature: a separate client, without the key.
        self.s3 = httpx.Client(timeout=httpx.Timeout(timeout, write=None), follow_redirects=True,
                               transport=transport)

    def close(self) -> None:
        self.http.close()
        self.s3.close()

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json_body: Any = None, headers: dict[str, str] | None = None,
                ok: tuple[int, ...] = (200, 201, 202)) -> Any:
        with self._transport_errors():
            resp = self.http.request(method, path, params=_drop_none(params), json=json_body,
                                     headers=headers)
        if resp.status_code not in ok:
            raise problem_of(resp)
        return resp.json() if resp.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, *, params: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> Any:
        return self.request("POST", path, params=params, json_body=body, headers=headers)

    @contextmanager
    def stream(self, path: str) -> Iterator[httpx.Response]:
        """GET ``path`` as a stream, following a redirect (to S3) without the API key."""
        with self._transport_errors(), self.http.stream("GET", path) as resp:
            if resp.is_redirect:
                location = resp.headers["location"]
                with self.s3.stream("GET", location) as moved:
                    if moved.status_code != 200:
                        moved.read()
                        raise problem_of(moved)
                    yield moved
                return
            if resp.status_code != 200:
                resp.read()
                raise problem_of(resp)
            yield resp

    def put_presigned(self, url: str, content: Any, *, headers: dict[str, str]) -> httpx.Response:
        with self._transport_errors():
            resp = self.s3.put(url, content=content, headers=headers)
        if resp.status_code != 200:
            raise ApiError(title=f"upload refused by storage (HTTP {resp.status_code})",
                           detail=resp.text[:300].strip(), status=resp.status_code)
        return resp

    @contextmanager
    def _transport_errors(self) -> Iterator[None]:
        try:
            yield
        except httpx.TransportError as exc:
            raise ApiError(title="cannot reach the API",
                           detail=f"{self.base_url}: {type(exc).__name__}: {exc}") from exc


def _drop_none(params: dict[str, Any] | None) -> dict[str, Any] | None:
    # Only what the user gave goes to the server, so an API without a filter
    # (an older server) is not sent one it would reject.
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None and v != []}


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
