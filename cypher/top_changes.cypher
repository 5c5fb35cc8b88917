// top_changes: the largest changes in the whole network between a baseline day and day X within a group — sender, receiver, interaction ranked by the size of the change |delta|
// $day int — the day to compare
// $group string = "all" — dose group or cohort ("all" in a study without groups)
// $baseline int = 0 — the day to compare against
// $limit int = 20 — at most this many rows
// $status string = null — only this kind of change: "gained", "lost", "up" or "down" (null: all four)
// $sender string = null — only signaling from this cell type
// $receiver string = null — only signaling to this cell type
// $pathway string = null — only this pathway
// $method string = null — only runs of this inference method
// $pvalue float = 0.05 — a significant interaction also needs a p-value at most this, where the tool gives one (null: no cut)
// $significant_only bool = true — only interactions the tool called significant (false: every inferred interaction)
// $min_score float = 0.0 — only interactions scoring at least this (null: no cut)
// $pseudocount float = 0.001 — added to both mean scores before their log2 ratio (a missing side counts as 0)
// $fold_change float = 1.5 — "up"/"down" need at least this fold change; smaller changes are "unchanged" and left out
// returns: sender, receiver, interaction, ligand, receptor, pathway, status, baseline_score, score, delta, log2fc
// :params {day: 7, group: "all", baseline: 0, limit: 20, status: null, sender: null, receiver: null, pathway: null, method: null, pvalue: 0.05, significant_only: true, min_score: 0.0, pseudocount: 0.001, fold_change: 1.5}
// Same rules as signaling_change. Ranked by |delta| (the change in mean score), ties by |log2fc|, then by names:
// a gained or lost pair's log2fc is log2((score + $pseudocount) / $pseudocount), set by the pseudocount, not the data.
// b is left unlabelled (these edges only join CellStates): with the label, Neo4j's planner paired the
// anchor's CellStates with every CellState and expanded each pair (top_changes at 10M edges: 1.5 s → 0.13 s).
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND CASE WHEN (coalesce($baseline, 0) >= 0 OR coalesce($baseline, 0) < 0) THEN coalesce($baseline, 0) % 1 = 0 END
  AND CASE WHEN coalesce($limit, 0) >= 0 THEN coalesce($limit, 0) % 1 = 0 END
  AND coalesce($status, "gained") IN ["gained", "lost", "up", "down"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND coalesce($pseudocount, 1.0) > 0.0
  AND coalesce($fold_change, 1.0) >= 1.0
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.`group` = $`group` }
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $baseline AND x.`group` = $`group` }
MATCH (a:CellState)-[r:SIGNALS]->(b)
WHERE r.load_id IN live
  AND (a.day = $day OR a.day = $baseline) AND a.`group` = $`group`
  AND (a.cell_type = $sender OR $sender IS NULL)
  AND (b.cell_type = $receiver OR $receiver IS NULL)
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH a.cell_type AS src, b.cell_type AS dst,
     r.interaction AS i, r.ligand AS l, r.receptor AS rc, min(r.pathway) AS pw,
     count(CASE WHEN a.day = $baseline THEN 1 END) AS n0,
     sum(CASE WHEN a.day = $baseline THEN r.score ELSE 0.0 END) AS s0,
     count(CASE WHEN a.day = $day THEN 1 END) AS n1,
     sum(CASE WHEN a.day = $day THEN r.score ELSE 0.0 END) AS s1
WITH src, dst, i, l, rc, pw,
     CASE WHEN n0 > 0 THEN s0 / n0 END AS m0,
     CASE WHEN n1 > 0 THEN s1 / n1 END AS m1
WITH src, dst, i, l, rc, pw, m0, m1,
     log10((coalesce(m1, 0.0) + $pseudocount) / (coalesce(m0, 0.0) + $pseudocount)) / log10(2.0) AS lfc
WITH src, dst, i, l, rc, pw, m0, m1, lfc,
     CASE WHEN m0 IS NULL THEN "gained"
          WHEN m1 IS NULL THEN "lost"
          WHEN lfc >= log10($fold_change) / log10(2.0) THEN "up"
          WHEN lfc <= -log10($fold_change) / log10(2.0) THEN "down"
          ELSE "unchanged" END AS st
WHERE st <> "unchanged" AND (st = $status OR $status IS NULL)
RETURN src AS sender, dst AS receiver, i AS interaction, l AS ligand, rc AS receptor, pw AS pathway,
       st AS status, m0 AS baseline_score, m1 AS score, coalesce(m1, 0.0) - coalesce(m0, 0.0) AS delta, lfc AS log2fc
ORDER BY abs(delta) DESC, abs(log2fc) DESC, sender, receiver, interaction
LIMIT $limit
