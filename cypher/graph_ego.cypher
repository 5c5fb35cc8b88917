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
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type AND x.`group` = $`group` }
MATCH (a:CellState)-[r:SIGNALS]->(b:CellState)
WHERE a.day = $day AND a.`group` = $`group` AND r.load_id IN live AND (a.cell_type = $cell_type OR b.cell_type = $cell_type)
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH live, a, b, count(r) AS n, sum(r.score) AS total, max(r.score) AS top
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
