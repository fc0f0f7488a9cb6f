"""The one error type a user can fix by changing the corpus or its arguments.

It is :class:`contradict.records.RecordError` (located as ``file, line N: reason``) under the name the
corpus code and its callers use.
"""

from __future__ import annotations

from contradict.records import RecordError

CorpusError = RecordError
