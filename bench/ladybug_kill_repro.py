"""Minimal reproduction, LadybugDB alone (no commgraph): what a SIGKILL during COMMIT leaves.

    python -m bench.ladybug_kill_repro            # both cases, a few kill delays each

Case "replace": a table holds 20,000 edges (v = 0). One transaction deletes them all and COPYs
1,500,000 new ones (v = 1); the process is SIGKILLed some time after it calls COMMIT. Atomicity
allows {0: 20000} (not committed) or {1: 1500000} (committed). Seen with ladybug 0.22.0: {}
(the delete kept, the COPY dropped) for kills up to ~1 s into the COMMIT.

Case "delete": a table holds 1,500,000 edges; one transaction deletes them all; SIGKILL during
COMMIT. Seen: the database cannot be opened any more ("Storage exception: Checksum verification
failed, the WAL file is corrupted.") for kills early in the COMMIT, though the COMMIT never
returned; a WAL torn by a kill should be cut back to its last complete transaction.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

N_OLD, N_NEW = 20_000, 1_500_000


def _edges(n: int, v: int):
    import numpy as np
    import pyarrow as pa

    return pa.table({"from": np.arange(n) % 1000, "to": (np.arange(n) // 1000) % 1000, "v": np.full(n, v, dtype=np.int64)})


def setup(db_path: str, n_old: int) -> None:
    import ladybug
    import numpy as np
    import pyarrow as pa

    for f in (db_path, db_path + ".wal"):
        if os.path.exists(f):
            os.remove(f)
    db = ladybug.Database(db_path)
    c = ladybug.Connection(db)
    c.execute("CREATE NODE TABLE N(id INT64, PRIMARY KEY(id))")
    c.execute("CREATE REL TABLE E(FROM N TO N, v INT64)")
    c.execute("COPY N FROM $t", {"t": pa.table({"id": np.arange(1000)})})
    c.execute("COPY E FROM $t", {"t": _edges(n_old, 0)})
    c.close()
    db.close()


def work(db_path: str, case: str) -> None:
    import ladybug

    db = ladybug.Database(db_path)
    c = ladybug.Connection(db)
    rows = _edges(N_NEW, 1) if case == "replace" else None
    c.execute("BEGIN TRANSACTION")
    c.execute("MATCH ()-[e:E]->() DELETE e")
    if rows is not None:
        c.execute("COPY E FROM $t", {"t": rows})
    print("commit", flush=True)
    c.execute("COMMIT")
    print("committed", flush=True)
    time.sleep(60)


def count(db_path: str) -> dict | str:
    import ladybug

    try:
        db = ladybug.Database(db_path)
    except RuntimeError as ex:
        return f"cannot open: {str(ex).splitlines()[0]}"
    c = ladybug.Connection(db)
    df = c.execute("MATCH ()-[e:E]->() RETURN e.v AS v, count(*) AS n ORDER BY v").get_as_df()
    c.close()
    db.close()
    return dict(zip(df["v"].tolist(), df["n"].tolist()))


def main() -> int:
    import ladybug

    print(f"ladybug {getattr(ladybug, '__version__', '?')}, Python {sys.version.split()[0]}")
    d = tempfile.mkdtemp(prefix="lbug-kill-")
    bad = 0
    for case, n_old, ok in (("replace", N_OLD, ({0: N_OLD}, {1: N_NEW})), ("delete", N_NEW, ({0: N_NEW}, {}))):
        for delay in (0.05, 0.2, 0.5, 1.0, 2.0):
            path = os.path.join(d, f"{case}.lbug")
            setup(path, n_old)
            p = subprocess.Popen([sys.executable, __file__, "work", path, case], stdout=subprocess.PIPE, text=True)
            assert p.stdout.readline().strip() == "commit"
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            rest = p.stdout.read()
            p.wait()
            got = count(path)
            verdict = "ok" if got in ok else "WRONG"
            bad += verdict != "ok"
            print(f"{case:8s} kill {delay:.2f} s after COMMIT was called (COMMIT "
                  f"{'returned' if 'committed' in rest else 'had not returned'}): {got}  {verdict}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "work":
        work(sys.argv[2], sys.argv[3])
        raise SystemExit(0)
    raise SystemExit(main())
