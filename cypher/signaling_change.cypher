// signaling_change: day X against a baseline day within a group — per partner and interaction: gained, lost, up, down or unchanged, both scores and the log2 fold change
// $cell_type string — the cell type, e.g. "MX1+ Mono"
// $day int — the day to compare
// $group string = "all" — dose group or cohort ("all" in a study without groups)
// $baseline int = 0 — the day to compare against
// $direction string = "out" — "out": what the cell type sends; "in": what it receives
// $partner string = null — only this partner cell type
// $pathway string = null — only this pathway
// $ligand string = null — only this ligand (a complex as its subunits joined by "_")
// $receptor string = null — only this receptor (a complex as its subunits joined by "_")
// $interaction string = null — only this interaction, e.g. "ICAM1^ITGAL_ITGB2"
// $method string = null — only runs of this inference method
// $pvalue float = 0.05 — a significant interaction also needs a p-value at most this, where the tool gives one (null: no cut)
// $significant_only bool = true — only interactions the tool called significant (false: every inferred interaction)
// $min_score float = 0.0 — only interactions scoring at least this (null: no cut)
// $pseudocount float = 0.001 — added to both mean scores before their log2 ratio (a missing side counts as 0)
// $fold_change float = 1.5 — "up"/"down" need at least this fold change; smaller changes are "unchanged"
// returns: partner, interaction, ligand, receptor, pathway, status, baseline_score, score, delta, log2fc
// :params {cell_type: "MX1+ Mono", day: 7, group: "all", baseline: 0, direction: "out", partner: null, pathway: null, ligand: null, receptor: null, interaction: null, method: null, pvalue: 0.05, significant_only: true, min_score: 0.0, pseudocount: 0.001, fold_change: 1.5}
// A score is the mean over the day's runs (samples) that show the pair; null when none does.
// gained: only on $day; lost: only on $baseline; up/down: on both, |log2fc| >= log2($fold_change).
// The two branches differ only in the direction of the SIGNALS pattern: a plain `s.cell_type = $cell_type`
// lets both engines start from the cell type's CellStates instead of scanning every edge. Each branch also tests
// its direction on s (`s.key = CASE WHEN $direction = … THEN s.key END`), which LadybugDB applies where it scans
// the CellStates, so the other direction's edges are not read (at 10M edges 95 → 82 ms).
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND CASE WHEN (coalesce($baseline, 0) >= 0 OR coalesce($baseline, 0) < 0) THEN coalesce($baseline, 0) % 1 = 0 END
  AND coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND coalesce($pseudocount, 1.0) > 0.0
  AND coalesce($fold_change, 1.0) >= 1.0
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type AND x.`group` = $`group` }
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $baseline AND x.cell_type = $cell_type AND x.`group` = $`group` }
MATCH (s:CellState)-[r:SIGNALS]->(o:CellState)
WHERE $direction = "out" AND s.cell_type = $cell_type AND s.`group` = $`group` AND (s.day = $day OR s.day = $baseline)
  AND s.key = CASE WHEN $direction = "out" THEN s.key END
  AND r.load_id IN live
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.ligand = $ligand OR $ligand IS NULL)
  AND (r.receptor = $receptor OR $receptor IS NULL)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH o.cell_type AS other, r.interaction AS i, r.ligand AS l, r.receptor AS rc, min(r.pathway) AS pw,
     count(CASE WHEN s.day = $baseline THEN 1 END) AS n0,
     sum(CASE WHEN s.day = $baseline THEN r.score ELSE 0.0 END) AS s0,
     count(CASE WHEN s.day = $day THEN 1 END) AS n1,
     sum(CASE WHEN s.day = $day THEN r.score ELSE 0.0 END) AS s1
WITH other, i, l, rc, pw,
     CASE WHEN n0 > 0 THEN s0 / n0 END AS m0,
     CASE WHEN n1 > 0 THEN s1 / n1 END AS m1
WITH other, i, l, rc, pw, m0, m1,
     log10((coalesce(m1, 0.0) + $pseudocount) / (coalesce(m0, 0.0) + $pseudocount)) / log10(2.0) AS lfc
RETURN other AS partner, i AS interaction, l AS ligand, rc AS receptor, pw AS pathway,
       CASE WHEN m0 IS NULL THEN "gained"
            WHEN m1 IS NULL THEN "lost"
            WHEN lfc >= log10($fold_change) / log10(2.0) THEN "up"
            WHEN lfc <= -log10($fold_change) / log10(2.0) THEN "down"
            ELSE "unchanged" END AS status,
       m0 AS baseline_score, m1 AS score, coalesce(m1, 0.0) - coalesce(m0, 0.0) AS delta, lfc AS log2fc
ORDER BY partner, interaction
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND CASE WHEN (coalesce($baseline, 0) >= 0 OR coalesce($baseline, 0) < 0) THEN coalesce($baseline, 0) % 1 = 0 END
  AND coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND coalesce($pseudocount, 1.0) > 0.0
  AND coalesce($fold_change, 1.0) >= 1.0
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type AND x.`group` = $`group` }
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $baseline AND x.cell_type = $cell_type AND x.`group` = $`group` }
MATCH (o:CellState)-[r:SIGNALS]->(s:CellState)
WHERE $direction = "in" AND s.cell_type = $cell_type AND s.`group` = $`group` AND (s.day = $day OR s.day = $baseline)
  AND s.key = CASE WHEN $direction = "in" THEN s.key END
  AND r.load_id IN live
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.ligand = $ligand OR $ligand IS NULL)
  AND (r.receptor = $receptor OR $receptor IS NULL)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH o.cell_type AS other, r.interaction AS i, r.ligand AS l, r.receptor AS rc, min(r.pathway) AS pw,
     count(CASE WHEN s.day = $baseline THEN 1 END) AS n0,
     sum(CASE WHEN s.day = $baseline THEN r.score ELSE 0.0 END) AS s0,
     count(CASE WHEN s.day = $day THEN 1 END) AS n1,
     sum(CASE WHEN s.day = $day THEN r.score ELSE 0.0 END) AS s1
WITH other, i, l, rc, pw,
     CASE WHEN n0 > 0 THEN s0 / n0 END AS m0,
     CASE WHEN n1 > 0 THEN s1 / n1 END AS m1
WITH other, i, l, rc, pw, m0, m1,
     log10((coalesce(m1, 0.0) + $pseudocount) / (coalesce(m0, 0.0) + $pseudocount)) / log10(2.0) AS lfc
RETURN other AS partner, i AS interaction, l AS ligand, rc AS receptor, pw AS pathway,
       CASE WHEN m0 IS NULL THEN "gained"
            WHEN m1 IS NULL THEN "lost"
            WHEN lfc >= log10($fold_change) / log10(2.0) THEN "up"
            WHEN lfc <= -log10($fold_change) / log10(2.0) THEN "down"
            ELSE "unchanged" END AS status,
       m0 AS baseline_score, m1 AS score, coalesce(m1, 0.0) - coalesce(m0, 0.0) AS delta, lfc AS log2fc
ORDER BY partner, interaction
