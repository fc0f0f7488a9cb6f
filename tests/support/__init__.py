"""Helpers the tests import (``from tests.support.models import build_tiny_model``); no fixtures here.

Fixtures stay in the conftest files; these are plain functions, classes and constants.
"""
