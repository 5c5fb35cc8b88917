// signaling_by_day: a cell type's outgoing (or incoming) signaling per day and group — number of significant interactions, partners, total and mean score
// $cell_type string — the cell type, e.g. "MX1+ Mono"
// $direction string = "out" — "out": what the cell type sends; "in": what it receives
// $group string = null — only this dose group or cohort (null: every group)
// $partner string = null — only signaling to (out) or from (in) this cell type
// $pathway string = null — only this pathway
// $ligand string = null — only this ligand (a complex as its subunits joined by "_")
// $receptor string = null — only this receptor (a complex as its subunits joined by "_")
// $interaction string = null — only this interaction, e.g. "ICAM1^ITGAL_ITGB2"
// $method string = null — only runs of this inference method
// $pvalue float = 0.05 — a significant interaction also needs a p-value at most this, where the tool gives one (null: no cut)
// $significant_only bool = true — only interactions the tool called significant (false: every inferred interaction)
// $min_score float = 0.0 — only interactions scoring at least this (null: no cut)
// returns: day, group, n_interactions, n_partners, n_runs, total_score, mean_score
// :params {cell_type: "MX1+ Mono", direction: "out", group: null, partner: null, pathway: null, ligand: null, receptor: null, interaction: null, method: null, pvalue: 0.05, significant_only: true, min_score: 0.0}
// The two branches differ only in the direction of the SIGNALS pattern: a plain `s.cell_type = $cell_type`
// lets both engines start from the cell type's CellStates instead of scanning every edge. Each branch also tests
// its direction on s (`s.key = CASE WHEN $direction = … THEN s.key END`), which LadybugDB applies where it scans
// the CellStates, so the other direction's edges are not read (at 10M edges given a ligand 313 → 187 ms).
// Each question reads the summary layer (SUMMARY: per run and sender→receiver state, counts and total scores at the
// default filters; PATHWAY_SUMMARY: the same per pathway) when no per-interaction filter is given, min_score is 0.0
// and pvalue 0.05 (or significance is not asked for), and the SIGNALS edges otherwise: the line after each branch's
// guard lets rows through on one path only, and the nodes of its first MATCH repeat that test (LadybugDB applies it
// where it scans them), so the other branches read no edge.
// Counts are sums (sum(1), not count(r)) on every path: LadybugDB sums integers into a wider type than it counts in, and the branches of a UNION must agree.
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL)
MATCH (s:CellState)-[r:SIGNALS]->(o:CellState)
WHERE $direction = "out" AND s.cell_type = $cell_type AND r.load_id IN live
  AND s.key = CASE WHEN $direction = "out" AND NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL) THEN s.key END
  AND (s.`group` = $`group` OR $`group` IS NULL)
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.ligand = $ligand OR $ligand IS NULL)
  AND (r.receptor = $receptor OR $receptor IS NULL)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
RETURN s.day AS day, s.`group` AS `group`, sum(1) AS n_interactions, count(DISTINCT o.cell_type) AS n_partners,
       count(DISTINCT r.run_id) AS n_runs, sum(r.score) AS total_score, avg(r.score) AS mean_score
ORDER BY day, `group`
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL)
MATCH (o:CellState)-[r:SIGNALS]->(s:CellState)
WHERE $direction = "in" AND s.cell_type = $cell_type AND r.load_id IN live
  AND s.key = CASE WHEN $direction = "in" AND NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL) THEN s.key END
  AND (s.`group` = $`group` OR $`group` IS NULL)
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.ligand = $ligand OR $ligand IS NULL)
  AND (r.receptor = $receptor OR $receptor IS NULL)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
RETURN s.day AS day, s.`group` AS `group`, sum(1) AS n_interactions, count(DISTINCT o.cell_type) AS n_partners,
       count(DISTINCT r.run_id) AS n_runs, sum(r.score) AS total_score, avg(r.score) AS mean_score
ORDER BY day, `group`
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NULL
MATCH (s:CellState)-[m:SUMMARY]->(o:CellState)
WHERE $direction = "out" AND s.cell_type = $cell_type AND m.load_id IN live
  AND s.key = CASE WHEN $direction = "out" AND coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NULL THEN s.key END
  AND (s.`group` = $`group` OR $`group` IS NULL)
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND (m.method = $method OR $method IS NULL)
WITH s, o, m, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS score
WHERE n > 0
RETURN s.day AS day, s.`group` AS `group`, sum(n) AS n_interactions, count(DISTINCT o.cell_type) AS n_partners,
       count(DISTINCT m.run_id) AS n_runs, sum(score) AS total_score, sum(score) / sum(n) AS mean_score
ORDER BY day, `group`
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NULL
MATCH (o:CellState)-[m:SUMMARY]->(s:CellState)
WHERE $direction = "in" AND s.cell_type = $cell_type AND m.load_id IN live
  AND s.key = CASE WHEN $direction = "in" AND coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NULL THEN s.key END
  AND (s.`group` = $`group` OR $`group` IS NULL)
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND (m.method = $method OR $method IS NULL)
WITH s, o, m, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS score
WHERE n > 0
RETURN s.day AS day, s.`group` AS `group`, sum(n) AS n_interactions, count(DISTINCT o.cell_type) AS n_partners,
       count(DISTINCT m.run_id) AS n_runs, sum(score) AS total_score, sum(score) / sum(n) AS mean_score
ORDER BY day, `group`
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NOT NULL
MATCH (s:CellState)-[m:PATHWAY_SUMMARY]->(o:CellState)
WHERE $direction = "out" AND s.cell_type = $cell_type AND m.load_id IN live
  AND s.key = CASE WHEN $direction = "out" AND coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NOT NULL THEN s.key END
  AND (s.`group` = $`group` OR $`group` IS NULL)
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND m.pathway = $pathway
  AND (m.method = $method OR $method IS NULL)
WITH s, o, m, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS score
WHERE n > 0
RETURN s.day AS day, s.`group` AS `group`, sum(n) AS n_interactions, count(DISTINCT o.cell_type) AS n_partners,
       count(DISTINCT m.run_id) AS n_runs, sum(score) AS total_score, sum(score) / sum(n) AS mean_score
ORDER BY day, `group`
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NOT NULL
MATCH (o:CellState)-[m:PATHWAY_SUMMARY]->(s:CellState)
WHERE $direction = "in" AND s.cell_type = $cell_type AND m.load_id IN live
  AND s.key = CASE WHEN $direction = "in" AND coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NOT NULL THEN s.key END
  AND (s.`group` = $`group` OR $`group` IS NULL)
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND m.pathway = $pathway
  AND (m.method = $method OR $method IS NULL)
WITH s, o, m, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS score
WHERE n > 0
RETURN s.day AS day, s.`group` AS `group`, sum(n) AS n_interactions, count(DISTINCT o.cell_type) AS n_partners,
       count(DISTINCT m.run_id) AS n_runs, sum(score) AS total_score, sum(score) / sum(n) AS mean_score
ORDER BY day, `group`
