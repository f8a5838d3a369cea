"""bench/async.sh's Django side: the reference site's settings (conformance/django/site) with
an async middleware that awaits a GET to the loopback upstream ($UPSTREAM) on every request
before the rest of the chain, as bench.UpstreamMiddleware does in the Rust site. asyncio
streams with a keep-alive connection pool (Python has no HTTP client in the standard library
that is async); the upstream answers `Content-Length` framed, so one read per answer.
"""

import asyncio
import os

from asgiref.sync import markcoroutinefunction

from settings import *  # noqa: F401,F403 -- the reference site's settings, then ours
from settings import MIDDLEWARE as _BASE

MIDDLEWARE = list(_BASE) + ["django_upstream.UpstreamMiddleware"]

_HOST, _PORT = os.environ.get("UPSTREAM", "127.0.0.1:18290").rsplit(":", 1)
_REQUEST = f"GET / HTTP/1.1\r\nHost: {_HOST}:{_PORT}\r\n\r\n".encode()
_idle = []


async def _get():
    """The upstream's status code, on a pooled connection (a new one when none is idle)."""
    if _idle:
        reader, writer = _idle.pop()
    else:
        reader, writer = await asyncio.open_connection(_HOST, int(_PORT))
    writer.write(_REQUEST)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    _idle.append((reader, writer))
    return int(head.split(b" ", 2)[1])


class UpstreamMiddleware:
    """Awaits the upstream, then the rest of the chain; X-Upstream: the upstream's status."""

    async_capable = True
    sync_capable = False

    def __init__(self, get_response):
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request):
        try:
            status = await _get()
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 502
        response = await self.get_response(request)
        response["X-Upstream"] = str(status)
        return response
