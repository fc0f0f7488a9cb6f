"""API docs that work offline: Swagger UI (``/docs``) and ReDoc (``/redoc``) served from the package.

FastAPI's default pages load their JavaScript and CSS from a CDN (and ReDoc its fonts from Google),
so on a machine without network they are blank. This is FastAPI's documented self-hosting recipe
with the assets that the ``fastapi-offline`` package ships (Swagger UI bundle + CSS, ReDoc
standalone, a favicon): every URL the pages reference is answered by this server.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
# Under /docs/ so the API-key guard can leave the whole docs tree open with one prefix.
STATIC_PREFIX = "/docs/static"
DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
# ReDoc's sidebar draws a logo from cdn.redoc.ly and Swagger UI may fetch a validator badge: the
# pages may load images, fonts and data from this server only, so offline nothing hangs or leaks.
OFFLINE_POLICY = {
    "Content-Security-Policy": "img-src 'self' data:; font-src 'self' data:; connect-src 'self'"
}


def install(app: FastAPI) -> None:
    """Mount the assets and add the two pages; ``app`` must be built with ``docs_url=None`` and
    ``redoc_url=None`` so FastAPI does not add its CDN versions."""
    app.mount(STATIC_PREFIX, StaticFiles(directory=ASSETS), name="docs-static")
    favicon = f"{STATIC_PREFIX}/favicon.png"

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _offline(
            get_swagger_ui_html(
                openapi_url=app.openapi_url,
                title=f"{app.title} - API docs",
                oauth2_redirect_url=OAUTH2_REDIRECT_PATH,
                swagger_js_url=f"{STATIC_PREFIX}/swagger-ui-bundle.js",
                swagger_css_url=f"{STATIC_PREFIX}/swagger-ui.css",
                swagger_favicon_url=favicon,
                # No badge that sends the spec to validator.swagger.io.
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    @app.get(OAUTH2_REDIRECT_PATH, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_PATH, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _offline(
            get_redoc_html(
                openapi_url=app.openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{STATIC_PREFIX}/redoc.standalone.js",
                redoc_favicon_url=favicon,
                with_google_fonts=False,
            )
        )


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers.update(OFFLINE_POLICY)
    return page
