"""Tests of the HTTP service, ``service``: the pairs and documents routes, the batcher."""
