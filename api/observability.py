"""HTTP metrics middleware: request count and latency per route template."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.operations import metrics


class HttpMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            method = scope["method"]
            template = route_template(scope)
            metrics.HTTP_REQUESTS.labels(method, template, str(status[0])).inc()
            metrics.HTTP_LATENCY.labels(method, template).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The matched route as a template (/api/jobs/{job_id}), never the raw path, so
    label values stay bounded. (Routes of included routers carry only their own
    part of the path in the scope, so the template is rebuilt from the path.)"""
    if scope.get("route") is None:
        return "unmatched"
    template = scope["path"]
    for name, value in (scope.get("path_params") or {}).items():
        if value:
            template = template.replace(str(value), "{" + name + "}", 1)
    return template
