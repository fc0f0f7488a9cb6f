"""Tests of the corpus scan, ``contradict.corpus``: reader, segmentation, candidates, pipeline."""
