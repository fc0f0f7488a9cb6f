"""HTTP service: FastAPI app, cross-request dynamic batching, metrics.

Entry points: :func:`service.app.create_app` (an ASGI app for tests and embedding) and
:func:`service.server.run` (what ``contradict serve`` calls).
"""
