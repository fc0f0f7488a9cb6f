"""The one error type a user can fix by changing the corpus or its arguments."""

from __future__ import annotations


class CorpusError(ValueError):
    """Bad corpus input, located by file and (when known) 1-based line so the user can find it."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None):
        self.message = message
        self.file = file
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        return f"{where}: {self.message}" if where else self.message
