"""Loading runs into a store: one run, or every run a study manifest lists.

A manifest (CSV, or YAML with a ``runs:`` list) has one line per run:

    path, format, day, group, sample, patient, run_id, options, cell_counts, time_unit, time_label

``path`` and ``cell_counts`` are relative to the manifest; ``options`` is a JSON object (CSV)
or a mapping (YAML) passed to the format's parser; path, format and day are required, except
that a long table whose options name a ``time_col`` has no day. ``day`` is a number in the run's
``time_unit`` (day by default; hour, week, condition) or a text such as ``4h`` or ``LPS 4h``;
``time_label`` names the timepoint. With ``time_unit`` condition, ``day`` holds the condition's
name; conditions are numbered in the order the manifest first lists them. A YAML manifest may set
the study's unit once, at the top (``time_unit: hour`` beside ``runs:``).
``patient`` names the patient a sample came from, so that a patient's days pair up in
:func:`commgraph.differential`; a run with a sample's counts keeps them per sample.
Every run is read and validated before anything is written, so a bad line leaves the
store as it was.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import _schema as S
from ._graph import join_runs, per_sample
from ._progress import track
from .errors import InputError
from .stores import Store, connect

MANIFEST_COLUMNS = ("path", "format", "day", "group", "sample", "patient", "run_id", "options", "cell_counts",
                    "sample_sheet", "time_unit", "time_label")
MANIFEST_REQUIRED = ("path", "format")
KEEP_IN_MEMORY = 5_000_000  # rows; above this a manifest's runs are read twice, not held


@dataclass
class RunSpec:
    """One line of a manifest: what to read and where it sits in the study."""

    path: str
    format: str
    day: int | str | None
    group: str = S.NO_GROUP
    sample: str | None = None
    patient: str | None = None
    run_id: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    cell_counts: str | None = None
    sample_sheet: str | None = None  # the study's sample sheet (clinical values), loaded after the runs
    where: str = ""  # "manifest.csv, row 3" for errors
    time_unit: str | None = None
    time_label: str | None = None
    time_order: list[str] | None = None  # the study's conditions, in order

    def read(self) -> pd.DataFrame:
        from .formats import read

        time = {k: v for k, v in (("time_unit", self.time_unit), ("time_label", self.time_label),
                                  ("time_order", self.time_order)) if v is not None}
        try:
            return read(self.format, self.path, day=self.day, group=self.group, sample=self.sample,
                        patient=self.patient, run_id=self.run_id, **time, **self.options)
        except InputError as ex:
            if self.where and self.where not in str(ex):
                raise InputError(f"{ex} (run listed at {self.where})") from None
            raise

    def counts(self) -> pd.DataFrame | None:
        if not self.cell_counts:
            return None
        if self.day is None:
            raise InputError("cell counts of a long table (a time column) can't be given per manifest line",
                             file=self.where, column="cell_counts")
        day = self.day
        if not isinstance(day, int):
            from ._time import CONDITION, parse_time, unit_name

            day = (self.time_order.index(str(day).strip()) if unit_name(self.time_unit) == CONDITION
                   else parse_time(day, self.time_unit)[0])
        return read_cell_counts(self.cell_counts, day=day, group=self.group, sample=self.sample,
                                patient=self.patient)


def read_cell_counts(path: str | os.PathLike, *, day: int, group: str, sample: str | None = None,
                     patient: str | None = None) -> pd.DataFrame:
    """A cell_type,n_cells CSV (as ``commgraph infer`` writes) for one day and group; with a
    ``sample`` the counts are that sample's (kept per sample, pooled on the CellStates)."""
    path = str(path)
    if not os.path.exists(path):
        raise InputError("cell-count file not found", file=path)
    from .formats import read_delimited

    df = read_delimited(Path(path), sep=",", names=(S.CELL_TYPE_PROP,), what="cell-count file")  # "NA" is a name
    for col in (S.CELL_TYPE_PROP, S.N_CELLS):
        if col not in df.columns:
            raise InputError(f"missing column {col!r} (want {S.CELL_TYPE_PROP},{S.N_CELLS})", file=path, column=col)
    n = pd.to_numeric(df[S.N_CELLS], errors="coerce")
    bad = n.isna() | (n < 0) | (n != n.round()) | (n >= 2**63)  # a whole number that fits int64
    if bad.any():
        raise InputError("not a cell count", file=path, column=S.N_CELLS, row=int(bad.to_numpy().argmax()) + 1)
    out = pd.DataFrame({S.CELL_TYPE_PROP: df[S.CELL_TYPE_PROP].astype(str).str.strip(), S.DAY: int(day), S.GROUP: str(group),
                        S.N_CELLS: n.astype("int64")})
    if sample is not None:
        out[S.SAMPLE] = str(sample)
        out[S.PATIENT] = str(patient) if patient is not None else None
    return out


