"""One logging set-up for every training command: timestamps and logger names on stderr, so a
long CPU run's log reads the same whichever script wrote it."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=level,
        handlers=[logging.StreamHandler(sys.stderr)],
    )
