"""HEAD wherever GET is: HTTP requires it, and load balancers and ``curl -I`` probe with it.

FastAPI routes answer only the methods they declare, and declaring HEAD beside GET either duplicates
operation ids in the schema or splits the route (then ``405 Allow`` lists only one of them). So a
HEAD request is passed to the app as a GET, on a copy of the scope: the server still sees HEAD and
sends the headers without the body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            scope = dict(scope, method="GET")
        await self.app(scope, receive, send)
