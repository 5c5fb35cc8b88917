"""Turn a validated canonical table into the node and edge frames of the graph model.

Both stores write exactly these frames, so their content is the same by construction.
Frames carry their columns in the order the schema declares (LadybugDB's COPY maps by
position), edges start with ``from``/``to`` keys.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _schema as S
from ._time import DEFAULT_UNIT
from ._lineage import lineage_of  # the same rule table the views colour by

FROM, TO = "from", "to"


@dataclass
class GraphFrames:
    runs: pd.DataFrame
    cell_types: pd.DataFrame
    cell_states: pd.DataFrame
    interactions: pd.DataFrame
    pathways: pd.DataFrame
    genes: pd.DataFrame
    signals: pd.DataFrame
    of_type: pd.DataFrame
    in_pathway: pd.DataFrame
    has_ligand: pd.DataFrame
    has_receptor: pd.DataFrame
    load_id: str = ""
    # CellStates whose counts this load knows (to update states that already exist)
    counted_states: pd.DataFrame = field(default_factory=pd.DataFrame)
    patients: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=node_columns(S.PATIENT_NODE)))
    samples: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=node_columns(S.SAMPLE_NODE)))
    of_patient: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[FROM, TO]))
    from_sample: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[FROM, TO]))
    # per-sample counts: (CellState)-[:COUNTED_IN]->(Sample); a load replaces its samples' counts
    counted_in: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COUNTED_IN_COLUMNS))
    # the summary layer of these edges (see summaries()); written with them, under their load ids
    summary: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SUMMARY_COLUMNS))
    pathway_summary: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PATHWAY_SUMMARY_COLUMNS))

    def edges_and_summaries(self) -> dict[str, pd.DataFrame]:
        """The relationships that belong to this load's runs (load_id): SIGNALS and their summaries."""
        return {S.SIGNALS: self.signals, S.SUMMARY: self.summary, S.PATHWAY_SUMMARY: self.pathway_summary}
    # per run × interaction summary of ``signals`` (see interaction_summaries), new nodes of every load
    interaction_summaries: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=node_columns(S.INTERACTION_SUMMARY)))
    has_summary: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[FROM, TO]))

    def nodes(self) -> dict[str, pd.DataFrame]:
        return {
            S.CELL_TYPE: self.cell_types,
            S.CELL_STATE: self.cell_states,
            S.INTERACTION_NODE: self.interactions,
            S.PATHWAY_NODE: self.pathways,
            S.GENE: self.genes,
            S.PATIENT_NODE: self.patients,
            S.SAMPLE_NODE: self.samples,
            S.INTERACTION_SUMMARY: self.interaction_summaries,
        }

    def rels(self) -> dict[str, pd.DataFrame]:
        """Relationships that hang off new nodes only (SIGNALS, NEXT, FROM_SAMPLE and COUNTED_IN
        are handled apart)."""
        return {
            S.OF_TYPE: self.of_type,
            S.IN_PATHWAY: self.in_pathway,
            S.HAS_LIGAND: self.has_ligand,
            S.HAS_RECEPTOR: self.has_receptor,
            S.OF_PATIENT: self.of_patient,
            S.HAS_SUMMARY: self.has_summary,
        }

    @property
    def sample_ids(self) -> list[str]:
        """Samples whose per-sample counts this load brings (their old COUNTED_IN edges go)."""
        return sorted(set(self.counted_in[TO])) if len(self.counted_in) else []


def new_load_id() -> str:
    """A load id that orders loads by start time ('t' + nanoseconds + a random tail): of two loads
    of one run, the later one wins the switch and sweeps only older edges. The 't' sorts after the
    hex ids of stores written before, so those count as older."""
    import time
    import uuid

    return f"t{time.time_ns():020d}{uuid.uuid4().hex[:12]}"


def run_load_id(load_id: str, run_id: str) -> str:
    """The load id one run of a load carries (on its Run node and its edges): the load's, then a
    digest of the run id. Queries keep an edge whose load id is a live Run's, so an edge of a run
    replaced by a later load is hidden even while another run of the earlier load stays live; the
    load's prefix keeps the order of loads."""
    import hashlib

    return f"{load_id}.{hashlib.sha1(str(run_id).encode()).hexdigest()[:12]}"


def node_columns(label: str) -> list[str]:
    return [name for name, _ in S.NODE_TABLE[label].properties]


