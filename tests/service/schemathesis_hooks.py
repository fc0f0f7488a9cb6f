"""schemathesis hooks (loaded by the fuzz test through SCHEMATHESIS_HOOKS): what JSON Schema cannot say.

Document ids must be unique within a request (1 and "1" are the same document); the schema says so in
words and the service answers 422 naming the repeat, but JSON Schema cannot express uniqueness of a
field across array items, so generated bodies get their repeated ids renamed. Nothing else is changed,
so invalid bodies stay invalid for the negative checks.
"""

from __future__ import annotations

from typing import Any

import schemathesis

# The routes that take documents.
DOCUMENTS_PATHS = ("/v1/documents/contradictions", "/v1/claims/stance")


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    """Every phase's cases (examples, coverage, fuzzing) pass through here."""
    if case.operation.path in DOCUMENTS_PATHS:
        unique_ids(case.body)
    return case


def unique_ids(body: Any) -> None:
    documents = body.get("documents") if isinstance(body, dict) else None
    if not isinstance(documents, list):
        return
    seen: set[str] = set()
    for number, document in enumerate(documents):
        if not isinstance(document, dict) or isinstance(document.get("id"), bool):
            continue
        if isinstance(document.get("id"), str | int):
            key = str(document["id"])
            if key in seen:
                fresh = f"doc-{number}"
                while fresh in seen:
                    fresh += "x"
                document["id"] = key = fresh
            seen.add(key)
