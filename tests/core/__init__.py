"""Tests of the core package ``contradict``: scorer, labels, settings, records, CLI and pair reading."""
