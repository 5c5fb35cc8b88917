"""Fuzz the input formats with mutants of the real fixtures (tests/data).

    python -m bench.fuzz --mutants 2000            # per format; prints the counts per format
    python -m bench.fuzz --mutants 200 --seed 7 --formats liana,cellchat --store-every 20

Each mutant is one to three seeded edits of a fixture's bytes or cells: NUL and non-UTF-8 bytes,
stray quotes, cuts at any offset, deleted or doubled or swapped lines, blank lines, a BOM, CRLF,
renamed, doubled, dropped or added columns, and cells replaced by hostile values (-1, 1e308, inf,
NaN, NA, None, empty, text, separators, quotes, padding, non-ASCII). ``commgraph.formats.read``
must then either

- **reject** it with one :class:`commgraph.errors.CommgraphError` whose message is one line and
  names the file (most also name the column and row), or
- **load** it *correctly*: the loaded rows equal what an independent ``pandas.read_csv`` of the
  mutant says (long formats: the multiset of sender, receiver, ligand, receptor[, sample], score
  and p-value; CellPhoneDB: of interaction id, cell-type pair, mean and p-value, and the number of
  relevant cells for method 3);

never raise anything else (``crash``) and never load rows that differ (``garbage``). Every
``--store-every``-th mutant also goes through ``commgraph.load`` into an embedded store holding the
original run: a reject must leave the store's runs, load ids, CellStates and SIGNALS unchanged
(``store_changed`` otherwise), a load must leave exactly the read rows.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
CSV_MAP = "source=source,target=target,ligand=ligand,receptor=receptor,prob=score,pval=pvalue,pathway_name=pathway"

# format -> fixtures: (the file or folder read, options)
FIXTURES: dict[str, list[tuple[Path, dict]]] = {
    "liana": [(DATA / "liana" / "rank_aggregate.csv", {}), (DATA / "liana" / "by_sample.csv", {}),
              (DATA / "liana" / "cellphonedb.csv", {})],
    "cellchat": [(DATA / "cellchat" / "subset_communication.csv", {})],
    "csv": [(DATA / "cellchat" / "subset_communication.csv", {"columns": CSV_MAP})],
    "cellphonedb": [(DATA / "cellphonedb", {})],
    "cellphonedb_deg": [(DATA / "cellphonedb_deg", {})],
}
HOSTILE = ["-1", "1e308", "-1e308", "inf", "-inf", "nan", "NaN", "NA", "None", "null", "", " ", "abc", "1.2.3", "0",
           "1", "2", "0.5", "1e-300", "-0", '"', '""', 'x"y', '"quoted"', "\t", ",", ";", "A|B", "A^B", "A\\B",
           " padded ", "é中", "x" * 300, "0x10", "1_000", "+0.5", ".5", "5.", "TRUE", "#N/A"]


@dataclass
class Outcome:
    counts: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)  # outcome -> first (mutations, message)

    def add(self, kind: str, detail: str) -> None:
        self.counts[kind] += 1
        self.examples.setdefault(kind, detail)


# --- mutations (bytes in, bytes out) -----------------------------------------------------------


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def mutate(data: bytes, sep: bytes, rng: np.random.Generator) -> tuple[bytes, list[str]]:
    done = []
    for _ in range(int(rng.integers(1, 4))):
        op = OPS[int(rng.integers(len(OPS)))]
        try:
            data = op(data, sep, rng)
        except (ValueError, IndexError):  # an edit that needs more lines or bytes than a cut left
            continue
        done.append(op.__name__)
    return data, done


def nul(d, sep, rng):
    i = int(rng.integers(len(d) + 1))
    return d[:i] + b"\0" + d[i:]


def high_byte(d, sep, rng):
    i = int(rng.integers(len(d) + 1))
    return d[:i] + bytes([int(rng.choice([0x80, 0xC3, 0xE9, 0xFF, 0x01, 0x0D, 0x1B]))]) + d[i:]


def cut(d, sep, rng):
    return d[: int(rng.integers(1, len(d)))]


def quote(d, sep, rng):
    i = int(rng.integers(len(d) + 1))
    return d[:i] + b'"' + d[i:]


def delete_span(d, sep, rng):
    i = int(rng.integers(len(d)))
    return d[:i] + d[i + int(rng.integers(1, 40)):]


def double_line(d, sep, rng):
    ls = _lines(d)
    i = int(rng.integers(1, max(2, len(ls) - 1)))
    return b"\n".join(ls[: i + 1] + [ls[i]] + ls[i + 1:])


def delete_line(d, sep, rng):
    ls = _lines(d)
    if len(ls) < 4:
        return d
    i = int(rng.integers(1, len(ls) - 1))
    return b"\n".join(ls[:i] + ls[i + 1:])


def swap_lines(d, sep, rng):
    ls = _lines(d)
    if len(ls) < 4:
        return d
    i, j = (int(x) for x in rng.integers(1, len(ls) - 1, 2))
    ls[i], ls[j] = ls[j], ls[i]
    return b"\n".join(ls)


def blank_line(d, sep, rng):
    ls = _lines(d)
    i = int(rng.integers(1, len(ls)))
    return b"\n".join(ls[:i] + [b""] + ls[i:])


def bom(d, sep, rng):
    return b"\xef\xbb\xbf" + d


def crlf(d, sep, rng):
    return d.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def header_dup(d, sep, rng):
    ls = _lines(d)
    names = ls[0].split(sep)
    i, j = (int(x) for x in rng.integers(0, len(names), 2))
    names[i] = names[j]
    return b"\n".join([sep.join(names)] + ls[1:])


def header_rename(d, sep, rng):
    ls = _lines(d)
    names = ls[0].split(sep)
    i = int(rng.integers(len(names)))
    names[i] = names[i][: int(rng.integers(len(names[i]) + 1))] + rng.choice([b"", b"_x", b"|", b" "])
    return b"\n".join([sep.join(names)] + ls[1:])


def drop_column(d, sep, rng):
    ls = _lines(d)
    j = int(rng.integers(len(ls[0].split(sep))))
    out = []
    for line in ls:
        cells = line.split(sep)
        out.append(sep.join(cells[:j] + cells[j + 1:]) if len(cells) > j else line)
    return b"\n".join(out)


def add_column(d, sep, rng):
    ls = _lines(d)
    which = rng.choice(["header", "rows", "both"])
    out = []
    for k, line in enumerate(ls):
        if line and ((k == 0 and which != "rows") or (k > 0 and which != "header")):
            line = line + sep + (b"extra" if k == 0 else b"1")
        out.append(line)
    return b"\n".join(out)


def set_cell(d, sep, rng):
    ls = _lines(d)
    rows = [k for k in range(1, len(ls)) if ls[k]]
    if not rows:
        return d
    k = int(rng.choice(rows))
    cells = ls[k].split(sep)
    j = int(rng.integers(len(cells)))
    value = str(rng.choice(HOSTILE)).encode()
    cells[j] = value if rng.random() < 0.8 else cells[j] + value
    ls[k] = sep.join(cells)
    return b"\n".join(ls)


def swap_cells(d, sep, rng):
    ls = _lines(d)
    k = int(rng.integers(1, max(2, len(ls) - 1)))
    cells = ls[k].split(sep)
    if len(cells) < 2:
        return d
    i, j = (int(x) for x in rng.integers(0, len(cells), 2))
    cells[i], cells[j] = cells[j], cells[i]
    ls[k] = sep.join(cells)
    return b"\n".join(ls)


OPS = [nul, high_byte, cut, quote, delete_span, double_line, delete_line, swap_lines, blank_line, bom, crlf,
       header_dup, header_rename, drop_column, add_column, set_cell, set_cell, set_cell, swap_cells]


# --- the independent reading -------------------------------------------------------------------


def _frame(path: Path, sep: str) -> pd.DataFrame:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return pd.read_csv(io.BytesIO(data), sep=sep, dtype=str, keep_default_na=False)


def _num(x: str) -> float:
    x = x.strip()
    if x.upper() in ("", "NA", "NAN", "NULL", "NONE", "N/A", "#N/A", "<NA>", "-NAN", "NAN"):
        return float("nan")
    return float(x)


def _r(x) -> object:
    x = float(x)
    return "nan" if np.isnan(x) else float(f"{x:.9g}")


def _subunits(name: str) -> str:
    parts = sorted({p.strip() for p in str(name).split("_") if p.strip()})
    return "_".join(parts) if parts else str(name)


def expected_long(fmt: str, path: Path, options: dict, table: pd.DataFrame) -> Counter:
    """What pandas says the mutant holds: (source, target, ligand, receptor, sample, score, pvalue)."""
    from commgraph.formats import FORMATS
    from commgraph.formats.cellchat import complex_subunits
    from commgraph._resources import resource_dir

    df = _frame(path, ",")
    if fmt == "liana":
        method = str(table["method"].iloc[0]).split(":", 1)[1]
        spec = FORMATS["liana"].methods[method]
        raw = df[spec["score_column"]].map(_num)
        score = 1 - raw if spec["transform"] == "one_minus" else raw
        pvalue = df[spec["pvalue_column"]].map(_num) if spec["pvalue_column"] else pd.Series(np.nan, index=df.index)
        lig, rec = df["ligand_complex"].map(_subunits), df["receptor_complex"].map(_subunits)
        sample = df["sample"].str.strip() if "sample" in df.columns else pd.Series("", index=df.index)
    else:
        if df.columns[0] in ("", "Unnamed: 0") or str(df.columns[0]).startswith("Unnamed: 0"):
            df = df.iloc[:, 1:]
        score, pvalue = df["prob"].map(_num), df["pval"].map(_num)
        if fmt == "cellchat":
            sub = complex_subunits(resource_dir("loaders") / FORMATS["cellchat"].complexes)
            lig = df["ligand"].str.strip().map(lambda x: sub.get(x, x))
            rec = df["receptor"].str.strip().map(lambda x: sub.get(x, x))
        else:
            lig, rec = df["ligand"].map(_subunits), df["receptor"].map(_subunits)
        sample = pd.Series("", index=df.index)
    return Counter(zip(df["source"].str.strip(), df["target"].str.strip(), lig, rec, sample, map(_r, score),
                       map(_r, pvalue)))


def loaded_long(table: pd.DataFrame) -> Counter:
    sample = table["sample"].astype(object).where(table["sample"].notna(), "")
    return Counter(zip(table["source"].astype(str), table["target"].astype(str), table["ligand"].astype(str),
                       table["receptor"].astype(str), sample.astype(str), map(_r, table["score"]),
                       map(_r, table["pvalue"])))


def _wide_cells(path: Path) -> dict[tuple, str]:
    from commgraph.formats._cpdb_files import ANNOTATION_COLUMNS

    df = _frame(path, "\t")
    pairs = [c for c in df.columns if c not in ANNOTATION_COLUMNS]
    out = {}
    for c in pairs:
        a, b = (s.strip() for s in c.split("|"))
        for i, v in zip(df["id_cp_interaction"], df[c]):
            out[(i, a, b)] = v
    return out


def expected_wide(fmt: str, folder: Path) -> tuple[Counter, int | None]:
    means = _wide_cells(next(folder.glob("*_means_*.txt")))
    if fmt == "cellphonedb":
        p = _wide_cells(next(folder.glob("*_pvalues_*.txt")))
        rows = Counter((i, frozenset((a, b)), _r(_num(v)), _r(_num(p[(i, a, b)]))) for (i, a, b), v in means.items())
        return rows, None
    rel = _wide_cells(next(folder.glob("*_relevant_interactions_*.txt")))
    n_relevant = sum(1 for k, v in rel.items() if k in means and _num(v) == 1)
    rows = Counter((i, frozenset((a, b)), _r(_num(v)), "nan") for (i, a, b), v in means.items())
    return rows, n_relevant


def loaded_wide(table: pd.DataFrame) -> Counter:
    ids = [json.loads(x)["id_cp_interaction"] for x in table["extra"].astype(str)]
    return Counter((i, frozenset((s, t)), _r(v), _r(p)) for i, s, t, v, p in
                   zip(ids, table["source"].astype(str), table["target"].astype(str), table["score"], table["pvalue"]))


CONTROL = {chr(c) for c in range(32)} - {"\t"} | {'"'}


def garbage_reason(fmt: str, source: Path, table: pd.DataFrame) -> str | None:
    """What makes a load garbage even when pandas reads the mutant the same way: a file cut short
    (no line break at its end), a name twice in a header, a name holding a quote, NUL or control
    character that no quoted field of the file explains, a score outside the format's range."""
    from commgraph.formats import FORMATS

    files = [Path(f) for f in str(table["source_files"].iloc[0]).split(";")]  # what the reader read
    for f in files:
        data = f.read_bytes()
        if data.strip() and not data.endswith(b"\n"):
            return f"{f.name} was cut inside its last line and loaded"
        sep = "\t" if source.is_dir() else ","
        head = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")
        names = next(iter(__import__("csv").reader([head], delimiter=sep)), [])
        if len(set(names)) != len(names):
            return f"{f.name} has a name twice in its header and loaded"
    text = b"".join(f.read_bytes() for f in files).decode("utf-8", "replace")
    for col in ("source", "target", "ligand", "receptor", "sample"):
        for name in table[col].dropna().astype(str).unique():
            bad = set(name) & CONTROL
            if bad and not (bad == {'"'} and ('"' + name.replace('"', '""')) in text):
                return f"{col} {name!r} holds {sorted(bad)!r} and loaded"
    if fmt == "liana":
        spec = FORMATS["liana"].methods[str(table["method"].iloc[0]).split(":", 1)[1]]
        valid, raw = spec.get("range"), (1 - table["score"] if spec["transform"] == "one_minus" else table["score"])
    else:
        valid, raw = FORMATS[fmt].score.get("range"), table["score"]
    low, high = valid if valid else (None, None)
    if (low is not None and (raw < low - 1e-12).any()) or (high is not None and (raw > high + 1e-12).any()):
        return f"a score outside the declared range {valid} loaded"
    return None


