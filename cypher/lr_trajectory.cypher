// lr_trajectory: one ligand–receptor pair across all days and groups — per sender and receiver, its score and significance day by day
// $ligand string = null — the ligand (a complex as its subunits joined by "_")
// $receptor string = null — the receptor (a complex as its subunits joined by "_")
// $interaction string = null — or the interaction by name, e.g. "CD86^CTLA4"
// $sender string = null — only this sender cell type
// $receiver string = null — only this receiver cell type
// $group string = null — only this dose group or cohort (null: every group)
// $method string = null — only runs of this inference method
// $pvalue float = 0.05 — a significant interaction also needs a p-value at most this, where the tool gives one (null: no cut)
// $significant_only bool = false — only interactions the tool called significant (false: every inferred interaction, with n_significant telling which)
// $min_score float = 0.0 — only interactions scoring at least this (null: no cut)
// returns: interaction, sender, receiver, group, day, n_runs, n_significant, mean_score, max_score, min_pvalue
// :params {ligand: null, receptor: null, interaction: null, sender: null, receiver: null, group: null, method: null, pvalue: 0.05, significant_only: false, min_score: 0.0}
// Given an interaction, ligand or receptor, the edges are read from the Interaction nodes the
// filters leave: each run's InteractionSummary lists that interaction's edges (sender and receiver
// cell type, score, p-value with -1 for none, call; aligned lists), so neither engine reads any
// other edge (at 10M edges, LadybugDB, which has no relationship property index, took 2.45 s to
// scan every edge by name, and a sender's edges were still a tenth of them). The summaries carry no
// method: with $method too, the edges are looked up by name (Neo4j: an index seek on
// SIGNALS.interaction). There, with a sender, the first branch lets LadybugDB start from the
// sender's CellStates, with the names as a list, and `a.cell_type + ""` keeps Neo4j off the
// cell_type index, so it still seeks the names (at 10M edges 186 → 24 ms; LadybugDB unchanged).
// Without a sender, an interaction given by name is compared to the parameter itself (on LadybugDB a
// filtered scan ~2× faster than a join on the name); a ligand or receptor alone goes through the
// Interaction nodes' names. Without any of them, every edge is read.
// LadybugDB reads every property a branch names for every edge it scans, before any filter (at 2M
// edges 9 properties 714 ms, 2 properties 220 ms): so the branch given an interaction and no sender
// tests a ligand or receptor on the Interaction node (the edges' are the same: its name is
// ligand^receptor), and runs are counted by load_id (one live load a run), not by the edge's run_id
// (at 2M edges 580 → 350 ms). The branches that join on names keep the edges' tests: without them
// LadybugDB applied the join before the other filters and was slower.
// (A parameter's first use types it on LadybugDB: each is compared to a string before `IS NULL` alone.
// The first branch leaves b unlabelled (SIGNALS only joins CellStates): with the label Neo4j's planner
// scanned every CellState for b and expanded into each sender × receiver pair, 17M db hits at 1M edges.)
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE (x.`group` = $`group` OR $`group` IS NULL) }
MATCH (ix:Interaction)
WHERE (ix.name = $interaction OR $interaction IS NULL)
  AND (ix.ligand = $ligand OR $ligand IS NULL)
  AND (ix.receptor = $receptor OR $receptor IS NULL)
  AND NOT ($interaction IS NULL AND $ligand IS NULL AND $receptor IS NULL)
WITH live, collect(ix.name) AS names
WHERE size(names) > 0 AND coalesce($sender, "") <> "" AND coalesce($method, "") <> ""  // else no seek of the names in this branch
MATCH (a:CellState)-[r:SIGNALS]->(b)
WHERE a.cell_type + "" = $sender AND r.interaction IN names AND r.load_id IN live
  AND CASE WHEN $sender IS NOT NULL AND $method IS NOT NULL AND NOT ($interaction IS NULL AND $ligand IS NULL AND $receptor IS NULL) THEN true ELSE a.key IS NULL END  // the branch's test on a node: LadybugDB reads no edge for a branch not taken (an equality here moved Neo4j off the index seek)
  AND (r.ligand = $ligand OR $ligand IS NULL)
  AND (r.receptor = $receptor OR $receptor IS NULL)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (a.cell_type = $sender OR $sender IS NULL)
  AND (b.cell_type = $receiver OR $receiver IS NULL)
  AND (a.`group` = $`group` OR $`group` IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH r.interaction AS i, a.cell_type AS src, b.cell_type AS dst, a.`group` AS g, a.day AS d,
     count(DISTINCT r.load_id) AS n, count(CASE WHEN r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0) THEN 1 END) AS nsig,
     avg(r.score) AS mean_s, max(r.score) AS max_s, min(r.pvalue) AS min_p
