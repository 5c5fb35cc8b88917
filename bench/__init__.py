"""Benchmarks for commgraph: loading, querying and the demo at study scale (``python -m bench``).

``bench.generate`` makes the data (seeded, cached in ``bench/.cache/``); ``bench.run`` measures
and writes ``bench/results.md``. See ``bench/README.md``.
"""
