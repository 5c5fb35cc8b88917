// change_summary: per sender→receiver pair, how many tested features rose and fell at the FDR cut-off — one group's day against its baseline, or (with $reference) the dose × time contrast; the data of a CellChat-style differential heatmap
// $day int — the day compared with the baseline
// $group string = "all" — dose group or cohort
// $reference string = null — another group: count features whose change differs from that group's (null: the group's own change)
// $level string = "interaction" — "interaction", "pair" or "pathway" (see `differential`)
// $fdr float = 0.05 — a feature counts as up or down at an FDR at most this
// $method string = null — only contrasts of runs of this inference method
// returns: sender, receiver, n_tested, n_up, n_down, net_delta, contrast, stale
// :params {day: 7, group: "all", reference: null, level: "interaction", fdr: 0.05, method: null}
// A time contrast has no reference group, so null = null picks it (coalesce: both engines compare "" = "").
// net_delta: the sum of the significant features' delta (the paired change, or the difference of changes).
WITH 1 AS checked WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($fdr, 0.0) >= 0.0 OR coalesce($fdr, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.`group` = $`group` }
MATCH (k:Contrast)
WHERE k.`group` = $`group` AND k.day = $day AND (k.method = $method OR $method IS NULL)
  AND coalesce(k.reference, "") = coalesce($reference, "")
MATCH (a:CellState)-[c:CHANGED]->(b:CellState)
WHERE a.`group` = $`group` AND a.day = $day AND c.contrast = k.id AND c.level = $level
WITH a.cell_type AS sender, b.cell_type AS receiver, k.id AS contrast, k.stale AS stale, count(c) AS n_tested,
     count(CASE WHEN c.fdr <= $fdr AND c.delta > 0 THEN 1 END) AS n_up,
     count(CASE WHEN c.fdr <= $fdr AND c.delta < 0 THEN 1 END) AS n_down,
     sum(CASE WHEN c.fdr <= $fdr THEN c.delta ELSE 0.0 END) AS net_delta
RETURN sender, receiver, n_tested, n_up, n_down, net_delta, contrast, stale
ORDER BY sender, receiver, contrast