RETURN i AS interaction, src AS sender, dst AS receiver, g AS `group`, d AS day, n AS n_runs, nsig AS n_significant,
       mean_s AS mean_score, max_s AS max_score, min_p AS min_pvalue
ORDER BY interaction, sender, receiver, `group`, day
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE (x.`group` = $`group` OR $`group` IS NULL) }
MATCH (ix:Interaction)-[:HAS_SUMMARY]->(s:InteractionSummary)
WHERE (ix.name = $interaction OR $interaction IS NULL)
  AND (ix.ligand = $ligand OR $ligand IS NULL)
  AND (ix.receptor = $receptor OR $receptor IS NULL)
  AND s.load_id IN live
  AND CASE WHEN $method IS NULL AND NOT ($interaction IS NULL AND $ligand IS NULL AND $receptor IS NULL) THEN true ELSE s.key IS NULL END  // the branch's test on a node (see above)
  AND (s.`group` = $`group` OR $`group` IS NULL)
// each list read once per summary: Neo4j reads a list property anew at every use (at 1M edges 1.0 → 0.3 s)
WITH ix, s, CASE WHEN [1, 2][1] = 1 THEN 1 ELSE 0 END AS first,  // LadybugDB numbers list items from 1, Neo4j from 0
     s.senders AS senders, s.receivers AS receivers, s.scores AS scores, s.pvalues AS pvalues, s.calls AS calls
UNWIND range(0, size(senders) - 1) AS k
WITH ix, s, senders[k + first] AS src, receivers[k + first] AS dst,
     {score: scores[k + first], significant: calls[k + first],
      pvalue: CASE WHEN pvalues[k + first] >= 0.0 THEN pvalues[k + first] END} AS r  // one listed edge
WHERE (src = $sender OR $sender IS NULL)
  AND (dst = $receiver OR $receiver IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH ix.name AS i, src, dst, s.`group` AS g, s.day AS d,
     count(DISTINCT s.load_id) AS n, count(CASE WHEN r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0) THEN 1 END) AS nsig,
     avg(r.score) AS mean_s, max(r.score) AS max_s, min(r.pvalue) AS min_p
RETURN i AS interaction, src AS sender, dst AS receiver, g AS `group`, d AS day, n AS n_runs, nsig AS n_significant,
       mean_s AS mean_score, max_s AS max_score, min_p AS min_pvalue
ORDER BY interaction, sender, receiver, `group`, day
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE (x.`group` = $`group` OR $`group` IS NULL) }
WITH live, 1 AS one WHERE $interaction IS NOT NULL AND $sender IS NULL AND $method IS NOT NULL
  AND EXISTS { MATCH (ix:Interaction) WHERE ix.name = $interaction AND (ix.ligand = $ligand OR $ligand IS NULL)
                 AND (ix.receptor = $receptor OR $receptor IS NULL) }
MATCH (a:CellState)-[r:SIGNALS]->(b:CellState)
WHERE r.interaction = $interaction AND r.load_id IN live
  AND CASE WHEN $interaction IS NOT NULL AND $sender IS NULL AND $method IS NOT NULL THEN true ELSE a.key IS NULL END  // the branch's test on a node: LadybugDB reads no edge for a branch not taken (an equality here moved Neo4j off the index seek)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (a.cell_type = $sender OR $sender IS NULL)
  AND (b.cell_type = $receiver OR $receiver IS NULL)
  AND (a.`group` = $`group` OR $`group` IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH r.interaction AS i, a.cell_type AS src, b.cell_type AS dst, a.`group` AS g, a.day AS d,
     count(DISTINCT r.load_id) AS n, count(CASE WHEN r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0) THEN 1 END) AS nsig,
     avg(r.score) AS mean_s, max(r.score) AS max_s, min(r.pvalue) AS min_p
