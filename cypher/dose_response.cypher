// dose_response: how a cell type's signaling on one day differs from baseline in each dose group — significant interactions and total score on both days, difference and log2 fold change
// $cell_type string — the cell type, e.g. "MX1+ Mono"
// $day int — the day to compare
// $baseline int = 0 — the day to compare against
// $direction string = "out" — "out": what the cell type sends; "in": what it receives
// $partner string = null — only signaling to (out) or from (in) this cell type
// $pathway string = null — only this pathway
// $ligand string = null — only this ligand (a complex as its subunits joined by "_")
// $receptor string = null — only this receptor (a complex as its subunits joined by "_")
// $interaction string = null — only this interaction, e.g. "ICAM1^ITGAL_ITGB2"
// $method string = null — only runs of this inference method
// $pvalue float = 0.05 — a significant interaction also needs a p-value at most this, where the tool gives one (null: no cut)
// $significant_only bool = true — only interactions the tool called significant (false: every inferred interaction)
// $min_score float = 0.0 — only interactions scoring at least this (null: no cut)
// $pseudocount float = 0.001 — added to both total scores before their log2 ratio
// returns: group, n_baseline, n_day, baseline_score, score, delta, log2fc
// :params {cell_type: "MX1+ Mono", day: 7, baseline: 0, direction: "out", partner: null, pathway: null, ligand: null, receptor: null, interaction: null, method: null, pvalue: 0.05, significant_only: true, min_score: 0.0, pseudocount: 0.001}
// Scores are totals (strength) over the day's significant interactions; a group shows up when the cell type was
// sampled in it on both days (a cohort seen only at baseline, like healthy donors, has no change to show).
// The two branches differ only in the direction of the SIGNALS pattern: a plain `s.cell_type = $cell_type`
// lets both engines start from the cell type's CellStates instead of scanning every edge. Each branch also tests
// its direction on s (`s.key = CASE WHEN $direction = … THEN s.key END`), which LadybugDB applies where it scans
// the CellStates, so the other direction's edges are not read (at 10M edges given a ligand 169 → 127 ms).
// Each question reads the summary layer (SUMMARY: per run and sender→receiver state, counts and total scores at the
// default filters; PATHWAY_SUMMARY: the same per pathway) when no per-interaction filter is given, min_score is 0.0
// and pvalue 0.05 (or significance is not asked for), and the SIGNALS edges otherwise: the line after each branch's
// guard lets rows through on one path only, and the nodes of its first MATCH repeat that test (LadybugDB applies it
// where it scans them), so the other branches read no edge.
// Counts are sums (sum(1), not count(r)) on every path: LadybugDB sums integers into a wider type than it counts in, and the branches of a UNION must agree.
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND CASE WHEN (coalesce($baseline, 0) >= 0 OR coalesce($baseline, 0) < 0) THEN coalesce($baseline, 0) % 1 = 0 END
  AND coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND coalesce($pseudocount, 1.0) > 0.0
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type }
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $baseline AND x.cell_type = $cell_type }
WITH live AS live WHERE NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL)
MATCH (s:CellState)-[r:SIGNALS]->(o:CellState)
WHERE $direction = "out" AND s.cell_type = $cell_type AND (s.day = $day OR s.day = $baseline)
  AND s.key = CASE WHEN $direction = "out" AND NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL) THEN s.key END
  AND r.load_id IN live
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.ligand = $ligand OR $ligand IS NULL)
  AND (r.receptor = $receptor OR $receptor IS NULL)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH s.`group` AS g,
     sum(CASE WHEN s.day = $baseline THEN 1 ELSE 0 END) AS n0,
     sum(CASE WHEN s.day = $baseline THEN r.score ELSE 0.0 END) AS s0,
     sum(CASE WHEN s.day = $day THEN 1 ELSE 0 END) AS n1,
     sum(CASE WHEN s.day = $day THEN r.score ELSE 0.0 END) AS s1
WHERE EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND x.day = $day AND x.`group` = g }
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND x.day = $baseline AND x.`group` = g }
RETURN g AS `group`, n0 AS n_baseline, n1 AS n_day, s0 AS baseline_score, s1 AS score, s1 - s0 AS delta,
       log10((s1 + $pseudocount) / (s0 + $pseudocount)) / log10(2.0) AS log2fc
