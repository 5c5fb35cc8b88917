// roles: senders and receivers per day and group — each cell type's out- and in-strength (summed significant score), out- and in-degree (distinct partner cell types) and number of significant interactions
// $day int = null — only this day (null: every day)
// $group string = null — only this dose group or cohort (null: every group)
// $cell_type string = null — only this cell type
// $pathway string = null — only this pathway
// $method string = null — only runs of this inference method
// $pvalue float = 0.05 — a significant interaction also needs a p-value at most this, where the tool gives one (null: no cut)
// $significant_only bool = true — only interactions the tool called significant (false: every inferred interaction)
// $min_score float = 0.0 — only interactions scoring at least this (null: no cut)
// returns: day, group, cell_type, out_strength, in_strength, out_degree, in_degree, n_out, n_in
// :params {day: null, group: null, cell_type: null, pathway: null, method: null, pvalue: 0.05, significant_only: true, min_score: 0.0}
// A cell type shows up on a day when it sends or receives at least one interaction that passes the filters.
// Each edge is read once and counted for its sender (o = 1) and its receiver (o = 0).
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
  AND EXISTS { MATCH (x:CellState) WHERE (x.day = $day OR $day IS NULL) AND (x.cell_type = $cell_type OR $cell_type IS NULL) AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)))
MATCH (a:CellState)-[r:SIGNALS]->(b)
WHERE r.load_id IN live
  AND a.key = CASE WHEN NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false))) THEN a.key END
  AND (a.day = $day OR $day IS NULL)
  AND (a.`group` = $`group` OR $`group` IS NULL)
  AND (a.cell_type = $cell_type OR b.cell_type = $cell_type OR $cell_type IS NULL)
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
UNWIND [{o: 1, me: a.cell_type, other: b.cell_type}, {o: 0, me: b.cell_type, other: a.cell_type}] AS x
WITH a.day AS d, a.`group` AS g, x, r.score AS score
WHERE x.me = $cell_type OR $cell_type IS NULL
WITH d, g, x.me AS ct,
     sum(CASE WHEN x.o = 1 THEN score ELSE 0.0 END) AS str_o, sum(CASE WHEN x.o = 0 THEN score ELSE 0.0 END) AS str_i,
     count(DISTINCT CASE WHEN x.o = 1 THEN x.other END) AS deg_o, count(DISTINCT CASE WHEN x.o = 0 THEN x.other END) AS deg_i,
     sum(CASE WHEN x.o = 1 THEN 1 ELSE 0 END) AS n_o, sum(CASE WHEN x.o = 0 THEN 1 ELSE 0 END) AS n_i
RETURN d AS day, g AS `group`, ct AS cell_type, str_o AS out_strength, str_i AS in_strength,
       deg_o AS out_degree, deg_i AS in_degree, n_o AS n_out, n_i AS n_in
ORDER BY day, `group`, cell_type
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE (x.day = $day OR $day IS NULL) AND (x.cell_type = $cell_type OR $cell_type IS NULL) AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND $pathway IS NULL
MATCH (a:CellState)-[m:SUMMARY]->(b)
WHERE m.load_id IN live
  AND a.key = CASE WHEN coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND $pathway IS NULL THEN a.key END
  AND (a.day = $day OR $day IS NULL)
  AND (a.`group` = $`group` OR $`group` IS NULL)
  AND (a.cell_type = $cell_type OR b.cell_type = $cell_type OR $cell_type IS NULL)
  AND (m.method = $method OR $method IS NULL)
WITH a, b, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS score
WHERE n > 0
UNWIND [{o: 1, me: a.cell_type, other: b.cell_type}, {o: 0, me: b.cell_type, other: a.cell_type}] AS x
WITH a.day AS d, a.`group` AS g, x, n, score
WHERE x.me = $cell_type OR $cell_type IS NULL
WITH d, g, x.me AS ct,
     sum(CASE WHEN x.o = 1 THEN score ELSE 0.0 END) AS str_o, sum(CASE WHEN x.o = 0 THEN score ELSE 0.0 END) AS str_i,
     count(DISTINCT CASE WHEN x.o = 1 THEN x.other END) AS deg_o, count(DISTINCT CASE WHEN x.o = 0 THEN x.other END) AS deg_i,
     sum(CASE WHEN x.o = 1 THEN n ELSE 0 END) AS n_o, sum(CASE WHEN x.o = 0 THEN n ELSE 0 END) AS n_i
RETURN d AS day, g AS `group`, ct AS cell_type, str_o AS out_strength, str_i AS in_strength,
       deg_o AS out_degree, deg_i AS in_degree, n_o AS n_out, n_i AS n_in
ORDER BY day, `group`, cell_type
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE (x.day = $day OR $day IS NULL) AND (x.cell_type = $cell_type OR $cell_type IS NULL) AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND $pathway IS NOT NULL
MATCH (a:CellState)-[m:PATHWAY_SUMMARY]->(b)
WHERE m.load_id IN live
  AND a.key = CASE WHEN coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND $pathway IS NOT NULL THEN a.key END
  AND (a.day = $day OR $day IS NULL)
  AND (a.`group` = $`group` OR $`group` IS NULL)
  AND (a.cell_type = $cell_type OR b.cell_type = $cell_type OR $cell_type IS NULL)
  AND m.pathway = $pathway
  AND (m.method = $method OR $method IS NULL)
WITH a, b, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS score
WHERE n > 0
UNWIND [{o: 1, me: a.cell_type, other: b.cell_type}, {o: 0, me: b.cell_type, other: a.cell_type}] AS x
WITH a.day AS d, a.`group` AS g, x, n, score
WHERE x.me = $cell_type OR $cell_type IS NULL
WITH d, g, x.me AS ct,
     sum(CASE WHEN x.o = 1 THEN score ELSE 0.0 END) AS str_o, sum(CASE WHEN x.o = 0 THEN score ELSE 0.0 END) AS str_i,
     count(DISTINCT CASE WHEN x.o = 1 THEN x.other END) AS deg_o, count(DISTINCT CASE WHEN x.o = 0 THEN x.other END) AS deg_i,
     sum(CASE WHEN x.o = 1 THEN n ELSE 0 END) AS n_o, sum(CASE WHEN x.o = 0 THEN n ELSE 0 END) AS n_i
RETURN d AS day, g AS `group`, ct AS cell_type, str_o AS out_strength, str_i AS in_strength,
       deg_o AS out_degree, deg_i AS in_degree, n_o AS n_out, n_i AS n_in
ORDER BY day, `group`, cell_type
