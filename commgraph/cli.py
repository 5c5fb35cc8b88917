"""The ``commgraph`` command. No logic lives here: each command calls one public function."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from . import _schema as S
from .errors import CommgraphError, HintWarning, InputError
from .stores import DEFAULT_DB, ENV_DB

try:  # typer >= 0.24 carries its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer on click itself
    from click import exceptions as click_errors

app = typer.Typer(
    help="Cell–cell communication graph database: load ligand–receptor runs by day and group, then ask.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

DbOpt = Annotated[
    Optional[str],
    typer.Option("--db", envvar=ENV_DB, help=f"Store: a path (embedded, default ./{DEFAULT_DB}) or bolt://… / neo4j://…"),
]
Neo4jOpt = Annotated[Optional[str], typer.Option("--neo4j", help="Neo4j URI; same as --db bolt://…")]
# days are 64-bit integers in both stores: a larger one is a usage error (exit 2), not an overflow
DAY = {"min": S.INT64_MIN, "max": S.INT64_MAX}
UserOpt = Annotated[Optional[str], typer.Option("--user", envvar="NEO4J_USER", help="Neo4j user (default neo4j)")]


def _store(db: str | None, neo4j: str | None = None, user: str | None = None, *, read_only: bool = False,
           create: bool = True, force_new: bool = False):
    from .stores import connect

    uri = neo4j or db
    password = None
    if uri and "://" in uri and not os.environ.get("NEO4J_PASSWORD"):
        password = typer.prompt(f"Neo4j password for {user or 'neo4j'}", hide_input=True) if sys.stdin.isatty() else None
    return connect(uri, user=user, password=password, read_only=read_only, create=create, force_new=force_new)


OUTPUT_FORMATS = ("table", "csv", "json")


def _check_output(fmt: str) -> str:
    if fmt not in OUTPUT_FORMATS:
        raise InputError(f"unknown output format {fmt!r}; use one of {', '.join(OUTPUT_FORMATS)}", column="--format")
    return fmt


def _print_frame(df: pd.DataFrame, fmt: str = "table", title: str | None = None) -> None:
    if _check_output(fmt) == "csv":
        sys.stdout.write(df.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", indent=1) + "\n")
    else:
        # cells never wrap: a row stays one line (wider than the terminal if it must, like `less -S`)
        # instead of folding every cell into a column of fragments
        table = Table(title=title, box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False)
        for c in df.columns:
            table.add_column(str(c), no_wrap=True,
                             justify="right" if pd.api.types.is_numeric_dtype(df[c]) else "left")
        for row in df.itertuples(index=False):
            table.add_row(*(_cell(v) for v in row))
        width = Measurement.get(out, out.options.update_width(10**6), table).maximum
        wide = out if width <= out.width else Console(file=out.file, width=width, color_system=out.color_system)
        wide.print(table, crop=False)


TIME_COLUMNS = (S.DAY, S.BASELINE)  # columns holding a timepoint's number


class _Clock:
    """How a store's timepoints are shown: integer days as before; other units as text with the
    unit ("4 h", "LPS 4h", "stimulated") under a "time" header in tables, and as extra time_unit /
    time columns (the number kept) in csv and json."""

    def __init__(self, unit: str = "day", labels: dict[int, str] | None = None, run_labels: dict[str, str] | None = None):
        self.unit, self.labels, self.run_labels = unit, labels or {}, run_labels or {}
        self.noun = "days" if unit == "day" else "conditions" if unit == "condition" else "times"
        self.noun_one = "day" if unit == "day" else "condition" if unit == "condition" else "time"

    def text(self, value) -> str:
        from ._time import time_text

        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        return time_text(value, self.unit, self.labels.get(int(value)))

    def shown(self, df: pd.DataFrame, fmt: str = "table") -> pd.DataFrame:
        if self.unit == "day" or df.empty and not any(c in df.columns for c in TIME_COLUMNS):
            return df
        out = df.copy()
        for col in TIME_COLUMNS:
            if col not in out.columns:
                continue
            text = [self.run_labels.get(r) or self.text(v) for r, v in
                    zip(out[S.RUN_ID] if S.RUN_ID in out.columns else [None] * len(out), out[col])]
            name = "time" if col == S.DAY else f"{col} time"
            if fmt == "table":
                out[col] = text
                out = out.rename(columns={col: name})
            else:
                at = out.columns.get_loc(col) + 1
                if col == S.DAY:
                    out.insert(at, S.TIME_UNIT, self.unit)
                    at += 1
                out.insert(at, name, text)
        return out

    def parameters(self, values: dict[str, str]) -> dict[str, str]:
        """``-p day=4h`` / ``-p day="LPS 4h"`` / ``-p baseline=control``: the number the store uses."""
        from ._time import CONDITION, parse_time

        out = dict(values)
        for key in TIME_COLUMNS:
            v = out.get(key)
            if v is None or str(v).strip().lstrip("-").isdigit():
                continue
            by_label = {lab: d for d, lab in self.labels.items()}
            if str(v).strip() in by_label:
                out[key] = str(by_label[str(v).strip()])
            elif self.unit != CONDITION:
                out[key] = str(parse_time(v, self.unit)[0])
            else:
                raise InputError(f"no condition {str(v).strip()!r} (${key}) in the store "
                                 f"(known: {', '.join(by_label) or 'none'})", column=key)
        return out


def _clock(store, *, runs: bool = False) -> _Clock:
    try:
        unit = store.time_unit()
    except Exception:  # noqa: BLE001 - a store without Run nodes (or an older one) reads as days
        return _Clock()
    if unit == "day":
        return _Clock()
    run_labels = {}
    if runs:
        t = store.timepoints()
        run_labels = {r: lab for r, lab in zip(t[S.RUN_ID], t[S.TIME_LABEL]) if isinstance(lab, str) and lab}
    return _Clock(unit, store.time_labels(), run_labels)


def _time_option(clock: _Clock, value: str | None, key: str = S.DAY) -> int | None:
    """``--day 6h`` / ``--day stimulated`` / ``--baseline 0``: the number the store uses for that time
    (parsed like ``query -p day=…``; plain integers keep working)."""
    if value is None:
        return None
    return int(clock.parameters({key: str(value)})[key])


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _options(pairs: list[str] | None) -> dict:
    opts = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise InputError(f"option {pair!r} is not KEY=VALUE")
        k, v = pair.split("=", 1)
        try:
            opts[k] = json.loads(v)
        except json.JSONDecodeError:
            opts[k] = v
    return opts


@app.command()
def load(
    format: Annotated[Optional[str], typer.Argument(help="Input format (see `commgraph formats`)")] = None,
    path: Annotated[Optional[Path], typer.Argument(help="The run's output file or folder")] = None,
    day: Annotated[Optional[str], typer.Option(help="Day of the run (0 = baseline), or its time in --time-unit "
                                               "(4, 4h, 'LPS 4h', week 2), or its condition's name")] = None,
    time_unit: Annotated[Optional[str], typer.Option(help="Unit of --day and of a time column: day (default), hour, "
                                                     "week, or condition (unordered, e.g. control/stimulated)")] = None,
    time_label: Annotated[Optional[str], typer.Option(help="Name of the timepoint as the study gives it ('LPS 4h', 'pre')")] = None,
    time_order: Annotated[Optional[str], typer.Option(help="Conditions in order, comma-separated (control,stimulated)")] = None,
    time_col: Annotated[Optional[str], typer.Option(help="csv: column with each row's timepoint (one file, many runs)")] = None,
    group_col: Annotated[Optional[str], typer.Option(help="csv: column with each row's group")] = None,
    sample_col: Annotated[Optional[str], typer.Option(help="csv: column with each row's sample")] = None,
    pathways: Annotated[Optional[Path], typer.Option(help="ligand,receptor,pathway CSV that wins over the bundled pathway table")] = None,
    group: Annotated[str, typer.Option(help="Dose group or cohort")] = S.NO_GROUP,
    sample: Annotated[Optional[str], typer.Option(help="Sample (library: one patient on one day)")] = None,
    patient: Annotated[Optional[str], typer.Option(help="Patient the sample came from (pairs days in `differential`)")] = None,
    run_id: Annotated[Optional[str], typer.Option(help="Run id (default FORMAT|dDAY|GROUP[|SAMPLE])")] = None,
    option: Annotated[Optional[list[str]], typer.Option("--option", "-o", help="Format option KEY=VALUE")] = None,
    cell_counts: Annotated[Optional[Path], typer.Option(help="cell_type,n_cells CSV for this run")] = None,
    manifest: Annotated[Optional[Path], typer.Option(help="Study manifest (CSV or YAML): load every run")] = None,
    db: DbOpt = None,
    neo4j: Neo4jOpt = None,
    user: UserOpt = None,
    force_new: Annotated[bool, typer.Option("--force-new", help="Delete the embedded store file and start an empty "
                                            "one (a damaged store without a backup)")] = False,
    chunk_rows: Annotated[Optional[int], typer.Option(min=1, help="Rows per written part of a large load (default "
                                                      "500,000): larger loads a per-sample study faster, with more memory")] = None,
):
    """Load one run (FORMAT PATH --day D), a long table (csv PATH --time-col C …) or every run of a
    manifest (--manifest)."""
    from ._load import load as load_one
    from ._load import load_manifest

    if manifest is not None:
        if format or path:
            raise InputError("give either --manifest or FORMAT PATH, not both")
        with _store(db, neo4j, user, force_new=force_new) as store:
            runs = load_manifest(store, manifest, chunk_rows=chunk_rows)
    else:
        if not (format and path) or (day is None and time_col is None):
            raise InputError("give FORMAT PATH --day D (or --time-col C for a long csv table, or --manifest FILE)")
        options = _options(option)
        for key, value in (("time_col", time_col), ("group_col", group_col), ("sample_col", sample_col)):
            if value is not None:
                options[key] = value
        for key, value in (("time_unit", time_unit), ("time_label", time_label), ("time_order", time_order),
                           ("pathways", pathways)):
            if value is not None:
                options[key] = str(value)
        with _store(db, neo4j, user, force_new=force_new) as store:
            runs = load_one(store, format, path, day=day, group=group, sample=sample, patient=patient, run_id=run_id,
                            cell_counts=cell_counts, chunk_rows=chunk_rows, **options)
    for note in runs.attrs.get("notes", []):
        err.print(f"note: {note}", highlight=False, soft_wrap=True)
    err.print(f"loaded {len(runs)} run(s), {int(runs[S.N_ROWS].sum()):,} interactions "
              f"({int(runs[S.N_SIGNIFICANT].sum()):,} significant)")


@app.command()
def stats(db: DbOpt = None, neo4j: Neo4jOpt = None, user: UserOpt = None):
    """What the store holds: runs, cell types, days, groups, SIGNALS per day and group."""
    with _store(db, neo4j, user, read_only=True) as store:
        s = store.stats()
        clock = _clock(store)
        out.print(f"store: {store.uri}")
        times = (f"days: {s['days']}" if clock.unit == "day"
                 else f"{clock.noun}: [{', '.join(clock.text(d) for d in s['days'])}]")
        out.print(f"runs: {s['runs']}   cell types: {s['cell_types']}   {times}   groups: {s['groups']}", highlight=False,
                  markup=False)
        out.print(f"SIGNALS: {s['signals']:,} ({s['significant']:,} significant)")
        _print_frame(clock.shown(s["by_day_group"]), title=f"SIGNALS per {clock.noun_one} and group")


# what `runs` shows as a table (tool versions, parameters and files: --format csv/json)
RUNS_TABLE = (S.RUN_ID, S.FORMAT, S.METHOD, S.DAY, S.GROUP, S.SAMPLE, S.N_ROWS, S.N_SIGNIFICANT)


@app.command()
def runs(db: DbOpt = None, neo4j: Neo4jOpt = None, user: UserOpt = None,
         format: Annotated[str, typer.Option("--format", "-f", help="table|csv|json")] = "table"):
    """List loaded runs (the table: the main columns; csv and json: every provenance column)."""
    _check_output(format)
    with _store(db, neo4j, user, read_only=True) as store:
        runs = store.runs()
        clock = _clock(store, runs=True)
    if format == "table":
        runs = runs[[c for c in RUNS_TABLE if c in runs.columns and runs[c].notna().any()]]
    _print_frame(clock.shown(runs, format), format)


@app.command()
def remove(run_id: str, db: DbOpt = None, neo4j: Neo4jOpt = None, user: UserOpt = None):
    """Take one run out of the store."""
    with _store(db, neo4j, user, create=False) as store:
        store.remove_run(run_id)
    err.print(f"removed run {run_id}")


@app.command()
def formats():
    """The input formats commgraph reads."""
    from .formats import formats_table

    for f in formats_table().to_dict("records"):
        out.print(f"[bold]{f['name']}[/bold] — {f['title']}", highlight=False)
        for key in ("reads", "score", "pvalue", "significant", "extra", "citation"):
            out.print(f"    {key}: {f[key]}", highlight=False, soft_wrap=True)


@app.command()
def schema():
    """The canonical interaction table: columns, dtypes, meaning."""
    _print_frame(S.describe_columns())


@app.command()
def queries():
    """The named queries, with their parameters and returned columns."""
    from ._queries import _all

    from ._queries import GROUPS

    for group in GROUPS:
        out.print(f"[bold underline]{group}[/bold underline]")
        for spec in (s for s in _all().values() if s.group == group):
            out.print(f"[bold]{spec.name}[/bold]: {spec.description}")
            for p in spec.params:
                out.print(f"    {p.describe()}", highlight=False)
            out.print(f"    returns: {', '.join(spec.returns)}", highlight=False)


@app.command()
def query(
    name: str,
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="Parameter KEY=VALUE")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table|csv|json")] = "table",
    browser: Annotated[bool, typer.Option("--browser", help="Print what to paste into Neo4j Browser (the :params line "
                                          "with these values, then the query) instead of running it")] = False,
    db: DbOpt = None,
    neo4j: Neo4jOpt = None,
    user: UserOpt = None,
):
    """Run a named query (see `commgraph queries`)."""
    from ._queries import get_query

    spec = get_query(name)
    values = {}
    for pair in param or []:
        if "=" not in pair:
            raise InputError(f"parameter {pair!r} is not KEY=VALUE")
        k, v = pair.split("=", 1)
        values[k] = v
    if browser:  # no store: the text to paste, the :params line first
        sys.stdout.write(spec.for_browser(values, from_text=True))
        return
    _check_output(format)
    with _store(db, neo4j, user, read_only=True) as store, warnings.catch_warnings():
        clock = _clock(store)
        bound = spec.bind(clock.parameters(values), from_text=True)
        warnings.simplefilter("ignore", HintWarning)  # printed once below, without a source line
        df = store.query(name, **bound)
    df = clock.shown(df, format)
    hint = df.attrs.get("hint")
    if hint:  # the question names something the store doesn't have: no table, the hint, exit 1
        if format != "table":
            _print_frame(df, format)
        err.print(f"[yellow]hint:[/yellow] {hint}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    _print_frame(df, format, title=name)


@app.command()
def push(
    source: Annotated[Path, typer.Option("--from", help="Embedded store to copy from")],
    target: Annotated[Optional[str], typer.Option("--to", help="Neo4j URI to copy into (bolt://…); not with --bulk")] = None,
    user: UserOpt = None,
    bulk: Annotated[bool, typer.Option(
        "--bulk", help="Build the Neo4j database offline with neo4j-admin database import (server stopped)")] = False,
    neo4j_home: Annotated[Optional[Path], typer.Option(
        help="--bulk: the Neo4j installation (runs NEO4J_HOME/bin/neo4j-admin)", envvar="NEO4J_HOME")] = None,
    neo4j_admin: Annotated[Optional[str], typer.Option(
        help="--bulk: the neo4j-admin command instead, e.g. 'tools/neo4j-test-server/server.sh admin'")] = None,
    database: Annotated[str, typer.Option(help="--bulk: the database to build")] = "neo4j",
    overwrite: Annotated[bool, typer.Option(help="--bulk: replace the database if it exists")] = False,
    work_dir: Annotated[Optional[Path], typer.Option(help="--bulk: folder for the temporary CSVs")] = None,
):
    """Copy an embedded store into a Neo4j server (runs already there are replaced), or with
    --bulk build the server's database from it with neo4j-admin (the server stopped)."""
    from ._transfer import copy_store, push_bulk

    if not bulk:
        if not target:
            raise InputError("push needs --to bolt://… (or --bulk with --neo4j-home to build the database offline)")
        with _store(str(source), read_only=True) as src, _store(target, user=user) as dst:
            runs = copy_store(src, dst)
        err.print(f"copied {len(runs)} run(s) from {source} to {target}", highlight=False, soft_wrap=True)
        return
    if target:
        raise InputError("push --bulk writes the database files offline, not through --to; give --neo4j-home")
    if neo4j_admin is None:
        if neo4j_home is None:
            raise InputError("push --bulk needs --neo4j-home (or NEO4J_HOME, or --neo4j-admin)")
        admin = neo4j_home / "bin" / "neo4j-admin"
        if not admin.exists():
            raise InputError(f"no neo4j-admin at {admin}: is --neo4j-home a Neo4j installation?")
        neo4j_admin = [str(admin)]
    with _store(str(source), read_only=True) as src:
        got = push_bulk(src, neo4j_admin, database=database, overwrite=overwrite, work_dir=work_dir)
    err.print(f"built Neo4j database {database!r} from {source}: {got['nodes']} nodes, {got['relationships']} "
              f"relationships (export {got['export_s']:.1f} s, import {got['import_s']:.1f} s); start the server "
              "(commgraph creates its indexes on its first write)", highlight=False, soft_wrap=True)