# --- one mutant -----------------------------------------------------------------------------------


def _snapshot(store) -> tuple:
    runs = store.cypher("MATCH (r:Run) RETURN r.run_id AS run_id, r.load_id AS load_id, r.n_rows AS n")
    n = store.cypher("MATCH ()-[r:SIGNALS]->() RETURN count(r) AS n")["n"].iloc[0]
    states = store.cell_states()
    return (tuple(sorted(map(tuple, runs.astype(str).to_numpy()))), tuple(sorted(states["key"])), int(n))


def check_one(fmt: str, source: Path, mutated: Path, options: dict, mutations: list[str], outcome: Outcome,
              store=None) -> str:
    """Read the mutant (and load it into ``store`` when given); record and return the outcome."""
    from commgraph.errors import CommgraphError
    from commgraph.formats import read

    detail = f"{fmt} {mutated.name}: {'+'.join(mutations)}"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = read(fmt, source, day=0, **options)
    except CommgraphError as ex:
        msg = str(ex)
        if "\n" in msg or "np.float64" in msg or str(source) not in msg:
            outcome.add("bad_message", f"{detail}: {msg}")
            return "bad_message"
        kind = "reject_row" if "row " in msg else "reject_file"
        outcome.add(kind, f"{detail}: {msg}")
        if store is not None:
            before = _snapshot(store)
            try:
                import commgraph as cg

                cg.load(store, fmt, source, day=0, **options)
                outcome.add("store_loaded_a_reject", detail)
                return "store_loaded_a_reject"
            except CommgraphError:
                pass
            if _snapshot(store) != before:
                outcome.add("store_changed", detail)
                return "store_changed"
        return kind
    except Exception as ex:  # noqa: BLE001 - what the fuzz test exists to catch
        outcome.add("crash", f"{detail}: {type(ex).__name__}: {ex}")
        return "crash"
    merged = any("same ligand-receptor pair" in str(w.message) for w in caught)
    try:
        if fmt in ("cellphonedb", "cellphonedb_deg"):
            want, n_relevant = expected_wide(fmt, source)
            got = loaded_wide(table)
            ok = (got <= want) if merged else (got == want)
            if n_relevant is not None and not merged:
                ok = ok and int(table["significant"].sum()) == n_relevant
        else:
            want, got = expected_long(fmt, mutated, options, table), loaded_long(table)
            ok = (got <= want) if merged else (got == want)
    except Exception as ex:  # noqa: BLE001 - pandas reads it another way, or not at all: not a correct load
        outcome.add("garbage", f"{detail}: the independent read failed: {type(ex).__name__}: {ex}")
        return "garbage"
    if not ok:
        diff = list((got - want).items())[:2] or list((want - got).items())[:2]
        outcome.add("garbage", f"{detail}: rows differ from pandas, e.g. {diff}")
        return "garbage"
    reason = garbage_reason(fmt, source, table)
    if reason:
        outcome.add("garbage", f"{detail}: {reason}")
        return "garbage"
    outcome.add("load", detail)
    if store is not None:
        import commgraph as cg

        cg.load(store, fmt, source, day=0, **options)
        if len(store.signals(str(table["run_id"].iloc[0]))) != len(table):
            outcome.add("store_garbage", detail)
            return "store_garbage"
    return "load"


