"""Benchmarks for commgraph: loading, querying and the demo at study scale (``python -m bench``).

``bench.generate`` makes the data (seeded, cached in ``bench/.cache/``); ``bench.run`` measures
and writes ``bench/results.md``. See ``bench/README.md``.

``COMMGRAPH_BENCH_PATH=/other/checkout`` benchmarks the commgraph package of another copy (an
A/B of a fix): it goes first on ``sys.path``, ahead of this checkout, here and in every child.
"""

import os as _os
import sys as _sys

_other = _os.environ.get("COMMGRAPH_BENCH_PATH")
if _other and _other not in _sys.path[:1]:
    _sys.path.insert(0, _other)