@app.command()
def pull(
    source: Annotated[str, typer.Option("--from", help="Neo4j URI to copy from (bolt://…)")],
    target: Annotated[Path, typer.Option("--to", help="Embedded store to copy into")],
    user: UserOpt = None,
):
    """Copy a Neo4j study into an embedded store (runs already there are replaced)."""
    from ._transfer import copy_store

    with _store(source, user=user, read_only=True) as src, _store(str(target)) as dst:
        runs = copy_store(src, dst)
    err.print(f"copied {len(runs)} run(s) from {source} to {target}", highlight=False, soft_wrap=True)


@app.command()
def export(
    kind: Annotated[str, typer.Argument(help="neo4j-import")],
    directory: Annotated[Path, typer.Argument(help="Folder for the CSV files")],
    db: DbOpt = None,
    neo4j: Neo4jOpt = None,
    user: UserOpt = None,
):
    """Write a store as CSVs for `neo4j-admin database import full` and print that command."""
    from ._transfer import export_neo4j_import

    if kind != "neo4j-import":
        raise InputError(f"unknown export {kind!r}; known: neo4j-import")
    with _store(db, neo4j, user, read_only=True) as store:
        command = export_neo4j_import(store, directory)
    err.print(f"wrote {directory}; load it into an empty database (server stopped) with:")
    out.print(command, highlight=False, soft_wrap=True)


