// network: the aggregated cell-type network per day and group — per sender and receiver, number of significant interactions, total and mean score (CellChat's count and weight)
// $day int = null — only this day (null: every day)
// $group string = null — only this dose group or cohort (null: every group)
// $sender string = null — only signaling from this cell type
// $receiver string = null — only signaling to this cell type
// $pathway string = null — only this pathway
// $ligand string = null — only this ligand (a complex as its subunits joined by "_")
// $receptor string = null — only this receptor (a complex as its subunits joined by "_")
// $interaction string = null — only this interaction, e.g. "APP^CD74"
// $method string = null — only runs of this inference method
// $pvalue float = 0.05 — a significant interaction also needs a p-value at most this, where the tool gives one (null: no cut)
// $significant_only bool = true — only interactions the tool called significant (false: every inferred interaction)
// $min_score float = 0.0 — only interactions scoring at least this (null: no cut)
// returns: day, group, sender, receiver, n_interactions, total_score, mean_score
// :params {day: null, group: null, sender: null, receiver: null, pathway: null, ligand: null, receptor: null, interaction: null, method: null, pvalue: 0.05, significant_only: true, min_score: 0.0}
// Each question reads the summary layer (SUMMARY: per run and sender→receiver state, counts and total scores at the
// default filters; PATHWAY_SUMMARY: the same per pathway) when no per-interaction filter is given, min_score is 0.0
// and pvalue 0.05 (or significance is not asked for), and the SIGNALS edges otherwise: the line after each branch's
// guard lets rows through on one path only, and the nodes of its first MATCH repeat that test (LadybugDB applies it
// where it scans them), so the other branches read no edge.
// Counts are sums (sum(1), not count(r)) on every path: LadybugDB sums integers into a wider type than it counts in, and the branches of a UNION must agree.
// b is left unlabelled (these edges only join CellStates): with the label, Neo4j's planner paired the
// anchor's CellStates with every CellState and expanded each pair (top_changes at 10M edges: 1.5 s → 0.13 s).
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE (x.day = $day OR $day IS NULL) AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL)
MATCH (a:CellState)-[r:SIGNALS]->(b)
WHERE r.load_id IN live
  AND a.key = CASE WHEN NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL) THEN a.key END
  AND (a.day = $day OR $day IS NULL)
  AND (a.`group` = $`group` OR $`group` IS NULL)
  AND (a.cell_type = $sender OR $sender IS NULL)
  AND (b.cell_type = $receiver OR $receiver IS NULL)
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.ligand = $ligand OR $ligand IS NULL)
  AND (r.receptor = $receptor OR $receptor IS NULL)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH a.day AS d, a.`group` AS g, a.cell_type AS src, b.cell_type AS dst,
     sum(1) AS n, sum(r.score) AS total, avg(r.score) AS mean_s
RETURN d AS day, g AS `group`, src AS sender, dst AS receiver, n AS n_interactions, total AS total_score, mean_s AS mean_score
ORDER BY day, `group`, sender, receiver
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE (x.day = $day OR $day IS NULL) AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NULL
MATCH (a:CellState)-[m:SUMMARY]->(b)
WHERE m.load_id IN live
  AND a.key = CASE WHEN coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NULL THEN a.key END
  AND (a.day = $day OR $day IS NULL)
  AND (a.`group` = $`group` OR $`group` IS NULL)
  AND (a.cell_type = $sender OR $sender IS NULL)
  AND (b.cell_type = $receiver OR $receiver IS NULL)
  AND (m.method = $method OR $method IS NULL)
WITH a, b, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n1, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS s1
WHERE n1 > 0
WITH a.day AS d, a.`group` AS g, a.cell_type AS src, b.cell_type AS dst,
     sum(n1) AS n, sum(s1) AS total, sum(s1) / sum(n1) AS mean_s
RETURN d AS day, g AS `group`, src AS sender, dst AS receiver, n AS n_interactions, total AS total_score, mean_s AS mean_score
ORDER BY day, `group`, sender, receiver
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE (x.day = $day OR $day IS NULL) AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NOT NULL
MATCH (a:CellState)-[m:PATHWAY_SUMMARY]->(b)
WHERE m.load_id IN live
  AND a.key = CASE WHEN coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND coalesce($ligand, $receptor, $interaction, "") = "" AND $ligand IS NULL AND $receptor IS NULL AND $interaction IS NULL AND $pathway IS NOT NULL THEN a.key END
  AND (a.day = $day OR $day IS NULL)
  AND (a.`group` = $`group` OR $`group` IS NULL)
  AND (a.cell_type = $sender OR $sender IS NULL)
  AND (b.cell_type = $receiver OR $receiver IS NULL)
  AND m.pathway = $pathway
  AND (m.method = $method OR $method IS NULL)
WITH a, b, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n1, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS s1
WHERE n1 > 0
WITH a.day AS d, a.`group` AS g, a.cell_type AS src, b.cell_type AS dst,
     sum(n1) AS n, sum(s1) AS total, sum(s1) / sum(n1) AS mean_s
RETURN d AS day, g AS `group`, src AS sender, dst AS receiver, n AS n_interactions, total AS total_score, mean_s AS mean_score
ORDER BY day, `group`, sender, receiver
