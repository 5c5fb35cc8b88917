// pathway_flow: information flow (summed significant score) per pathway, day and group, optionally of one sender or receiver, with each pathway's share of its day and group
// $pathway string = null — only this pathway
// $group string = null — only this dose group or cohort (null: every group)
// $day int = null — only this day (null: every day)
// $sender string = null — only signaling from this cell type
// $receiver string = null — only signaling to this cell type
// $method string = null — only runs of this inference method
// $pvalue float = 0.05 — a significant interaction also needs a p-value at most this, where the tool gives one (null: no cut)
// $significant_only bool = true — only interactions the tool called significant (false: every inferred interaction)
// $min_score float = 0.0 — only interactions scoring at least this (null: no cut)
// returns: pathway, group, day, n_interactions, flow, share
// :params {pathway: null, group: null, day: null, sender: null, receiver: null, method: null, pvalue: 0.05, significant_only: true, min_score: 0.0}
// share: flow / the summed flow of every pathway on that day and group (with $pathway set, that is 1).
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
WITH live AS live WHERE NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)))
MATCH (a:CellState)-[r:SIGNALS]->(b)
WHERE r.load_id IN live
  AND a.key = CASE WHEN NOT (coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false))) THEN a.key END
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (a.`group` = $`group` OR $`group` IS NULL)
  AND (a.day = $day OR $day IS NULL)
  AND (a.cell_type = $sender OR $sender IS NULL)
  AND (b.cell_type = $receiver OR $receiver IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH r.pathway AS pw, a.`group` AS g, a.day AS d, sum(1) AS n, sum(r.score) AS f
WITH g, d, collect({pw: pw, n: n, f: f}) AS rows, sum(f) AS total
UNWIND rows AS x
RETURN x.pw AS pathway, g AS `group`, d AS day, x.n AS n_interactions, x.f AS flow,
       CASE WHEN total > 0 THEN x.f / total END AS share
ORDER BY pathway, `group`, day
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE (x.day = $day OR $day IS NULL) AND (x.`group` = $`group` OR $`group` IS NULL) }
WITH live AS live WHERE coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false))
MATCH (a:CellState)-[m:PATHWAY_SUMMARY]->(b)
WHERE m.load_id IN live
  AND a.key = CASE WHEN coalesce($min_score, -1.0) = 0.0 AND (coalesce($pvalue, -1.0) = 0.05 OR NOT coalesce($significant_only, false)) THEN a.key END
  AND (m.pathway = $pathway OR $pathway IS NULL)
  AND (a.`group` = $`group` OR $`group` IS NULL)
  AND (a.day = $day OR $day IS NULL)
  AND (a.cell_type = $sender OR $sender IS NULL)
  AND (b.cell_type = $receiver OR $receiver IS NULL)
  AND (m.method = $method OR $method IS NULL)
WITH a, m, CASE WHEN coalesce($significant_only, false) THEN m.n_significant ELSE m.n_interactions END AS n1, CASE WHEN coalesce($significant_only, false) THEN m.significant_score ELSE m.total_score END AS f1
WHERE n1 > 0
WITH m.pathway AS pw, a.`group` AS g, a.day AS d, sum(n1) AS n, sum(f1) AS f
WITH g, d, collect({pw: pw, n: n, f: f}) AS rows, sum(f) AS total
UNWIND rows AS x
RETURN x.pw AS pathway, g AS `group`, d AS day, x.n AS n_interactions, x.f AS flow,
       CASE WHEN total > 0 THEN x.f / total END AS share
ORDER BY pathway, `group`, day