@app.command()
def infer(
    adata: Annotated[Path, typer.Argument(help="AnnData file (.h5ad) with raw counts")],
    cell_type_key: Annotated[str, typer.Option(help="obs column with cell types")],
    day_key: Annotated[str, typer.Option(help="obs column with the day (0 = baseline)")],
    group_key: Annotated[Optional[str], typer.Option(help="obs column with the dose group or cohort")] = None,
    sample_key: Annotated[Optional[str], typer.Option(help="obs column with the sample; one run per sample")] = None,
    patient_key: Annotated[Optional[str], typer.Option(
        help="obs column with the patient (needs --sample-key); written to the manifest's patient column")] = None,
    method: Annotated[str, typer.Option(help="liana or cellphonedb")] = "liana",
    liana_method: Annotated[str, typer.Option(help="LIANA+ method (cellphonedb, rank_aggregate, cellchat, …)")] = "cellphonedb",
    resource: Annotated[str, typer.Option(help="LIANA+ resource")] = "consensus",
    cpdb_database: Annotated[Optional[Path], typer.Option(help="CellPhoneDB database zip (default: vendored v5.0.0)")] = None,
    layer: Annotated[Optional[str], typer.Option(help="layer holding raw counts (default .X)")] = None,
    normalized: Annotated[bool, typer.Option(help="the matrix is already log-normalised")] = False,
    min_cells: Annotated[int, typer.Option(min=0, help="leave out cell types with fewer cells in a split")] = 10,
    n_perms: Annotated[int, typer.Option(min=1, help="permutations for p-values")] = 100,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", min=1, help="worker processes of the local Dask cluster (1: in this process)")] = 2,
    scheduler: Annotated[Optional[str], typer.Option(
        envvar="COMMGRAPH_DASK_SCHEDULER",
        help="address of a running Dask scheduler (tcp://host:8786) to run the splits on, instead of a local cluster")] = None,
    out: Annotated[Path, typer.Option(help="output folder (native results + manifest.csv)")] = Path("commgraph-infer"),
    load: Annotated[bool, typer.Option("--load", help="load the results into the store when done")] = False,
    db: DbOpt = None,
    neo4j: Neo4jOpt = None,
    user: UserOpt = None,
):
    """Run LIANA+ or CellPhoneDB per day × group (× sample) on Dask and write a manifest.

    Splits that fail are listed in OUT/failed.csv and left out of the manifest; the command then exits 1.
    """
    from .infer import infer as run_infer

    manifest = run_infer(adata, cell_type_key=cell_type_key, day_key=day_key, group_key=group_key,
                         sample_key=sample_key, patient_key=patient_key, method=method, liana_method=liana_method,
                         resource=resource, cpdb_database=cpdb_database, layer=layer, normalized=normalized,
                         min_cells=min_cells, n_perms=n_perms, n_jobs=jobs, scheduler=scheduler, out=out)
    err.print(f"wrote {manifest}")
    if load:
        from ._load import load_manifest

        with _store(db, neo4j, user) as store:
            runs = load_manifest(store, manifest)
        err.print(f"loaded {len(runs)} run(s) into {store.uri}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="output folder: runs, study.lbug, views, report")] = Path("demo-out"),
    n_cells: Annotated[Optional[int], typer.Option(min=1, help="simulated cells (default 40,000)")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    method: Annotated[str, typer.Option(help="liana or cellphonedb")] = "liana",
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="worker processes")] = 2,
):
    """Simulate an MSC trial, infer, load, and answer: how does MX1+ monocyte signaling change?"""
    from .demo import print_demo, run_demo

    result = run_demo(out, n_cells=n_cells, seed=seed, method=method, n_jobs=jobs)
    print_demo(result)
    if not result.all_agree:
        raise typer.Exit(1)


