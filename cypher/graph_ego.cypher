// graph_ego: one cell type's neighbourhood on a day, to draw — its CellState, the partners it signals to and hears from, and per pair one SIGNALS edge (its strongest interaction), with the pair's count and total score (Neo4j Browser's graph view: switch off "Connect result nodes")
// $cell_type string — the cell type, e.g. "MX1+ Mono"
// $day int — day of sampling (0 = baseline)
// $group string = "all" — dose group or cohort ("all" in a study without groups)
// $pathway string = null — only this pathway
// $method string = null — only runs of this inference method
// $pvalue float = 0.05 — a significant interaction also needs a p-value at most this, where the tool gives one (null: no cut)
// $significant_only bool = true — only interactions the tool called significant (false: every inferred interaction)
// $min_score float = 0.0 — only interactions scoring at least this (null: no cut)
// returns: sender, receiver, n_interactions, total_score, interaction, score, sender_state, edge, receiver_state
// :params {cell_type: "MX1+ Mono", day: 7, group: "all", pathway: null, method: null, pvalue: 0.05, significant_only: true, min_score: 0.0}
// One edge per sender→receiver pair stands for the pair (Neo4j's virtual relationships are not portable): the
// pair's highest-scoring edge, ties broken by interaction, then run. n_interactions and total_score are the
// network query's (every edge that passes the filters, over the day's runs). A self-loop (the cell type to itself) is one pair.
// Each question reads the summary layer (SUMMARY: per run and sender→receiver state, counts and total scores at the
// default filters; PATHWAY_SUMMARY: the same per pathway) when no per-interaction filter is given, min_score is 0.0
// and pvalue 0.05 (or significance is not asked for), and the SIGNALS edges otherwise: the line after each branch's
// guard lets rows through on one path only, and the nodes of its first MATCH repeat that test (LadybugDB applies it
// where it scans them), so the other branches read no edge.
// Counts are sums (sum(1), not count(r)) on every path: LadybugDB sums integers into a wider type than it counts in, and the branches of a UNION must agree.
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type AND x.`group` = $`group` }
WITH live AS live WHERE NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)))
MATCH (a:CellState)-[r:SIGNALS]->(b:CellState)
WHERE a.day = $day AND a.`group` = $`group` AND r.load_id IN live AND (a.cell_type = $cell_type OR b.cell_type = $cell_type)
  AND a.key = CASE WHEN NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false))) THEN a.key END
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH live, a, b, sum(1) AS n, sum(r.score) AS total, max(r.score) AS top
MATCH (a)-[r:SIGNALS]->(b)
WHERE r.load_id IN live AND r.score = top
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH live, a, b, n, total, min(r.interaction + "|" + r.run_id) AS pick
MATCH (a)-[r:SIGNALS]->(b)
WHERE r.load_id IN live AND r.interaction + "|" + r.run_id = pick
RETURN a.cell_type AS sender, b.cell_type AS receiver, n AS n_interactions, total AS total_score,
       r.interaction AS interaction, r.score AS score, a AS sender_state, r AS edge, b AS receiver_state
ORDER BY sender, receiver
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type AND x.`group` = $`group` }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND $pathway IS NULL
MATCH (a:CellState)-[m:SUMMARY]->(b:CellState)
WHERE a.day = $day AND a.`group` = $`group` AND m.load_id IN live AND (a.cell_type = $cell_type OR b.cell_type = $cell_type)
  AND a.key = CASE WHEN coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND $pathway IS NULL THEN a.key END
  AND (m.method = $method OR $method IS NULL)
WITH live, a, b, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n1, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS s1, CASE WHEN coalesce($significant_only, false) THEN m.max_significant_score ELSE m.max_score END AS top1
WHERE n1 > 0
WITH live, a, b, sum(n1) AS n, sum(s1) AS total, max(top1) AS top
MATCH (a)-[r:SIGNALS]->(b)
WHERE r.load_id IN live AND r.score = top
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH live, a, b, n, total, min(r.interaction + "|" + r.run_id) AS pick
MATCH (a)-[r:SIGNALS]->(b)
WHERE r.load_id IN live AND r.interaction + "|" + r.run_id = pick
RETURN a.cell_type AS sender, b.cell_type AS receiver, n AS n_interactions, total AS total_score,
       r.interaction AS interaction, r.score AS score, a AS sender_state, r AS edge, b AS receiver_state
ORDER BY sender, receiver
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type AND x.`group` = $`group` }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND $pathway IS NOT NULL
MATCH (a:CellState)-[m:PATHWAY_SUMMARY]->(b:CellState)
WHERE a.day = $day AND a.`group` = $`group` AND m.load_id IN live AND (a.cell_type = $cell_type OR b.cell_type = $cell_type)
  AND a.key = CASE WHEN coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) AND $pathway IS NOT NULL THEN a.key END
  AND m.pathway = $pathway
  AND (m.method = $method OR $method IS NULL)
WITH live, a, b, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n1, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS s1, CASE WHEN coalesce($significant_only, false) THEN m.max_significant_score ELSE m.max_score END AS top1
WHERE n1 > 0
WITH live, a, b, sum(n1) AS n, sum(s1) AS total, max(top1) AS top
MATCH (a)-[r:SIGNALS]->(b)
WHERE r.load_id IN live AND r.score = top
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH live, a, b, n, total, min(r.interaction + "|" + r.run_id) AS pick
MATCH (a)-[r:SIGNALS]->(b)
WHERE r.load_id IN live AND r.interaction + "|" + r.run_id = pick
RETURN a.cell_type AS sender, b.cell_type AS receiver, n AS n_interactions, total AS total_score,
       r.interaction AS interaction, r.score AS score, a AS sender_state, r AS edge, b AS receiver_state
ORDER BY sender, receiver
