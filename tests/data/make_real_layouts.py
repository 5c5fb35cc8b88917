"""Write the real-layout fixtures of issue 14 (see tests/data/README.md, "Real layouts").

- ``cellphonedb_v2/``: ``means.txt``, ``pvalues.txt``, ``significant_means.txt`` in the layout
  CellPhoneDB v2-v3 (``cellphonedb method statistical_analysis``) wrote: ``id_cp_interaction,
  interacting_pair, partner_a, partner_b, gene_a, gene_b, secreted, receptor_a, receptor_b,
  annotation_strategy, is_integrin`` (significant_means also ``rank``), then one ``A|B`` column per
  cell-type pair (ventolab/CellphoneDB ``Docs/RESULTS-DOCUMENTATION.md``). Rows and cells: the first
  30 interactions of the real v5 run in ``cellphonedb/`` with the v5-only columns
  (``directionality``, ``classification``) left out.
- ``cellphonedb_v4/``: the same tables under CellPhoneDB v4's names
  ``statistical_analysis_{means,pvalues,significant_means}_<suffix>.txt`` (v4's default suffix is
  a timestamp; here ``08_03_2023_101500``).
- ``timecourse_hours/cpdb_long_hours.tsv``: a time course over two days in hours, in one long
  table in CellPhoneDB v2 pair naming — the melted form of v2's means/pvalues (one row per
  timepoint × ``interacting_pair`` × ``A|B`` column; partner A expressed by A), columns ``time``
  (``0h`` … ``48h``), ``interacting_pair``, ``cell_pair``, ``mean``, ``pvalue``. Six of its ten pairs
  are listed receptor first, as CellPhoneDB v2 listed them (``CD74_MIF``, ``CD74_APP``,
  ``DPP4_CXCL10``, ``CCR1_CCL5``, ``FPR1_ANXA1``, ``ACVR_1B2A receptor_INHBA``), one uses a v2 integrin
  complex name (``ICAM1_aLb2 complex``). Values are made up (deterministic), not measured.
- ``conditions/liana_control_stimulated.csv``: LIANA+ ``rank_aggregate`` columns (``source,
  target, ligand_complex, receptor_complex, …, magnitude_rank``; liana-py docs, "liana_res") for a
  control and a stimulated condition in one table with a ``condition`` column: control is the
  real LIANA+ run in ``liana/rank_aggregate.csv``; stimulated is the same rows with
  ``magnitude_rank`` squared for interactions sent by Myeloid cells (a smaller rank: stronger) —
  made up.

Run: ``python tests/data/make_real_layouts.py`` from the repository top.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
V5_ONLY = ["directionality", "classification"]
V4_SUFFIX = "08_03_2023_101500"


def older_cellphonedb() -> None:
    src = HERE / "cellphonedb"
    tables = {role: pd.read_csv(src / f"statistical_analysis_{role}_fixture.txt", sep="\t", dtype=str, keep_default_na=False)
              for role in ("means", "pvalues", "significant_means")}
    ids = tables["means"]["id_cp_interaction"].iloc[:30]
    for folder, name in (("cellphonedb_v2", "{role}.txt"), ("cellphonedb_v4", "statistical_analysis_{role}_" + V4_SUFFIX + ".txt")):
        (HERE / folder).mkdir(exist_ok=True)
        for role, t in tables.items():
            t = t[t["id_cp_interaction"].isin(ids)].drop(columns=V5_ONLY)
            t.to_csv(HERE / folder / name.format(role=role), sep="\t", index=False)


PAIRS = [  # interacting_pair as CellPhoneDB v2 wrote it (partner A first)
    "CD74_MIF", "CD74_APP", "DPP4_CXCL10", "CCR1_CCL5", "FPR1_ANXA1", "ACVR_1B2A receptor_INHBA",
    "ICAM1_aLb2 complex", "LGALS9_HAVCR2", "SPP1_CD44", "TNF_TNFRSF1A",
]
CELLS = ["Mono", "CD4T", "NK"]
HOURS = [0, 2, 4, 6, 12, 24, 48]


def timecourse() -> pd.DataFrame:
    rng = np.random.default_rng(14)
    rows = []
    for h in HOURS:
        peak = np.exp(-((h - 6) ** 2) / 50.0)  # a response that peaks at 6 h and fades by 48 h
        for pair in PAIRS:
            for a in CELLS:
                for b in CELLS:
                    mean = round(float(rng.uniform(0.05, 0.6) + (1.5 * peak if a == "Mono" else 0.0)), 3)
                    pvalue = round(float(rng.choice([0.0, 0.002, 0.03, 0.2, 0.6, 1.0])), 3)
                    rows.append({"time": f"{h}h", "interacting_pair": pair, "cell_pair": f"{a}|{b}",
                                 "mean": mean, "pvalue": pvalue})
    t = pd.DataFrame(rows)
    (HERE / "timecourse_hours").mkdir(exist_ok=True)
    t.to_csv(HERE / "timecourse_hours" / "cpdb_long_hours.tsv", sep="\t", index=False)
    return t


def conditions() -> pd.DataFrame:
    control = pd.read_csv(HERE / "liana" / "rank_aggregate.csv")
    stimulated = control.copy()
    mye = stimulated["source"] == "Myeloid"
    stimulated.loc[mye, "magnitude_rank"] = stimulated.loc[mye, "magnitude_rank"] ** 2
    t = pd.concat([control.assign(condition="control"), stimulated.assign(condition="stimulated")], ignore_index=True)
    (HERE / "conditions").mkdir(exist_ok=True)
    t.to_csv(HERE / "conditions" / "liana_control_stimulated.csv", index=False)
    return t


if __name__ == "__main__":
    older_cellphonedb()
    print(f"timecourse: {len(timecourse())} rows; conditions: {len(conditions())} rows")