RETURN i AS interaction, src AS sender, dst AS receiver, g AS `group`, d AS day, n AS n_runs, nsig AS n_significant,
       mean_s AS mean_score, max_s AS max_score, min_p AS min_pvalue
ORDER BY interaction, sender, receiver, `group`, day
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE (x.`group` = $`group` OR $`group` IS NULL) }
MATCH (ix:Interaction)
WHERE (ix.name = $interaction OR $interaction IS NULL)
  AND (ix.ligand = $ligand OR $ligand IS NULL)
  AND (ix.receptor = $receptor OR $receptor IS NULL)
  AND NOT ($interaction IS NULL AND $ligand IS NULL AND $receptor IS NULL)
  AND $interaction IS NULL AND $sender IS NULL AND $method IS NOT NULL
WITH live, ix.name AS nm
MATCH (a:CellState)-[r:SIGNALS]->(b:CellState)
WHERE r.interaction = nm AND r.load_id IN live
  AND CASE WHEN $interaction IS NULL AND $sender IS NULL AND $method IS NOT NULL AND NOT ($ligand IS NULL AND $receptor IS NULL) THEN true ELSE a.key IS NULL END  // the branch's test on a node: LadybugDB reads no edge for a branch not taken (an equality here moved Neo4j off the index seek)
  AND (r.ligand = $ligand OR $ligand IS NULL)
  AND (r.receptor = $receptor OR $receptor IS NULL)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (a.cell_type = $sender OR $sender IS NULL)
  AND (b.cell_type = $receiver OR $receiver IS NULL)
  AND (a.`group` = $`group` OR $`group` IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH r.interaction AS i, a.cell_type AS src, b.cell_type AS dst, a.`group` AS g, a.day AS d,
     count(DISTINCT r.load_id) AS n, count(CASE WHEN r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0) THEN 1 END) AS nsig,
     avg(r.score) AS mean_s, max(r.score) AS max_s, min(r.pvalue) AS min_p
RETURN i AS interaction, src AS sender, dst AS receiver, g AS `group`, d AS day, n AS n_runs, nsig AS n_significant,
       mean_s AS mean_score, max_s AS max_score, min_p AS min_pvalue
ORDER BY interaction, sender, receiver, `group`, day
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE (x.`group` = $`group` OR $`group` IS NULL) }
MATCH (a:CellState)-[r:SIGNALS]->(b:CellState)
WHERE $interaction IS NULL AND $ligand IS NULL AND $receptor IS NULL AND r.load_id IN live
  AND CASE WHEN $interaction IS NULL AND $ligand IS NULL AND $receptor IS NULL THEN true ELSE a.key IS NULL END  // the branch's test on a node: LadybugDB reads no edge for a branch not taken (an equality here moved Neo4j off the index seek)
  AND (r.ligand = $ligand OR $ligand IS NULL)
  AND (r.receptor = $receptor OR $receptor IS NULL)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (a.cell_type = $sender OR $sender IS NULL)
  AND (b.cell_type = $receiver OR $receiver IS NULL)
  AND (a.`group` = $`group` OR $`group` IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH r.interaction AS i, a.cell_type AS src, b.cell_type AS dst, a.`group` AS g, a.day AS d,
     count(DISTINCT r.load_id) AS n, count(CASE WHEN r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0) THEN 1 END) AS nsig,
     avg(r.score) AS mean_s, max(r.score) AS max_s, min(r.pvalue) AS min_p
RETURN i AS interaction, src AS sender, dst AS receiver, g AS `group`, d AS day, n AS n_runs, nsig AS n_significant,
       mean_s AS mean_score, max_s AS max_score, min_p AS min_pvalue
ORDER BY interaction, sender, receiver, `group`, day
