"""The test suite, a package so that helpers import as ``tests.support...`` (run from the repo root).

Layout mirrors the source: ``core/`` (contradict's scorer, labels, settings, records, CLI),
``corpus/`` (contradict.corpus), ``service/`` (the FastAPI app), ``training/``; helpers live in
``support/``, fixtures in the conftest files, fixture data in ``fixtures/``.
"""