@app.command()
def view(
    kind: Annotated[str, typer.Argument(help="network | diff | ego | lr")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="HTML file to write (default commgraph-KIND.html)")] = None,
    cell_type: Annotated[Optional[str], typer.Option(help="ego: the cell type (default: the most changed sender)")] = None,
    day: Annotated[Optional[str], typer.Option(help="Day (or time: 6h, stimulated) shown first (default: the day of largest change)")] = None,
    group: Annotated[Optional[str], typer.Option(help="Group shown first (default: the one sampled on most days)")] = None,
    baseline: Annotated[Optional[str], typer.Option(help="diff without tested changes: the day (or time) to compare against")] = None,
    pathway: Annotated[Optional[str], typer.Option(help="network, diff, lr: only this pathway")] = None,
    interaction: Annotated[Optional[str], typer.Option(help="lr: the pair, e.g. CD86^CTLA4")] = None,
    max_edges: Annotated[Optional[int], typer.Option(min=0, help="network, diff, lr: draw the strongest N edges first (0: all; default: network 30, diff and lr 500)")] = None,
    fdr: Annotated[Optional[float], typer.Option(help="diff, ego, lr: FDR cut-off of a tested change (default 0.05)")] = None,
    min_log2fc: Annotated[Optional[float], typer.Option(help="diff, ego, lr: |log2 FC| cut-off (default 0)")] = None,
    mode: Annotated[Optional[str], typer.Option(help="ego, lr: 'change' (tested change against the baseline; the default when the store holds tested changes) or 'absolute' (the day's scores)")] = None,
    focus: Annotated[Optional[str], typer.Option(help="diff: the cell type highlighted (default: the most changed sender)")] = None,
    db: DbOpt = None,
    neo4j: Neo4jOpt = None,
    user: UserOpt = None,
):
    """Write one interactive HTML network view (self-contained, works offline)."""
    from .views import view as write_view

    extra = {k: v for k, v in (("fdr", fdr), ("min_abs_log2fc", min_log2fc), ("focus", focus), ("mode", mode))
             if v is not None}
    with _store(db, neo4j, user, read_only=True) as store:
        clock = _clock(store)
        day, baseline = _time_option(clock, day), _time_option(clock, baseline, S.BASELINE)
        path = write_view(store, kind, out=out, cell_type=cell_type, day=day, group=group, baseline=baseline,
                          pathway=pathway, interaction=interaction, max_edges=max_edges, **extra)
    err.print(f"wrote {path}")