def fuzz(fmt: str, n: int, *, seed: int = 0, store_every: int = 0, workdir: Path | None = None) -> Outcome:
    """``n`` mutants of ``fmt``'s fixtures; returns the outcome counts."""
    rng = np.random.default_rng([seed, sorted(FIXTURES).index(fmt)])
    outcome = Outcome()
    own = workdir is None
    work = Path(tempfile.mkdtemp(prefix=f"fuzz-{fmt}-")) if own else workdir / fmt
    work.mkdir(parents=True, exist_ok=True)
    store = None
    try:
        if store_every:
            import commgraph as cg

            store = cg.connect(work / "store.lbug")
            first, opts = FIXTURES[fmt][0]
            cg.load(store, fmt, first, day=0, **opts)
        for k in range(n):
            fixture, options = FIXTURES[fmt][k % len(FIXTURES[fmt])]
            case = work / f"m{k}"
            shutil.rmtree(case, ignore_errors=True)
            if fixture.is_dir():
                shutil.copytree(fixture, case)
                files = sorted(case.iterdir())
                target = files[0] if rng.random() < 0.5 else files[int(rng.integers(len(files)))]
                target = next(case.glob("*_means_*")) if rng.random() < 0.5 else target
                source, sep = case, b"\t"
            else:
                case.mkdir()
                target = source = case / fixture.name
                shutil.copy(fixture, target)
                sep = b","
            data, done = mutate(target.read_bytes(), sep, rng)
            target.write_bytes(data)
            use_store = store if store_every and k % store_every == 0 else None
            if use_store is not None and fixture != FIXTURES[fmt][0][0]:
                use_store = None  # the store holds the first fixture's run: compare like with like
            check_one(fmt, source, target, options, done, outcome, store=use_store)
            if store is not None and use_store is not None:  # back to the original run for the next check
                import commgraph as cg

                cg.load(store, fmt, FIXTURES[fmt][0][0], day=0, **FIXTURES[fmt][0][1])
            shutil.rmtree(case, ignore_errors=True)
    finally:
        if store is not None:
            store.close()
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return outcome


