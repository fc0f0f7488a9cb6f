"""Tests of ``training``: data sources, training, calibration, export, teacher, behaviour suite."""
