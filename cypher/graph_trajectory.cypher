// graph_trajectory: one cell type through time, to draw — its CellState on every sampled day of each group, linked by NEXT (the next sampled day), with cell counts and its outgoing significant signaling per day (Neo4j Browser's graph view)
// $cell_type string — the cell type, e.g. "MX1+ Mono"
// $group string = null — only this dose group or cohort (null: every group)
// $pvalue float = 0.05 — a significant interaction also needs a p-value at most this, where the tool gives one (null: no cut)
// $significant_only bool = true — only interactions the tool called significant (false: every inferred interaction)
// returns: group, day, next_day, n_cells, n_interactions, total_score, state, next, next_state
// :params {cell_type: "MX1+ Mono", group: null, pvalue: 0.05, significant_only: true}
// One row per CellState of the cell type; next and next_state are null on a group's last sampled day.
// n_interactions and total_score: what the state sends on that day (the network query's count and total, summed over receivers; 0 when it sends nothing).
// Each question reads the summary layer (SUMMARY: per run and sender→receiver state, counts and total scores at the
// significant edges of any score) when pvalue is 0.05 and significance is asked for, and the SIGNALS edges
// otherwise: the line after each branch's guard lets rows through on one path only, and the nodes of its first MATCH
// repeat that test (LadybugDB applies it where it scans them), so the other branch reads no edge.
// Counts are sums (sum(1), not count(r)) on every path: LadybugDB sums integers into a wider type than it counts in, and the branches of a UNION must agree.
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE NOT (coalesce($pvalue, -1.0) = 0.05 AND coalesce($significant_only, false))
MATCH (s:CellState)
WHERE s.cell_type = $cell_type AND (s.`group` = $`group` OR $`group` IS NULL)
  AND s.key = CASE WHEN NOT (coalesce($pvalue, -1.0) = 0.05 AND coalesce($significant_only, false)) THEN s.key END
OPTIONAL MATCH (s)-[r:SIGNALS]->(:CellState)
WHERE r.load_id IN live
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH s, sum(CASE WHEN r IS NULL THEN 0 ELSE 1 END) AS n, coalesce(sum(r.score), 0.0) AS total
OPTIONAL MATCH (s)-[x:NEXT]->(t:CellState)
RETURN s.`group` AS `group`, s.day AS day, t.day AS next_day, s.n_cells AS n_cells, n AS n_interactions,
       total AS total_score, s AS state, x AS next, t AS next_state
ORDER BY `group`, day
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND EXISTS { MATCH (x:CellState) WHERE x.cell_type = $cell_type AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE coalesce($pvalue, -1.0) = 0.05 AND coalesce($significant_only, false)
MATCH (s:CellState)
WHERE s.cell_type = $cell_type AND (s.`group` = $`group` OR $`group` IS NULL)
  AND s.key = CASE WHEN coalesce($pvalue, -1.0) = 0.05 AND coalesce($significant_only, false) THEN s.key END
OPTIONAL MATCH (s)-[m:SUMMARY]->(:CellState)
WHERE m.load_id IN live
WITH s, coalesce(sum(m.n_significant + m.n_significant_negative), 0) AS n,
     coalesce(sum(m.significant_score + m.significant_negative_score), 0.0) AS total
OPTIONAL MATCH (s)-[x:NEXT]->(t:CellState)
RETURN s.`group` AS `group`, s.day AS day, t.day AS next_day, s.n_cells AS n_cells, n AS n_interactions,
       total AS total_score, s AS state, x AS next, t AS next_state
ORDER BY `group`, day