FAILURES = ("crash", "garbage", "bad_message", "store_changed", "store_loaded_a_reject", "store_garbage")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n\n")[0])
    ap.add_argument("--mutants", type=int, default=2000, help="mutants per format (default 2000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--formats", default=",".join(FIXTURES), help="comma-separated (default: all)")
    ap.add_argument("--store-every", type=int, default=25, help="every Nth mutant also goes through a store (0: never)")
    args = ap.parse_args(argv)
    total = Counter()
    bad = 0
    print(f"| format | mutants | load | reject (row named) | reject (file only) | crash | garbage | bad message | store changed | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for fmt in args.formats.split(","):
        t0 = time.perf_counter()
        out = fuzz(fmt, args.mutants, seed=args.seed, store_every=args.store_every)
        c = out.counts
        total.update(c)
        print(f"| {fmt} | {args.mutants} | {c['load']} | {c['reject_row']} | {c['reject_file']} | {c['crash']} | "
              f"{c['garbage']} | {c['bad_message']} | {c['store_changed'] + c['store_loaded_a_reject'] + c['store_garbage']} | "
              f"{time.perf_counter() - t0:.0f} |", flush=True)
        for kind in FAILURES:
            if c[kind]:
                bad += c[kind]
                print(f"  {kind}: {out.examples[kind]}", file=sys.stderr)
    print(f"\ntotal: {dict(total)}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