ORDER BY `group`
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND CASE WHEN (coalesce($baseline, 0) >= 0 OR coalesce($baseline, 0) < 0) THEN coalesce($baseline, 0) % 1 = 0 END
  AND coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND coalesce($pseudocount, 1.0) > 0.0
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type }
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $baseline AND x.cell_type = $cell_type }
WITH live AS live WHERE NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL)
MATCH (o:CellState)-[r:SIGNALS]->(s:CellState)
WHERE $direction = "in" AND s.cell_type = $cell_type AND (s.day = $day OR s.day = $baseline)
  AND s.key = CASE WHEN $direction = "in" AND NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL) THEN s.key END
  AND r.load_id IN live
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.ligand = $ligand OR $ligand IS NULL)
  AND (r.receptor = $receptor OR $receptor IS NULL)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH s.`group` AS g,
     sum(CASE WHEN s.day = $baseline THEN 1 ELSE 0 END) AS n0,
     sum(CASE WHEN s.day = $baseline THEN r.score ELSE 0.0 END) AS s0,
     sum(CASE WHEN s.day = $day THEN 1 ELSE 0 END) AS n1,
     sum(CASE WHEN s.day = $day THEN r.score ELSE 0.0 END) AS s1
WHERE EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND x.day = $day AND x.`group` = g }
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND x.day = $baseline AND x.`group` = g }
RETURN g AS `group`, n0 AS n_baseline, n1 AS n_day, s0 AS baseline_score, s1 AS score, s1 - s0 AS delta,
       log10((s1 + $pseudocount) / (s0 + $pseudocount)) / log10(2.0) AS log2fc
ORDER BY `group`
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND CASE WHEN (coalesce($baseline, 0) >= 0 OR coalesce($baseline, 0) < 0) THEN coalesce($baseline, 0) % 1 = 0 END
  AND coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND coalesce($pseudocount, 1.0) > 0.0
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type }
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $baseline AND x.cell_type = $cell_type }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NULL
MATCH (s:CellState)-[m:SUMMARY]->(o:CellState)
WHERE $direction = "out" AND s.cell_type = $cell_type AND (s.day = $day OR s.day = $baseline)
  AND s.key = CASE WHEN $direction = "out" AND coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NULL THEN s.key END
  AND m.load_id IN live
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND (m.method = $method OR $method IS NULL)
WITH s, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS score
WHERE n > 0
WITH s.`group` AS g,
     sum(CASE WHEN s.day = $baseline THEN n ELSE 0 END) AS n0,
     sum(CASE WHEN s.day = $baseline THEN score ELSE 0.0 END) AS s0,
     sum(CASE WHEN s.day = $day THEN n ELSE 0 END) AS n1,
     sum(CASE WHEN s.day = $day THEN score ELSE 0.0 END) AS s1
WHERE EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND x.day = $day AND x.`group` = g }
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND x.day = $baseline AND x.`group` = g }
RETURN g AS `group`, n0 AS n_baseline, n1 AS n_day, s0 AS baseline_score, s1 AS score, s1 - s0 AS delta,
       log10((s1 + $pseudocount) / (s0 + $pseudocount)) / log10(2.0) AS log2fc
ORDER BY `group`
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND CASE WHEN (coalesce($baseline, 0) >= 0 OR coalesce($baseline, 0) < 0) THEN coalesce($baseline, 0) % 1 = 0 END
  AND coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND coalesce($pseudocount, 1.0) > 0.0
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type }
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $baseline AND x.cell_type = $cell_type }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NULL
MATCH (o:CellState)-[m:SUMMARY]->(s:CellState)
WHERE $direction = "in" AND s.cell_type = $cell_type AND (s.day = $day OR s.day = $baseline)
  AND s.key = CASE WHEN $direction = "in" AND coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NULL THEN s.key END
  AND m.load_id IN live
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND (m.method = $method OR $method IS NULL)
WITH s, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS score
WHERE n > 0
WITH s.`group` AS g,
     sum(CASE WHEN s.day = $baseline THEN n ELSE 0 END) AS n0,
     sum(CASE WHEN s.day = $baseline THEN score ELSE 0.0 END) AS s0,
     sum(CASE WHEN s.day = $day THEN n ELSE 0 END) AS n1,
     sum(CASE WHEN s.day = $day THEN score ELSE 0.0 END) AS s1
