"""Batch-scan a corpus of articles for statements that contradict each other across articles."""

from contradict.corpus.errors import CorpusError

__all__ = ["CorpusError"]