def read_manifest(path: str | os.PathLike) -> list[RunSpec]:
    """The runs a manifest lists, checked (files exist, days are numbers, no duplicate runs)."""
    path = Path(path)
    if not path.exists():
        raise InputError("manifest not found", file=str(path))
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        doc = yaml.safe_load(path.read_text()) or {}
        rows = doc.get("runs", []) if isinstance(doc, dict) else doc
        if not isinstance(rows, list):
            raise InputError("a YAML manifest holds a list 'runs:' of mappings", file=str(path))
        table = pd.DataFrame(rows)
        study_unit = doc.get("time_unit") if isinstance(doc, dict) else None  # the study's unit, for every run
        if study_unit is not None and not table.empty:
            if "time_unit" not in table.columns:
                table["time_unit"] = study_unit
            else:
                table["time_unit"] = table["time_unit"].where(table["time_unit"].notna(), study_unit)
    else:
        try:
            table = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)
        except pd.errors.EmptyDataError:
            raise InputError("the manifest is empty", file=str(path)) from None
    if table.empty:
        raise InputError("the manifest lists no runs", file=str(path))
    if "tool" in table.columns and "format" not in table.columns:
        table = table.rename(columns={"tool": "format"})
    for col in MANIFEST_REQUIRED:
        if col not in table.columns:
            raise InputError(f"missing column {col!r} (columns: {', '.join(MANIFEST_COLUMNS)})", file=str(path), column=col)
    unknown = [c for c in table.columns if c not in MANIFEST_COLUMNS]
    if unknown:
        raise InputError(f"unknown column {unknown[0]!r} (columns: {', '.join(MANIFEST_COLUMNS)})", file=str(path),
                         column=unknown[0])

    from ._time import CONDITION, parse_time, unit_name
    from .formats import FORMATS, check_day

    base = path.parent
    specs = []
    conditions: list[str] = []
    for i, row in enumerate(table.to_dict("records"), start=1):
        def val(col):
            v = row.get(col)
            return None if v is None or (isinstance(v, float) and pd.isna(v)) or str(v).strip() == "" else v

        def fail(col, msg):
            raise InputError(msg, file=str(path), column=col, row=i)

        fmt = str(val("format") or "")
        if fmt not in FORMATS:
            fail("format", f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
        if val("path") is None:
            fail("path", "no path")
        run_path = base / str(val("path"))
        if not run_path.exists():
            fail("path", f"{run_path} does not exist")
        options = val("options") or {}
        if isinstance(options, str):
            try:
                options = json.loads(options)
            except json.JSONDecodeError as ex:
                fail("options", f"options are not a JSON object: {ex}")
        if not isinstance(options, dict):
            fail("options", "options must be a mapping")
        try:
            unit = unit_name(val("time_unit"))
        except InputError as ex:
            fail("time_unit", ex.message)
        day = val("day")
        if day is None and "time_col" not in options:
            fail("day", "no day (give the run's day or time, or a time_col option for a long table)")
        if day is not None and unit != CONDITION:
            try:
                number, unit, label = parse_time(day, unit if val("time_unit") is not None else None)
                check_day(number)  # the stores hold 64-bit integers
            except InputError as ex:
                if "names no number" in ex.message:
                    try:  # a plain number parse_time doesn't write that way (1e30): whole, in range?
                        check_day(day)
                    except InputError as bad:
                        ex = bad
                fail("day", ex.message)
            day = number if label is None else str(day).strip()  # read() takes the label from the text
        elif day is not None:
            conditions.append(str(day).strip())
        counts = val("cell_counts")
        if counts is not None and not (base / str(counts)).exists():
            fail("cell_counts", f"{base / str(counts)} does not exist")
        sheet = val("sample_sheet")
        if sheet is not None and not (base / str(sheet)).exists():
            fail("sample_sheet", f"{base / str(sheet)} does not exist")
        specs.append(
            RunSpec(path=str(run_path), format=fmt, day=day, group=str(val("group") or S.NO_GROUP),
                    time_unit=unit if (val("time_unit") is not None or unit != "day") else None,
                    time_label=None if val("time_label") is None else str(val("time_label")),
                    sample=None if val("sample") is None else str(val("sample")),
                    patient=None if val("patient") is None else str(val("patient")),
                    run_id=None if val("run_id") is None else str(val("run_id")), options=options,
                    cell_counts=None if counts is None else str(base / str(counts)),
                    sample_sheet=None if sheet is None else str(base / str(sheet)), where=f"{path}, row {i}")
        )
    if conditions:  # one numbering of the study's conditions: the order the manifest lists them
        order = list(dict.fromkeys(conditions))
        for spec in specs:
            if spec.time_unit == CONDITION:
                spec.time_order = order
    return specs


def load(store: Store | str | os.PathLike | None, format: str, source, *, day: int | str | None = None,
         group: str = S.NO_GROUP,
         sample: str | None = None, patient: str | None = None, run_id: str | None = None,
         cell_counts: pd.DataFrame | str | None = None, chunk_rows: int | None = None, **options) -> pd.DataFrame:
    """Read one run (see :func:`commgraph.read`) and load it; returns the loaded run(s).
    ``chunk_rows``: see :meth:`Store.load`.

    >>> cg.load("study.lbug", "cellphonedb", "out/day7_high", day=7, group="high")  # doctest: +SKIP
    """
    from ._time import CONDITION, unit_name
    from .formats import read

    with _opened(store) as st:
        if (unit_name(options.get("time_unit")) == CONDITION and isinstance(day, str) and not day.strip().isdigit()
                and options.get("time_order") is None):
            # a condition loaded on its own: the number the store gives it, or the next one
            known = {v: k for k, v in st.time_labels().items()} if st.time_unit() == CONDITION else {}
            label = day.strip()
            day = known.get(label, max(known.values(), default=-1) + 1)
            options.setdefault("time_label", label)
        table = read(format, source, day=day, group=group, sample=sample, patient=patient, run_id=run_id, **options)
        if isinstance(cell_counts, (str, os.PathLike)):
            days = table[S.DAY].unique()
            if len(days) != 1:
                raise InputError("cell counts go with one run: this table holds several timepoints", column="cell_counts")
            cell_counts = read_cell_counts(cell_counts, day=int(days[0]), group=group, sample=sample, patient=patient)
        runs = st.load(table, cell_counts=cell_counts, chunk_rows=chunk_rows)
    runs.attrs["notes"] = list(table.attrs.get("notes", []))
    return runs


def load_manifest(store: Store | str | os.PathLike | None, manifest: str | os.PathLike, *,
                  progress: bool = True, chunk_rows: int | None = None) -> pd.DataFrame:
    """Load every run a manifest lists; nothing is written unless every run reads cleanly.
    Written in parts of up to ``chunk_rows`` rows (see :meth:`Store.load_many`), the runs of one
    day × group together."""
    specs = read_manifest(manifest)
    seen: dict[str, str] = {}
    tables: list[pd.DataFrame | None] = []
    held = 0
    for spec in track(specs, description="reading runs", show=progress):
        table = spec.read()
        for run_id in table[S.RUN_ID].unique():
            if run_id in seen:
                raise InputError(f"run {run_id!r} is listed twice (also at {seen[run_id]})", file=spec.where)
            seen[run_id] = spec.where
        spec.counts()  # checked now, not half-way through writing
        held += len(table)
        tables.append(table if held <= KEEP_IN_MEMORY else None)
    sheets = sorted({s.sample_sheet for s in specs if s.sample_sheet})
    if len(sheets) > 1:
        raise InputError(f"the manifest names {len(sheets)} sample sheets ({', '.join(sheets)}): one per study",
                         file=str(manifest), column="sample_sheet")
    if sheets:
        from ._samples import read_sample_sheet

        read_sample_sheet(sheets[0])  # checked before anything is written
    loaded = []
    notes = _manifest_notes(tables)  # now: the tables held are let go as they are written
    with _opened(store) as st:
        together = _joined_runs(specs, tables)
        if together is not None:  # the usual study: one table, one load, one switch (written in parts)
            tables.clear()
            loaded.append(st.load(together[0], cell_counts=together[1], chunk_rows=chunk_rows))
        else:  # too large to hold at once, or pooled and per-sample counts mixed: written run by run,
            # still one load: every run becomes visible in one switch, or none does
            def items():
                for i in track(_split_order(specs), description="loading runs", show=progress):
                    table, tables[i] = tables[i], None  # held or read again; dropped once written
                    yield (table if table is not None else specs[i].read()), specs[i].counts()
                    del table

            loaded.append(st.load_many(items(), chunk_rows=chunk_rows))
        if sheets:
            st.load_samples(sheets[0])
    runs = pd.concat(loaded, ignore_index=True)
    runs.attrs["notes"] = notes
    return runs


def _manifest_notes(tables: list[pd.DataFrame | None]) -> list[str]:
    """Each run's reader notes but the pathway coverage, which is given once for the whole study."""
    from .formats import coverage_note

    notes, known, total = [], 0, 0
    for t in tables:
        if t is None:
            continue
        notes += [n for n in t.attrs.get("notes", []) if not n.startswith("pathway known")]
        k, n = t.attrs.get("pathway_rows", (0, 0))
        known, total = known + k, total + n
    return list(dict.fromkeys(notes)) + ([coverage_note(known, total)] if total else [])


def _joined_runs(specs: list[RunSpec], tables: list[pd.DataFrame | None]) -> tuple[pd.DataFrame, pd.DataFrame | None] | None:
    """Every run's rows and counts as one load, when they are all held and their counts are all
    per sample or all pooled (a pooled day × group's counts are set, a sample's are kept apart)."""
    if len(specs) < 2 or any(t is None for t in tables):
        return None
    counts = [spec.counts() for spec in specs]
    if len({per_sample(c) for c in counts if c is not None}) > 1:
        return None
    return join_runs(list(zip(tables, counts)))


def _split_order(specs: list[RunSpec]) -> list[int]:
    """The manifest's lines in day × group order (a long table's, whose day is in the file, last):
    a load written in parts puts the runs of one split together (see ``_graph.run_chunks``)."""
    return sorted(range(len(specs)), key=lambda i: (specs[i].day is None, str(specs[i].day), specs[i].group))


class _opened:
    """Use a Store as given, or open (and close) one from a URI."""

    def __init__(self, store):
        self.given = isinstance(store, Store)
        self.store = store if self.given else connect(store)

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *exc):
        if not self.given:
            self.store.close()