WHERE EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND x.day = $day AND x.`group` = g }
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND x.day = $baseline AND x.`group` = g }
RETURN g AS `group`, n0 AS n_baseline, n1 AS n_day, s0 AS baseline_score, s1 AS score, s1 - s0 AS delta,
       log10((s1 + $pseudocount) / (s0 + $pseudocount)) / log10(2.0) AS log2fc
ORDER BY `group`
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND CASE WHEN (coalesce($baseline, 0) >= 0 OR coalesce($baseline, 0) < 0) THEN coalesce($baseline, 0) % 1 = 0 END
  AND coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND coalesce($pseudocount, 1.0) > 0.0
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type }
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $baseline AND x.cell_type = $cell_type }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NOT NULL
MATCH (s:CellState)-[m:PATHWAY_SUMMARY]->(o:CellState)
WHERE $direction = "out" AND s.cell_type = $cell_type AND (s.day = $day OR s.day = $baseline)
  AND s.key = CASE WHEN $direction = "out" AND coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NOT NULL THEN s.key END
  AND m.load_id IN live
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND m.pathway = $pathway
  AND (m.method = $method OR $method IS NULL)
WITH s, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS score
WHERE n > 0
WITH s.`group` AS g,
     sum(CASE WHEN s.day = $baseline THEN n ELSE 0 END) AS n0,
     sum(CASE WHEN s.day = $baseline THEN score ELSE 0.0 END) AS s0,
     sum(CASE WHEN s.day = $day THEN n ELSE 0 END) AS n1,
     sum(CASE WHEN s.day = $day THEN score ELSE 0.0 END) AS s1
WHERE EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND x.day = $day AND x.`group` = g }
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND x.day = $baseline AND x.`group` = g }
RETURN g AS `group`, n0 AS n_baseline, n1 AS n_day, s0 AS baseline_score, s1 AS score, s1 - s0 AS delta,
       log10((s1 + $pseudocount) / (s0 + $pseudocount)) / log10(2.0) AS log2fc
ORDER BY `group`
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND CASE WHEN (coalesce($baseline, 0) >= 0 OR coalesce($baseline, 0) < 0) THEN coalesce($baseline, 0) % 1 = 0 END
  AND coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND coalesce($pseudocount, 1.0) > 0.0
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type }
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $baseline AND x.cell_type = $cell_type }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NOT NULL
MATCH (o:CellState)-[m:PATHWAY_SUMMARY]->(s:CellState)
WHERE $direction = "in" AND s.cell_type = $cell_type AND (s.day = $day OR s.day = $baseline)
  AND s.key = CASE WHEN $direction = "in" AND coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NOT NULL THEN s.key END
  AND m.load_id IN live
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND m.pathway = $pathway
  AND (m.method = $method OR $method IS NULL)
WITH s, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS score
WHERE n > 0
WITH s.`group` AS g,
     sum(CASE WHEN s.day = $baseline THEN n ELSE 0 END) AS n0,
     sum(CASE WHEN s.day = $baseline THEN score ELSE 0.0 END) AS s0,
     sum(CASE WHEN s.day = $day THEN n ELSE 0 END) AS n1,
     sum(CASE WHEN s.day = $day THEN score ELSE 0.0 END) AS s1
WHERE EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND x.day = $day AND x.`group` = g }
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND x.day = $baseline AND x.`group` = g }
RETURN g AS `group`, n0 AS n_baseline, n1 AS n_day, s0 AS baseline_score, s1 AS score, s1 - s0 AS delta,
       log10((s1 + $pseudocount) / (s0 + $pseudocount)) / log10(2.0) AS log2fc
ORDER BY `group`