SIGNAL_COLUMNS = [FROM, TO] + [name for name, _ in S.SIGNALS_PROPERTIES]
COUNTED_IN_COLUMNS = [FROM, TO, S.N_CELLS, S.FRACTION]
SUMMARY_COLUMNS = [FROM, TO] + [name for name, _ in S.SUMMARY_PROPERTIES]
PATHWAY_SUMMARY_COLUMNS = [FROM, TO] + [name for name, _ in S.PATHWAY_SUMMARY_PROPERTIES]
_SUMMARY_KEY = [FROM, TO, S.RUN_ID, S.LOAD_ID, S.METHOD, S.SAMPLE]
_COUNTS = (S.N_INTERACTIONS, S.N_SIGNIFICANT, S.N_SIGNIFICANT_NEGATIVE)
_SUMS = (S.TOTAL_SCORE, S.SIGNIFICANT_SCORE, S.SIGNIFICANT_NEGATIVE_SCORE)
_MAXES = (S.MAX_SCORE, S.MAX_SIGNIFICANT_SCORE)


def _group_ids(frame: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's group (0..n-1) over the columns ``by`` (a missing value is a value of its own),
    and the first row of each group; from the columns' codes, not by hashing strings."""
    if len(frame) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = np.zeros(len(frame), dtype=np.int64)
    span = 1
    for c in by:
        codes, uniq = pd.factorize(frame[c], use_na_sentinel=True)
        size = len(uniq) + 1
        if span * size >= 2**62:  # never with real keys; stay correct anyway
            key = pd.MultiIndex.from_arrays([key, codes]).factorize()[0].astype(np.int64)
            span = int(key.max()) + 1
        key = key * size + (codes + 1)
        span *= size
    gid, _ = pd.factorize(key)
    first = np.empty(int(gid.max()) + 1, dtype=np.int64)
    first[gid[::-1]] = np.arange(len(gid) - 1, -1, -1)  # the last write wins: each group's first row
    return gid.astype(np.int64), first


def summaries(sig: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SUMMARY and PATHWAY_SUMMARY rows of SIGNALS edges (a build's, so whole runs): per run × state
    pair (× pathway; no pathway is a bucket of its own), the counts and sums the aggregating
    questions read at their default filters — score >= SUMMARY_MIN_SCORE, and significant by the
    shared predicate (_queries.SIGNIFICANT) at SUMMARY_PVALUE."""
    score = sig[S.SCORE].to_numpy(dtype=float)
    pvalue = sig[S.PVALUE].to_numpy(dtype=float)
    kept = score >= S.SUMMARY_MIN_SCORE
    significant = sig[S.SIGNIFICANT].to_numpy(dtype=bool) & (np.nan_to_num(pvalue, nan=0.0) <= S.SUMMARY_PVALUE)
    parts = {S.N_INTERACTIONS: kept, S.N_SIGNIFICANT: significant & kept, S.N_SIGNIFICANT_NEGATIVE: significant & ~kept}
    by = _SUMMARY_KEY + [S.PATHWAY]
    gid, first = _group_ids(sig, by)
    n = len(first)
    out = pd.DataFrame({c: _nullable(pd.Series(np.asarray(sig[c].iloc[first] if n else [], dtype=object)))
                        for c in by})
    for (count, total), mask in zip(zip(_COUNTS, _SUMS), parts.values()):
        out[count] = np.bincount(gid, weights=mask, minlength=n).astype(np.int64)
        out[total] = np.bincount(gid, weights=np.where(mask, score, 0.0), minlength=n)
    for top, mask in zip(_MAXES, (parts[S.N_INTERACTIONS], parts[S.N_SIGNIFICANT])):
        m = pd.Series(np.where(mask, score, np.nan)).groupby(gid).max() if n else pd.Series([], dtype=float)
        out[top] = m.reindex(range(n)).to_numpy()
    pathway = out[PATHWAY_SUMMARY_COLUMNS]
    return collapse(pathway), pathway


def collapse(pathway: pd.DataFrame) -> pd.DataFrame:
    """SUMMARY rows from PATHWAY_SUMMARY rows: summed over pathways (counts and sums add, maxima max)."""
    if pathway.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    gid, first = _group_ids(pathway, _SUMMARY_KEY)
    out = pathway.iloc[first][_SUMMARY_KEY].reset_index(drop=True)
    n = len(first)
    for c in _COUNTS:
        out[c] = np.bincount(gid, weights=pathway[c].to_numpy(dtype=float), minlength=n).astype(np.int64)
    for c in _SUMS:
        out[c] = np.bincount(gid, weights=pathway[c].to_numpy(dtype=float), minlength=n)
    for c in _MAXES:
        out[c] = pd.Series(pathway[c].to_numpy(dtype=float)).groupby(gid).max().reindex(range(n)).to_numpy()
    return out[SUMMARY_COLUMNS]


def _nullable(series: pd.Series) -> pd.Series:
    """object Series with None for missing (what both engines take as null)."""
    out = series.astype(object)
    return out.where(series.notna(), None)


def cell_count_table(cell_counts: pd.DataFrame | None, *, by: tuple[str, ...] = (S.DAY, S.GROUP)) -> pd.DataFrame:
    """Sum counts per cell type × ``by`` (day × group, or day × group × sample) and add the
    fraction within each ``by`` split."""
    by = list(by)
    cols = [S.CELL_TYPE_PROP, *by, S.N_CELLS, S.FRACTION]
    if cell_counts is None or len(cell_counts) == 0:
        return pd.DataFrame(columns=cols)
    counts = cell_counts.groupby([S.CELL_TYPE_PROP, *by], as_index=False, observed=True)[S.N_CELLS].sum()
    totals = counts.groupby(by, observed=True)[S.N_CELLS].transform("sum")
    counts[S.FRACTION] = counts[S.N_CELLS] / totals
    return counts[cols]


def per_sample(cell_counts: pd.DataFrame | None) -> bool:
    """Counts that name their sample: kept per sample, pooled onto CellStates by the store."""
    return cell_counts is not None and S.SAMPLE in cell_counts.columns and cell_counts[S.SAMPLE].notna().any()


def pooled_counts(counted: pd.DataFrame) -> pd.DataFrame:
    """CellState totals from per-sample counts (columns key, cell_type, day, group, n_cells):
    summed over the day × group's samples, fraction of the pooled total."""
    if counted.empty:
        return pd.DataFrame(columns=[S.KEY_PROP, S.N_CELLS, S.FRACTION])
    n = counted.groupby([S.KEY_PROP, S.DAY, S.GROUP], as_index=False, observed=True)[S.N_CELLS].sum()
    n[S.FRACTION] = n[S.N_CELLS] / n.groupby([S.DAY, S.GROUP], observed=True)[S.N_CELLS].transform("sum")
    n[S.N_CELLS] = n[S.N_CELLS].astype("int64")
    return n[[S.KEY_PROP, S.N_CELLS, S.FRACTION]]


def build(table: pd.DataFrame, *, load_id: str, cell_counts: pd.DataFrame | None = None) -> GraphFrames:
    """Frames for one load: every run in ``table`` (already validated)."""
    t = table
    sampled = per_sample(cell_counts)
    counts = cell_count_table(cell_counts.drop(columns=[S.SAMPLE]) if sampled else cell_counts)

    # cell states: every sender/receiver of every row, plus states only known from counts
    ends = _StateCodes(t)
    states = pd.concat([ends.states, counts[[S.CELL_TYPE_PROP, S.DAY, S.GROUP]]], ignore_index=True)
    states = states.astype({S.CELL_TYPE_PROP: str, S.GROUP: str, S.DAY: "int64"}).drop_duplicates(ignore_index=True)
    states = states.merge(counts, on=[S.CELL_TYPE_PROP, S.DAY, S.GROUP], how="left")
    states[S.KEY_PROP] = S.state_keys(states[S.CELL_TYPE_PROP], states[S.DAY], states[S.GROUP])
    states[S.N_CELLS] = states[S.N_CELLS].astype("Int64")
    cell_states = states[node_columns(S.CELL_STATE)].copy()
    for c in (S.N_CELLS, S.FRACTION):
        cell_states[c] = _nullable(cell_states[c])
    counted = cell_states[cell_states[S.N_CELLS].notna()][[S.KEY_PROP, S.N_CELLS, S.FRACTION]]
    counted_in = pd.DataFrame(columns=COUNTED_IN_COLUMNS)
    if sampled:  # per-sample counts: the store pools them over every sample of the day × group
        counted = counted.iloc[0:0]
        for c in (S.N_CELLS, S.FRACTION):
            cell_states[c] = None
        per = cell_count_table(cell_counts.dropna(subset=[S.SAMPLE]), by=(S.DAY, S.GROUP, S.SAMPLE))
        counted_in = pd.DataFrame({FROM: S.state_keys(per[S.CELL_TYPE_PROP], per[S.DAY], per[S.GROUP]),
                                   TO: per[S.SAMPLE].astype(str).to_numpy(),
                                   S.N_CELLS: per[S.N_CELLS].astype("int64").to_numpy(),
                                   S.FRACTION: per[S.FRACTION].astype(float).to_numpy()})

    cell_types = pd.DataFrame({S.NAME: sorted(states[S.CELL_TYPE_PROP].unique())})
    cell_types[S.LINEAGE] = cell_types[S.NAME].map(lineage_of)
    of_type = pd.DataFrame({FROM: cell_states[S.KEY_PROP], TO: cell_states[S.CELL_TYPE_PROP]})

    # interactions, pathways, genes
    inter = t[[S.INTERACTION, S.LIGAND, S.RECEPTOR, S.PATHWAY]].iloc[_first_rows(t[S.INTERACTION])]
    annotation = t.attrs.get("annotation", {})
    interactions = pd.DataFrame(
        {
            S.NAME: inter[S.INTERACTION].astype(str).to_numpy(),
            S.LIGAND: inter[S.LIGAND].astype(str).to_numpy(),
            S.RECEPTOR: inter[S.RECEPTOR].astype(str).to_numpy(),
            S.PATHWAY: inter[S.PATHWAY].astype(str).to_numpy(),
        }
    )
    interactions[S.ANNOTATION] = interactions[S.NAME].map(annotation).astype(object)
    interactions[S.ANNOTATION] = _nullable(interactions[S.ANNOTATION])
    pathways = pd.DataFrame({S.NAME: sorted(interactions[S.PATHWAY].unique())})
    in_pathway = pd.DataFrame({FROM: interactions[S.NAME], TO: interactions[S.PATHWAY]})
    has_ligand = _subunits(interactions, S.LIGAND)
    has_receptor = _subunits(interactions, S.RECEPTOR)
    genes = pd.DataFrame({S.SYMBOL: sorted(set(has_ligand[TO]) | set(has_receptor[TO]))})

    # SIGNALS: categorical and numeric columns as they are (no per-row Python objects), so that a
    # large load stays compact and converts to Arrow dictionary columns cheaply
    sig = pd.DataFrame(
        {
            FROM: ends.keys(ends.source),
            TO: ends.keys(ends.target),
        }
    )
    for name, _ in S.SIGNALS_PROPERTIES:
        if name == S.LOAD_ID:
            runs_ = t[S.RUN_ID].cat
            sig[name] = pd.Categorical.from_codes(runs_.codes, [run_load_id(load_id, r) for r in runs_.categories])
        elif name in (S.SCORE, S.PVALUE, S.SIGNIFICANT):
            sig[name] = t[name].to_numpy()
        else:
            sig[name] = t[name].array

    runs = _runs(t, load_id)
    samples = _samples(t, cell_counts if sampled else None)
    patients = (samples[[S.PATIENT, S.GROUP]].drop_duplicates().rename(columns={S.PATIENT: S.ID})
                [node_columns(S.PATIENT_NODE)].reset_index(drop=True))
    of_patient = pd.DataFrame({FROM: samples[S.ID], TO: samples[S.PATIENT]})
    from_sample = runs[[S.RUN_ID, S.SAMPLE]].dropna()
    from_sample = from_sample[~from_sample[S.SAMPLE].str.contains(";")]  # a run of many samples links none
    from_sample = pd.DataFrame({FROM: from_sample[S.RUN_ID].to_numpy(), TO: from_sample[S.SAMPLE].to_numpy()})
    summary, pathway_summary = summaries(sig)
    isum = interaction_summaries(summary_rows(t, load_id))
    return GraphFrames(
        runs=runs,
        cell_types=cell_types,
        cell_states=cell_states,
        interactions=interactions,
        pathways=pathways,
        genes=genes,
        signals=sig[SIGNAL_COLUMNS],
        of_type=of_type,
        in_pathway=in_pathway,
        has_ligand=has_ligand,
        has_receptor=has_receptor,
        load_id=load_id,
        counted_states=counted,
        patients=patients,
        samples=samples,
        of_patient=of_patient,
        from_sample=from_sample,
        counted_in=counted_in,
        summary=summary,
        pathway_summary=pathway_summary,
        interaction_summaries=isum,
        has_summary=pd.DataFrame({FROM: isum[S.INTERACTION].to_numpy(), TO: isum[S.KEY_PROP].to_numpy()}),
    )


def join_runs(items: list[tuple[pd.DataFrame, pd.DataFrame | None]]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Validated tables of different runs, and their cell counts (all per sample, or all pooled,
    or none), as one table and one counts frame: categorical columns joined on the union of their
    categories (``pd.concat`` would make them object columns), what ``build`` reads from attrs
    merged. A split's counts given twice (two runs of one sample) are taken from the later."""
    from pandas.api.types import union_categoricals

    tables = [t for t, _ in items]
    if len(tables) == 1:
        return items[0]
    table = pd.DataFrame({col: (union_categoricals([t[col] for t in tables], ignore_order=True)
                                if all(isinstance(t[col].dtype, pd.CategoricalDtype) for t in tables)
                                else pd.concat([t[col] for t in tables], ignore_index=True))
                          for col in tables[0].columns})
    fmt = {}
    for t in tables:  # build reads each run's format, and every run's interaction annotations
        f = t.attrs.get("format")
        fmt.update(f if isinstance(f, dict) else {str(r): f for r in t[S.RUN_ID].unique()})
    table.attrs["format"] = fmt
    table.attrs["annotation"] = {k: v for t in tables for k, v in t.attrs.get("annotation", {}).items()}
    counts = [c for _, c in items if c is not None]
    if not counts:
        return table, None
    if len({per_sample(c) for c in counts}) > 1:
        raise ValueError("join_runs: per-sample and pooled cell counts can't be joined")
    c = pd.concat(counts, ignore_index=True)
    key = [S.SAMPLE, S.CELL_TYPE_PROP] if per_sample(c) else [S.CELL_TYPE_PROP, S.DAY, S.GROUP]
    return table, c.drop_duplicates(key, keep="last").reset_index(drop=True)


def run_chunks(table: pd.DataFrame, cell_counts: pd.DataFrame | None, max_rows: int):
    """Split a validated table into parts of whole runs of at most ``max_rows`` rows each (a run
    larger than that is a part by itself), each with the cell counts of its day × group splits, so
    that a load builds and writes one part at a time: its peak memory is set by the part, not by
    the study. Yields ``(part, counts)``; a table that fits is yielded as it is.

    Runs are taken in day × group order, so that the runs of one split (a per-sample study's
    patients, who share its CellStates) share a part as far as they fit: LadybugDB keeps a study's
    SIGNALS edges in one node group, whose CSR leaf regions hold 1,024 nodes' edges each (all of
    them, for a study's few hundred CellStates), and a commit that adds edges to CellStates written
    before rewrites that region (~3 s per million edges stored, measured), while the edges of new
    CellStates are appended. A larger ``max_rows`` keeps larger splits whole, for more memory: the
    30M-edge per-sample study (1.5M rows per split) loads in 326 s at a 2.26 GB peak with 1.5M-row
    parts, in 506 s at 1.59 GB with 500k (measured).

    A day × group's counts go with the first part holding a run of that day and group (a pooled
    fraction, or a sample's, is computed over the whole split); counts of a split no run covers go
    with the first part. Each part is validated as a table of its own would be: every category
    occurs (``build`` reads the runs from the run_id categories)."""
    if len(table) <= max_rows:
        yield table, cell_counts
        return
    codes = table[S.RUN_ID].cat.codes.to_numpy()
    sizes = np.bincount(codes, minlength=len(table[S.RUN_ID].cat.categories))
    # the day × group splits of each run (a run may span several: it goes with its first)
    pairs = table[[S.RUN_ID, S.DAY, S.GROUP]].drop_duplicates()
    run_of = pairs[S.RUN_ID].cat.codes.to_numpy()
    first = pd.DataFrame({"run": run_of, "day": pairs[S.DAY].to_numpy(), "group": pairs[S.GROUP].astype(str).to_numpy()})
    first = first.sort_values(["day", "group", "run"], kind="stable").drop_duplicates("run")
    parts: list[list[int]] = []
    rows = 0
    for run in first["run"]:
        size = sizes[run]
        if not parts or (rows + size > max_rows and rows > 0):
            parts.append([])
            rows = 0
        parts[-1].append(run)
        rows += size
    by_run = np.argsort(codes, kind="stable")  # row numbers grouped by run, in table order within a run
    starts = np.concatenate([[0], np.cumsum(sizes)])
    part_of_run = np.empty(len(sizes), dtype=np.int64)
    for k, runs in enumerate(parts):
        part_of_run[runs] = k
    split_part: dict[tuple[int, str], int] = {}
    for k, d, g in zip(part_of_run[run_of], pairs[S.DAY], pairs[S.GROUP].astype(str)):
        key = (int(d), g)
        split_part[key] = min(k, split_part.get(key, k))
    counts_part = None
    if cell_counts is not None and len(cell_counts):
        keys = zip(cell_counts[S.DAY].astype("int64"), cell_counts[S.GROUP].astype(str))
        counts_part = np.array([split_part.get((int(d), g), 0) for d, g in keys], dtype=np.int64)
    for k, runs in enumerate(parts):
        at = np.sort(np.concatenate([by_run[starts[r]:starts[r + 1]] for r in runs]))
        part = table.iloc[at].reset_index(drop=True)
        for c in part.columns:
            if isinstance(part[c].dtype, pd.CategoricalDtype):
                part[c] = part[c].cat.remove_unused_categories()
        part.attrs = dict(table.attrs)
        counts = None
        if counts_part is not None and (counts_part == k).any():
            counts = cell_counts[counts_part == k].reset_index(drop=True)
        yield part, counts
        del part, at


_EDGE_LISTS = ((S.SENDERS, "string"), (S.RECEIVERS, "string"), (S.SCORES, "double"), (S.PVALUES, "double"),
               (S.CALLS, "bool"))  # InteractionSummary's lists and their Arrow item types


def summary_rows(t: pd.DataFrame, load_id: str) -> pd.DataFrame:
    """Per run × interaction (× day × group, one of each in a usual run) of a validated table: its
    edges counted, as interaction_summaries takes them, and listed (sender and receiver cell type,
    score, p-value or S.NO_PVALUE, call) as Arrow list columns: no per-edge Python objects.
    n_significant is _queries.SIGNIFICANT at $pvalue = S.SUMMARY_PVALUE (a missing p-value passes).
    Grouped on the columns' integer codes."""
    import pyarrow as pa

    if len(t) == 0:
        empty = pd.DataFrame(columns=[S.RUN_ID, S.LOAD_ID, S.INTERACTION, S.DAY, S.GROUP, S.N_PAIRS,
                                      S.N_SIGNIFICANT, S.MAX_SCORE, S.TOTAL_SCORE, S.MIN_PVALUE])
        for name, ty in _EDGE_LISTS:
            empty[name] = pd.Series([], dtype=pd.ArrowDtype(pa.list_(pa.type_for_alias(ty))))
        return empty
    run = pd.Categorical(t[S.RUN_ID])
    inter = pd.Categorical(t[S.INTERACTION])
    group = pd.Categorical(t[S.GROUP])
    pvalue = t[S.PVALUE].to_numpy(dtype=float)
    called = t[S.SIGNIFICANT].to_numpy(dtype=bool)
    sig = called & ~(pvalue > S.SUMMARY_PVALUE)
    g = pd.DataFrame({"r": run.codes, "i": inter.codes, "s": t[S.SCORE].to_numpy(dtype=float),
                      "p": pvalue, "sig": sig, "d": t[S.DAY].to_numpy(), "grp": group.codes})
    a = g.groupby(["r", "i", "d", "grp"], sort=True).agg(
        n=("s", "size"), nsig=("sig", "sum"), mx=("s", "max"), tot=("s", "sum"), mn=("p", "min")).reset_index()
    # the edges in the groups' order (run, interaction, day, group codes, as groupby sorts them), then
    # by sender and receiver: each group's edges are one slice, its offsets the running counts
    src, dst = pd.Categorical(t[S.SOURCE]), pd.Categorical(t[S.TARGET])
    order = np.lexsort((dst.codes, src.codes, g["grp"].to_numpy(), g["d"].to_numpy(), g["i"].to_numpy(),
                        g["r"].to_numpy()))
    offsets = pa.array(np.concatenate([[0], np.cumsum(a["n"].to_numpy())]), type=pa.int32())
    values = {
        S.SENDERS: pa.array(np.asarray(src.categories, dtype=object)[src.codes[order]], type=pa.string()),
        S.RECEIVERS: pa.array(np.asarray(dst.categories, dtype=object)[dst.codes[order]], type=pa.string()),
        S.SCORES: pa.array(g["s"].to_numpy()[order]),
        S.PVALUES: pa.array(np.where(np.isnan(pvalue), S.NO_PVALUE, pvalue)[order]),
        S.CALLS: pa.array(called[order]),
    }  # items typed as _EDGE_LISTS says
    runs = np.asarray(run.categories, dtype=object)[a["r"].to_numpy()]
    out = pd.DataFrame({
        S.RUN_ID: runs,
        S.LOAD_ID: [run_load_id(load_id, r) for r in runs] if len(runs) else [],
        S.INTERACTION: np.asarray(inter.categories, dtype=object)[a["i"].to_numpy()],
        S.DAY: a["d"].astype("int64").to_numpy(),
        S.GROUP: np.asarray(group.categories, dtype=object)[a["grp"].to_numpy()],
        S.N_PAIRS: a["n"].astype("int64").to_numpy(),
        S.N_SIGNIFICANT: a["nsig"].astype("int64").to_numpy(),
        S.MAX_SCORE: a["mx"].to_numpy(),
        S.TOTAL_SCORE: a["tot"].to_numpy(),
        S.MIN_PVALUE: a["mn"].to_numpy(),
    })
    for name, _ in _EDGE_LISTS:
        out[name] = pd.arrays.ArrowExtensionArray(pa.ListArray.from_arrays(offsets, values[name]))
    return out


def interaction_summaries(rows: pd.DataFrame) -> pd.DataFrame:
    """InteractionSummary nodes from per run × interaction rows (summary_rows, or the same
    aggregation read back from a store's SIGNALS for a store written before the summary existed)."""
    out = rows.copy()
    out[S.KEY_PROP] = (out[S.LOAD_ID].astype(str) + S.KEY_SEP + S.state_keys(out[S.INTERACTION], out[S.DAY], out[S.GROUP])
                       if len(out) else np.array([], dtype=object))
    out = out[node_columns(S.INTERACTION_SUMMARY)].reset_index(drop=True)
    for c in (S.MAX_SCORE, S.TOTAL_SCORE, S.MIN_PVALUE):
        out[c] = _nullable(out[c].astype(float))
    return out


class _StateCodes:
    """Each row's sender and receiver CellState as one integer (cell type × day × group), from the
    columns' codes: distinct states and their keys come from a count over a few thousand ids,
    not from hashing millions of rows."""

    def __init__(self, t: pd.DataFrame):
        src, dst, group = (pd.Categorical(t[c]) for c in (S.SOURCE, S.TARGET, S.GROUP))
        types = src.categories.union(dst.categories)
        day_code, days = pd.factorize(t[S.DAY].to_numpy(), sort=True)
        groups = group.categories
        n_groups = len(groups)
        rest = day_code.astype(np.int64) * n_groups + group.codes
        per_type = len(days) * n_groups
        self.source = types.get_indexer(src.categories)[src.codes].astype(np.int64) * per_type + rest
        self.target = types.get_indexer(dst.categories)[dst.codes].astype(np.int64) * per_type + rest
        span = len(types) * per_type
        seen = np.bincount(self.source, minlength=span) + np.bincount(self.target, minlength=span)
        present = np.flatnonzero(seen)
        self._number = np.full(span, -1, dtype=np.int64)  # id -> its place among the present states
        self._number[present] = np.arange(len(present))
        ct = np.asarray(types[present // per_type], dtype=object)
        day = np.asarray(days[(present // n_groups) % len(days)], dtype=np.int64)
        grp = np.asarray(groups[present % n_groups], dtype=object)
        self.states = pd.DataFrame({S.CELL_TYPE_PROP: ct, S.DAY: day, S.GROUP: grp})
        self._state_keys = S.state_keys(self.states[S.CELL_TYPE_PROP], self.states[S.DAY], self.states[S.GROUP])

    def keys(self, ids: np.ndarray) -> pd.Categorical:
        """CellState keys of the rows whose state ids are ``ids`` (source or target)."""
        return pd.Categorical.from_codes(self._number[ids], self._state_keys)


def _first_rows(column: pd.Series) -> np.ndarray:
    """The row where each value first occurs (hashing the small integer codes, not the strings)."""
    return np.flatnonzero(~pd.Series(column.cat.codes.to_numpy()).duplicated().to_numpy())


def _subunits(interactions: pd.DataFrame, side: str) -> pd.DataFrame:
    genes = interactions[side].map(S.subunit_genes)  # a small molecule's genes are its enzymes
    out = pd.DataFrame({FROM: interactions[S.NAME], TO: genes}).explode(TO)
    return out[out[TO].notna() & (out[TO] != "")].drop_duplicates().reset_index(drop=True)


def _samples(t: pd.DataFrame, cell_counts: pd.DataFrame | None) -> pd.DataFrame:
    """Sample nodes (id, patient, day, group) of the table's rows and of per-sample counts; a
    sample without a patient is its own patient (nothing to pair it with)."""
    cols = [S.SAMPLE, S.PATIENT, S.DAY, S.GROUP]
    parts = [t[cols].dropna(subset=[S.SAMPLE]).astype({S.SAMPLE: str}).drop_duplicates()]
    if cell_counts is not None:
        c = cell_counts.dropna(subset=[S.SAMPLE])
        parts.append(c.reindex(columns=cols).drop_duplicates())
    # as objects: counts without a patient column must not decide the dtypes (pandas' all-NA rule)
    s = pd.concat([p.astype(object) for p in parts if len(p)] or parts[:1], ignore_index=True)
    if s.empty:
        return pd.DataFrame(columns=node_columns(S.SAMPLE_NODE))
    s = s.astype({S.SAMPLE: str, S.GROUP: str, S.DAY: "int64"})
    s[S.PATIENT] = s[S.PATIENT].astype(object).where(s[S.PATIENT].notna(), s[S.SAMPLE]).astype(str)
    s = s.drop_duplicates(subset=[S.SAMPLE], keep="first").rename(columns={S.SAMPLE: S.ID})
    return s[node_columns(S.SAMPLE_NODE)].reset_index(drop=True)


def _first(series: pd.Series):
    v = series.dropna()
    return None if v.empty else str(v.iloc[0])


def _runs(t: pd.DataFrame, load_id: str) -> pd.DataFrame:
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    rows = []
    run_ids = t[S.RUN_ID].cat.categories  # validated: every category occurs
    # each run's rows; a load of one run (the usual case) reads its columns without copying them
    at = {run_ids[0]: slice(None)} if len(run_ids) == 1 else t.groupby(S.RUN_ID, observed=True).indices
    cols = [S.DAY, S.GROUP, S.SAMPLE, S.PATIENT, S.METHOD, S.TOOL, S.TOOL_VERSION, S.DATABASE_VERSION, S.PARAMETERS,
            S.SOURCE_FILES, S.SIGNIFICANT, S.TIME_UNIT, S.TIME_LABEL]
    for run_id in sorted(at):
        g = {c: t[c].iloc[at[run_id]] for c in cols}
        days, groups = g[S.DAY].unique(), g[S.GROUP].unique()
        samples = g[S.SAMPLE].dropna().unique()
        patients = g[S.PATIENT].dropna().unique()
        rows.append(
            {
                S.RUN_ID: str(run_id),
                S.LOAD_ID: run_load_id(load_id, run_id),
                S.FORMAT: fmt.get(str(run_id)) if isinstance(fmt := t.attrs.get("format"), dict) else fmt,
                S.METHOD: _first(g[S.METHOD]),
                S.TOOL: _first(g[S.TOOL]),
                S.TOOL_VERSION: _first(g[S.TOOL_VERSION]),
                S.DATABASE_VERSION: _first(g[S.DATABASE_VERSION]),
                S.PARAMETERS: _first(g[S.PARAMETERS]),
                S.SOURCE_FILES: _first(g[S.SOURCE_FILES]),
                S.DAY: int(days[0]) if len(days) == 1 else None,
                S.GROUP: str(groups[0]) if len(groups) == 1 else None,
                S.SAMPLE: ";".join(map(str, samples)) if len(samples) else None,
                S.PATIENT: ";".join(map(str, patients)) if len(patients) else None,
                S.N_ROWS: int(len(g[S.DAY])),
                S.N_SIGNIFICANT: int(g[S.SIGNIFICANT].sum()),
                S.LOADED_AT: now,
                S.TIME_UNIT: _first(g[S.TIME_UNIT]) or DEFAULT_UNIT,
                S.TIME_LABEL: _first(g[S.TIME_LABEL]) if len(days) == 1 else None,
            }
        )
    return pd.DataFrame(rows, columns=node_columns(S.RUN)).astype(object).where(lambda d: d.notna(), None)


def next_edges(states: pd.DataFrame) -> pd.DataFrame:
    """NEXT: each cell type × group's states in day order, consecutive pairs."""
    s = states.sort_values([S.CELL_TYPE_PROP, S.GROUP, S.DAY])
    nxt = s.groupby([S.CELL_TYPE_PROP, S.GROUP], observed=True)[S.KEY_PROP].shift(-1)
    out = pd.DataFrame({FROM: s[S.KEY_PROP], TO: nxt}).dropna()
    return out.reset_index(drop=True)


def parameters_json(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)


@dataclass
class SampleSheetFrames:
    """What a sample sheet writes: each sample's patient, the patients, the clinical records."""

    samples: pd.DataFrame  # id, patient (the sheet's; replaces a sample-is-its-own-patient default)
    patients: pd.DataFrame  # id, group
    measurements: pd.DataFrame  # key, sample, variable, value, text
    measured: pd.DataFrame  # from (sample id), to (measurement key)


def sample_sheet_frames(sheet: pd.DataFrame, measurements: pd.DataFrame) -> SampleSheetFrames:
    m = measurements.copy()
    m.insert(0, S.KEY_PROP, [S.measurement_key(a, b) for a, b in zip(m[S.SAMPLE], m[S.VARIABLE])])
    m[S.VALUE] = m[S.VALUE].astype(float)
    m[S.TEXT] = _nullable(m[S.TEXT])
    patients = (sheet[[S.PATIENT, S.GROUP]].drop_duplicates().astype(str)
                .rename(columns={S.PATIENT: S.ID}).reset_index(drop=True))
    return SampleSheetFrames(
        samples=pd.DataFrame({S.ID: sheet[S.SAMPLE].astype(str).to_numpy(), S.PATIENT: sheet[S.PATIENT].astype(str).to_numpy()}),
        patients=patients[node_columns(S.PATIENT_NODE)],
        measurements=m[node_columns(S.MEASUREMENT)],
        measured=pd.DataFrame({FROM: m[S.SAMPLE].to_numpy(), TO: m[S.KEY_PROP].to_numpy()}),
    )