@app.command()
def views(
    directory: Annotated[Path, typer.Argument(help="Folder for network.html, diff.html, ego.html, lr.html, index.html")],
    cell_type: Annotated[Optional[str], typer.Option(help="The ego view's cell type and the diff view's focus (default: the most changed sender)")] = None,
    day: Annotated[Optional[str], typer.Option(help="Day (or time: 6h, stimulated) shown first (default: where that cell type changed most)")] = None,
    group: Annotated[Optional[str], typer.Option(help="Group shown first (default: where that cell type changed most)")] = None,
    baseline: Annotated[Optional[str], typer.Option(help="The diff view's baseline day (or time) without tested changes")] = None,
    interaction: Annotated[Optional[str], typer.Option(help="The lr view's pair (default: the most significant change)")] = None,
    pathway: Annotated[Optional[str], typer.Option(help="Only this pathway in the network and diff views")] = None,
    db: DbOpt = None,
    neo4j: Neo4jOpt = None,
    user: UserOpt = None,
):
    """Write every interactive HTML network view of the study into a folder."""
    from .views import write_views

    with _store(db, neo4j, user, read_only=True) as store:
        clock = _clock(store)
        day, baseline = _time_option(clock, day), _time_option(clock, baseline, S.BASELINE)
        written = write_views(store, directory, cell_type=cell_type, day=day, group=group, baseline=baseline,
                              interaction=interaction, pathway=pathway)
    err.print(f"wrote {len(written)} pages; open {written['index']}")


