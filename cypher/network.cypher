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
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE (x.day = $day OR $day IS NULL) AND (x.`group` = $`group` OR $`group` IS NULL) }
MATCH (a:CellState)-[r:SIGNALS]->(b:CellState)
WHERE r.load_id IN live
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
     count(r) AS n, sum(r.score) AS total, avg(r.score) AS mean_s
RETURN d AS day, g AS `group`, src AS sender, dst AS receiver, n AS n_interactions, total AS total_score, mean_s AS mean_score
ORDER BY day, `group`, sender, receiver
