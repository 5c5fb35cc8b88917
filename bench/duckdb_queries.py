"""The named queries' questions answered with DuckDB SQL over the canonical table in Parquet.

This is the peer a user would pick instead of a graph store: the study's canonical table
written to Parquet, and SQL. :class:`Duck` answers each question as ``bench/pandas_queries.py``
does (same parameters, same columns, same rules: the anchor, then the significance rule, then
the grouping), so answers are checked equal against pandas. Two sources:

- ``Duck(path, memory=True)``: the table read once into DuckDB (in memory), like pandas holds it;
- ``Duck(path, memory=False)``: every question scans the Parquet file itself (``read_parquet``),
  what a user does ad hoc without a load step.

Values travel as parameters (``$name``); only which clauses are present depends on the call.
DuckDB uses every core it sees (here 2); pandas one.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from commgraph import _schema as S

SRC, DST = S.SOURCE, S.TARGET


def _q(col: str) -> str:
    return f'"{col}"'


def _keep(pvalue=0.05, significant_only=True, min_score=0.0) -> tuple[str, dict]:
    """The SQL form of pandas_queries._keep."""
    parts, args = [], {}
    if min_score is not None:
        parts.append(f"{_q(S.SCORE)} >= $min_score")
        args["min_score"] = float(min_score)
    if significant_only:
        if pvalue is not None:
            parts.append(f"{_q(S.SIGNIFICANT)} AND ({_q(S.PVALUE)} IS NULL OR {_q(S.PVALUE)} <= $pvalue)")
            args["pvalue"] = float(pvalue)
        else:
            parts.append(_q(S.SIGNIFICANT))
    return " AND ".join(parts) or "TRUE", args


def _where(eqs: dict[str, object], **keep) -> tuple[str, dict]:
    """``col = $param`` for every given (non-None) value, AND the significance rule."""
    parts, args = [], {}
    for i, (col, v) in enumerate(eqs.items()):
        if v is None:
            continue
        parts.append(f"{_q(col)} = $p{i}")
        args[f"p{i}"] = v
    k, kargs = _keep(**keep)
    parts.append(k)
    args.update(kargs)
    return " AND ".join(parts), args


class Duck:
    """One DuckDB connection over a canonical table (and its cell counts)."""

    def __init__(self, table: str | Path, counts: str | Path | None = None, *, memory: bool = True):
        import duckdb

        self.con = duckdb.connect(":memory:")
        self.memory = memory
        path = str(table).replace("'", "''")
        if memory:
            self.con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{path}')")
            self.src = "t"
        else:
            self.src = f"read_parquet('{path}')"
        if counts is not None:
            cpath = str(counts).replace("'", "''")
            self.con.execute(f"CREATE TABLE c AS SELECT * FROM read_parquet('{cpath}')")

    def close(self) -> None:
        self.con.close()

    def sql(self, text: str, args: dict) -> pd.DataFrame:
        return self.con.execute(text, args).df()

    def query(self, name: str, **params) -> pd.DataFrame:
        return getattr(self, name)(**params)

    # --- the questions ---------------------------------------------------------------------------

    def signaling_by_day(self, *, cell_type, direction="out", **_):
        me, other = (SRC, DST) if direction == "out" else (DST, SRC)
        w, a = _where({me: cell_type})
        return self.sql(f"""
            SELECT "day", "group", count(*) AS n_interactions, count(DISTINCT {_q(other)}) AS n_partners,
                   count(DISTINCT run_id) AS n_runs, sum(score) AS total_score, avg(score) AS mean_score
            FROM {self.src} WHERE {w} GROUP BY ALL ORDER BY "day", "group" """, a)

    def partners(self, *, cell_type, day, group="all", direction="out", **_):
        me, other = (SRC, DST) if direction == "out" else (DST, SRC)
        w, a = _where({me: cell_type, S.DAY: day, S.GROUP: group})
        return self.sql(f"""
            SELECT {_q(other)} AS partner, interaction, ligand, receptor, min(pathway) AS pathway,
                   avg(score) AS score, max(pvalue) AS pvalue, count(DISTINCT run_id) AS n_runs
            FROM {self.src} WHERE {w} GROUP BY ALL ORDER BY score DESC, partner, interaction""", a)

    def _change(self, keys: list[str], where: str, args: dict, day, baseline, *, pseudocount=0.001,
                fold_change=1.5) -> str:
        args.update(day_=day, base_=baseline, pc_=pseudocount, thr_=math.log2(fold_change))
        k = ", ".join(keys)
        return f"""
            WITH g AS (
              SELECT {k}, min(pathway) AS pathway,
                     avg(CASE WHEN "day" = $base_ THEN score END) AS baseline_score,
                     avg(CASE WHEN "day" = $day_ THEN score END) AS score
              FROM e GROUP BY ALL),
            f AS (SELECT *, log2((coalesce(score, 0) + $pc_) / (coalesce(baseline_score, 0) + $pc_)) AS log2fc,
                         coalesce(score, 0) - coalesce(baseline_score, 0) AS delta FROM g)
            SELECT *, CASE WHEN baseline_score IS NULL THEN 'gained' WHEN score IS NULL THEN 'lost'
                           WHEN log2fc >= $thr_ THEN 'up' WHEN log2fc <= -$thr_ THEN 'down'
                           ELSE 'unchanged' END AS status FROM f"""

    def signaling_change(self, *, cell_type, day, group="all", baseline=0, direction="out", **_):
        me, other = (SRC, DST) if direction == "out" else (DST, SRC)
        w, a = _where({me: cell_type, S.GROUP: group})
        a.update(d0=day, d1=baseline)
        body = self._change(["partner", "interaction", "ligand", "receptor"], w, a, day, baseline)
        return self.sql(f"""
            WITH e AS (SELECT {_q(other)} AS partner, * FROM {self.src}
                       WHERE {w} AND "day" IN ($d0, $d1)), x AS ({body})
            SELECT partner, interaction, ligand, receptor, pathway, status, baseline_score, score, delta, log2fc
            FROM x ORDER BY partner, interaction""", a)

    def top_changes(self, *, day, group="all", baseline=0, limit=20, sender=None, **_):
        w, a = _where({S.GROUP: group, SRC: sender})
        a.update(d0=day, d1=baseline, lim=int(limit))
        body = self._change(["sender", "receiver", "interaction", "ligand", "receptor"], w, a, day, baseline)
        return self.sql(f"""
            WITH e AS (SELECT {_q(SRC)} AS sender, {_q(DST)} AS receiver, * FROM {self.src}
                       WHERE {w} AND "day" IN ($d0, $d1)), x AS ({body})
            SELECT sender, receiver, interaction, ligand, receptor, pathway, status, baseline_score, score, delta,
                   log2fc
            FROM x WHERE status <> 'unchanged'
            ORDER BY abs(delta) DESC, abs(log2fc) DESC, sender, receiver, interaction LIMIT $lim""", a)

    def dose_response(self, *, cell_type, day, baseline=0, direction="out", pseudocount=0.001, **_):
        me = SRC if direction == "out" else DST
        w, a = _where({me: cell_type})
        a.update(d0=day, d1=baseline, pc_=pseudocount)
        return self.sql(f"""
            WITH g AS (
              SELECT "group", count(*) FILTER ("day" = $d1) AS n_baseline, count(*) FILTER ("day" = $d0) AS n_day,
                     coalesce(sum(score) FILTER ("day" = $d1), 0) AS baseline_score,
                     coalesce(sum(score) FILTER ("day" = $d0), 0) AS score
              FROM {self.src} WHERE {w} AND "day" IN ($d0, $d1) GROUP BY ALL)
            SELECT *, score - baseline_score AS delta, log2((score + $pc_) / (baseline_score + $pc_)) AS log2fc
            FROM g ORDER BY "group" """, a)

    def roles(self, *, day=None, group=None, cell_type=None, **_):
        w, a = _where({S.DAY: day, S.GROUP: group})
        if cell_type is not None:
            w += f" AND ({_q(SRC)} = $ct OR {_q(DST)} = $ct)"
            a["ct"] = cell_type
        last = 'WHERE cell_type = $ct' if cell_type is not None else ''
        return self.sql(f"""
            WITH e AS (SELECT * FROM {self.src} WHERE {w}),
            o AS (SELECT "day", "group", {_q(SRC)} AS cell_type, sum(score) AS out_strength,
                         count(DISTINCT {_q(DST)}) AS out_degree, count(*) AS n_out FROM e GROUP BY ALL),
            i AS (SELECT "day", "group", {_q(DST)} AS cell_type, sum(score) AS in_strength,
                         count(DISTINCT {_q(SRC)}) AS in_degree, count(*) AS n_in FROM e GROUP BY ALL),
            j AS (SELECT coalesce(o."day", i."day") AS "day", coalesce(o."group", i."group") AS "group",
                         coalesce(o.cell_type, i.cell_type) AS cell_type,
                         coalesce(out_strength, 0) AS out_strength, coalesce(in_strength, 0) AS in_strength,
                         coalesce(out_degree, 0) AS out_degree, coalesce(in_degree, 0) AS in_degree,
                         coalesce(n_out, 0) AS n_out, coalesce(n_in, 0) AS n_in
                  FROM o FULL OUTER JOIN i USING ("day", "group", cell_type))
            SELECT * FROM j {last} ORDER BY "day", "group", cell_type""", a)

    def network(self, *, day=None, group=None, sender=None, receiver=None, **_):
        w, a = _where({S.GROUP: group, SRC: sender, DST: receiver, S.DAY: day})
        return self.sql(f"""
            SELECT "day", "group", {_q(SRC)} AS sender, {_q(DST)} AS receiver, count(*) AS n_interactions,
                   sum(score) AS total_score, avg(score) AS mean_score
            FROM {self.src} WHERE {w} GROUP BY ALL ORDER BY "day", "group", sender, receiver""", a)

    def pathway_flow(self, *, group=None, day=None, sender=None, receiver=None, pathway=None, **_):
        w, a = _where({S.GROUP: group, SRC: sender, DST: receiver, S.PATHWAY: pathway, S.DAY: day})
        return self.sql(f"""
            WITH g AS (SELECT pathway, "group", "day", count(*) AS n_interactions, sum(score) AS flow
                       FROM {self.src} WHERE {w} GROUP BY ALL),
            s AS (SELECT *, sum(flow) OVER (PARTITION BY "group", "day") AS total FROM g)
            SELECT pathway, "group", "day", n_interactions, flow, CASE WHEN total > 0 THEN flow / total END AS share
            FROM s ORDER BY pathway, "group", "day" """, a)

    def lr_trajectory(self, *, ligand=None, receptor=None, interaction=None, sender=None, receiver=None,
                      pvalue=0.05, significant_only=False, min_score=0.0, **_):
        w, a = _where({S.LIGAND: ligand, S.RECEPTOR: receptor, S.INTERACTION: interaction, SRC: sender,
                       DST: receiver}, pvalue=pvalue, significant_only=significant_only, min_score=min_score)
        sig = "significant"
        if pvalue is not None:
            sig = "significant AND (pvalue IS NULL OR pvalue <= $pv_)"
            a["pv_"] = float(pvalue)
        return self.sql(f"""
            SELECT interaction, {_q(SRC)} AS sender, {_q(DST)} AS receiver, "group", "day",
                   count(DISTINCT run_id) AS n_runs, count(*) FILTER ({sig}) AS n_significant,
                   avg(score) AS mean_score, max(score) AS max_score, min(pvalue) AS min_pvalue
            FROM {self.src} WHERE {w} GROUP BY ALL ORDER BY interaction, sender, receiver, "group", "day" """, a)

    def cell_composition(self, *, cell_type=None, day=None, group=None, **_):
        parts, a = [], {}
        for i, (col, v) in enumerate(((S.CELL_TYPE_PROP, cell_type), (S.DAY, day), (S.GROUP, group))):
            if v is not None:
                parts.append(f"{_q(col)} = $p{i}")
                a[f"p{i}"] = v
        w = " AND ".join(parts) or "TRUE"
        return self.sql(f"""
            WITH p AS (SELECT cell_type, "day", "group", sum(n_cells) AS n_cells FROM c GROUP BY ALL),
            f AS (SELECT *, n_cells / sum(n_cells) OVER (PARTITION BY "day", "group") AS fraction FROM p)
            SELECT cell_type, "group", "day", n_cells, fraction FROM f WHERE {w}
            ORDER BY cell_type, "group", "day" """, a)

    def interaction_catalogue(self, *, interaction=None, pvalue=0.05, **_):
        a: dict = {}
        w = "TRUE"
        if interaction is not None:
            w, a["i_"] = "interaction = $i_", interaction
        sig = "significant"
        if pvalue is not None:
            sig, a["pv_"] = "significant AND (pvalue IS NULL OR pvalue <= $pv_)", float(pvalue)
        out = self.sql(f"""
            WITH e AS (SELECT * FROM {self.src} WHERE {w}),
            g AS (SELECT interaction, "group", "day", count(DISTINCT run_id) AS n_runs, count(*) AS n_pairs,
                         count(*) FILTER ({sig}) AS n_significant, max(score) AS max_score FROM e GROUP BY ALL),
            n AS (SELECT interaction, first(ligand) AS ligand, first(receptor) AS receptor,
                         first(pathway) AS pathway FROM e GROUP BY ALL)
            SELECT interaction, ligand, receptor, pathway, NULL::VARCHAR AS annotation,
                   NULL AS ligand_genes, NULL AS receptor_genes,
                   "group", "day", n_runs, n_pairs, n_significant, max_score
            FROM g JOIN n USING (interaction) ORDER BY interaction, "group", "day" """, a)
        # subunit genes as the store derives them (small molecules name their enzymes in parentheses):
        # commgraph's own rule, applied to the distinct names, as a user would in Python
        from .pandas_queries import _genes

        out["ligand_genes"] = _genes(out[S.LIGAND])
        out["receptor_genes"] = _genes(out[S.RECEPTOR])
        return out