@app.command()
def report(
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="File to write (default report.html, or report.pdf with --format pdf)")] = None,
    cell_type: Annotated[Optional[str], typer.Option(help="The cell type the report follows (default: the sender with the most tested changes)")] = None,
    interaction: Annotated[Optional[list[str]], typer.Option("--interaction", help="A key ligand–receptor pair, e.g. CD86^CTLA4 (repeatable; default: the cell type's top changes, sent and received)")] = None,
    day: Annotated[Optional[str], typer.Option(help="Day (or time: 6h, stimulated) compared with the baseline (default: where the cell type changed most)")] = None,
    group: Annotated[Optional[str], typer.Option(help="Dose group or cohort (default: where the cell type changed most)")] = None,
    fdr: Annotated[float, typer.Option(help="FDR cut-off of a tested change")] = 0.05,
    fmt: Annotated[str, typer.Option("--format", help="html or pdf (printed by headless Chromium)")] = "html",
    networks: Annotated[bool, typer.Option("--networks/--no-networks", help="Embed the interactive networks")] = True,
    db: DbOpt = None,
    neo4j: Neo4jOpt = None,
    user: UserOpt = None,
):
    """Write the study report: tested findings in sentences, methods, figures and networks (offline HTML or PDF)."""
    from .report import write_report

    out = out or Path("report.pdf" if fmt == "pdf" else "report.html")
    with _store(db, neo4j, user, read_only=True) as store:
        day = _time_option(_clock(store), day)
        path = write_report(store, out, cell_type=cell_type, group=group, day=day, interactions=interaction or None,
                            views=networks, fdr=fdr, format=fmt)
    err.print(f"wrote {path}")


@app.command()
def differential(
    group: Annotated[Optional[list[str]], typer.Option("--group", "-g", help="Only this dose group (repeat for more; default: every group sampled on two days or more)")] = None,
    day: Annotated[Optional[list[str]], typer.Option("--day", "-d", help="Only this day, or time as the study writes it: 6h, stimulated (repeat for more; default: every later day)")] = None,
    baseline: Annotated[Optional[str], typer.Option(help="Baseline day or time (default: each group's first day)")] = None,
    method: Annotated[Optional[str], typer.Option(help="Inference method, when the store holds several")] = None,
    dose_time: Annotated[bool, typer.Option("--dose-time/--no-dose-time", help="Also test whether the change differs between groups")] = True,
    min_cells: Annotated[int, typer.Option(min=0, help="A cell type with fewer cells in a sample is missing there, not 0")] = 10,
    min_patients: Annotated[int, typer.Option(min=1, help="Patients with both days a feature needs to be tested")] = 2,
    min_detection: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of each day's samples a feature must be detected in to be tested")] = 0.5,
    out_csv: Annotated[Optional[Path], typer.Option("--out", help="Also write every tested feature to this CSV")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table|csv|json (the contrasts)")] = "table",
    db: DbOpt = None,
    neo4j: Neo4jOpt = None,
    user: UserOpt = None,
):
    """Paired tests of change per group and day (and dose × time), stored in the graph."""
    from ._differential import differential as run

    with _store(db, neo4j, user) as store:
        clock = _clock(store)
        days = [_time_option(clock, d) for d in day] if day else None
        res = run(store, groups=group or None, days=days, baseline=_time_option(clock, baseline, S.BASELINE), method=method,
                  dose_time=dose_time, min_cells=min_cells, min_patients=min_patients, min_detection=min_detection)
    cols = [S.KIND, S.GROUP, S.REFERENCE, S.DAY, S.BASELINE, S.N_PATIENTS, "n_tested", "n_skipped", "n_up", "n_down"]
    shown = res.contrasts if format != "table" else res.contrasts[cols]
    _print_frame(clock.shown(shown, format), format, title=f"Contrasts of {res.settings['method']} runs (interaction level; up/down at FDR < 0.05)")
    if out_csv is not None:
        res.results.to_csv(out_csv, index=False)
        err.print(f"wrote {len(res.results):,} tested features to {out_csv}")
    err.print("ask: commgraph query differential -p cell_type=… -p day=… -p group=…  |  dose_effect  |  change_summary")


browser_app = typer.Typer(help="Neo4j Browser: the named queries as favourites, and the style.", no_args_is_help=True)
app.add_typer(browser_app, name="browser")


@browser_app.command("export")
def browser_export(
    directory: Annotated[Path, typer.Argument(help="Folder to write commgraph-favorites.zip and commgraph.grass to")],
):
    """Write every named query as Neo4j Browser favourites (a zip: drag it onto the Browser window)."""
    from ._queries import browser_favorites

    for path in browser_favorites(directory):
        out.print(str(path), highlight=False, soft_wrap=True)
    err.print("drag commgraph-favorites.zip onto Neo4j Browser (favourites, one folder per group), "
              "then commgraph.grass (the style)")


samples_app = typer.Typer(help="Samples, patients and clinical values (sample sheets).", no_args_is_help=True)
app.add_typer(samples_app, name="samples")


@samples_app.command("load")
def samples_load(
    sheet: Annotated[Path, typer.Argument(help="Sample sheet CSV: sample, patient, day, group, clinical columns…")],
    db: DbOpt = None,
    neo4j: Neo4jOpt = None,
    user: UserOpt = None,
):
    """Attach a sample sheet to the store's samples: patients and clinical values (all or nothing)."""
    with _store(db, neo4j, user) as store:
        table = store.load_samples(sheet)
    n_vars = len(table.columns) - 4
    err.print(f"loaded {len(table)} sample(s) of {table[S.PATIENT].nunique()} patient(s), {n_vars} clinical column(s)")


@samples_app.command("list")
def samples_list(
    format: Annotated[str, typer.Option("--format", "-f", help="table|csv|json")] = "table",
    db: DbOpt = None,
    neo4j: Neo4jOpt = None,
    user: UserOpt = None,
):
    """The samples: patient, day, group and number of runs."""
    with _store(db, neo4j, user, read_only=True) as store:
        _print_frame(store.samples(), format, title="samples")


@app.command()
def associate(
    score: Annotated[str, typer.Option(help="Clinical column of the sample sheet, e.g. child_pugh")],
    day: Annotated[str, typer.Option(help="The day (or time: 6h, stimulated) whose change from --baseline is correlated (or level, --levels)")],
    baseline: Annotated[str, typer.Option(help="Baseline day or time (0, 0h, control)")] = "0",
    of: Annotated[str, typer.Option(help="fraction | sending | receiving: what per cell type")] = "fraction",
    levels: Annotated[bool, typer.Option("--levels", help="Correlate the values on --day, not changes")] = False,
    group: Annotated[Optional[list[str]], typer.Option("--group", "-g", help="Only patients of this group (repeat)")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table|csv|json")] = "table",
    db: DbOpt = None,
    neo4j: Neo4jOpt = None,
    user: UserOpt = None,
):
    """Across patients: Spearman's rho of a clinical score's change with each cell type's change."""
    from .clinical import associate as run

    with _store(db, neo4j, user, read_only=True) as store:
        clock = _clock(store)
        day, baseline = _time_option(clock, day), _time_option(clock, baseline, S.BASELINE)
        df = run(store, score=score, day=day, baseline=baseline, of=of, change=not levels, groups=group or None)
    _print_frame(df, format, title=f"{score} vs {of}")
def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    err.print(f"[yellow]warning:[/yellow] {message}", highlight=False, soft_wrap=True)


# a storage engine's words for "another process changed or holds the file" (LadybugDB)
_IN_USE = ("String dictionary", "Storage exception", "Could not set lock", "lock on file")
DEBUG_ENV = "COMMGRAPH_DEBUG"  # set: unexpected errors raise with their traceback


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _fail(message: str, code: int) -> None:
    from rich.markup import escape

    err.print(f"[red]error:[/red] {escape(_one_line(message))}", highlight=False, soft_wrap=True)
    raise SystemExit(code)


def main(args: list[str] | None = None) -> None:
    """The entry point: every error a user can cause is one line on stderr — exit 1, or 2 for a
    command line click can't parse (unknown option, missing argument, bad value)."""
    warnings.showwarning = _show_warning  # one line, without the source line that raised it
    try:
        code = app(args=args, prog_name="commgraph", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as ex:  # bare `commgraph` or a group: its help, as click prints it
        sys.stdout.write(ex.format_message().rstrip("\n") + "\n")
        raise SystemExit(2) from None
    except click_errors.UsageError as ex:
        where = ex.ctx.command_path if ex.ctx is not None else "commgraph"
        _fail(f"{ex.format_message()} (see '{where} --help')", 2)
    except typer.Abort:
        _fail("aborted", 1)
    except click_errors.ClickException as ex:  # a file option that can't be opened, …
        _fail(ex.format_message(), ex.exit_code or 1)
    except CommgraphError as ex:
        _fail(str(ex), 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as ex:  # not ours on purpose: still one line (COMMGRAPH_DEBUG=1 shows the traceback)
        if os.environ.get(DEBUG_ENV):
            raise
        first = (str(ex).strip().splitlines() or [""])[0]
        text = f"{type(ex).__name__}: {first}" if first else type(ex).__name__
        if any(word in str(ex) for word in _IN_USE):
            text += ("; the store is in use or was changed by another process (a Python session or another "
                     "commgraph): close it there and try again")
        elif isinstance(ex, OSError):
            text += " (a file or folder this command needs)"
        _fail(f"{text} [{DEBUG_ENV}=1 shows where]", 1)
    if isinstance(code, int) and code:
        raise SystemExit(code)


if __name__ == "__main__":
    main()
