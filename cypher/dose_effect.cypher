// dose_effect: features whose day-vs-baseline change differs between two dose groups (dose × time), paired over patients, limma moderated t, BH FDR (computed by `commgraph differential`)
// $day int — the day whose change from baseline is compared
// $group string = "high" — the group whose change is tested
// $reference string = "low" — the group it is compared with
// $level string = "interaction" — "interaction", "pair" or "pathway" (see `differential`)
// $fdr float = 0.05 — only features with an FDR at most this (1: every tested feature)
// $sender string = null — only this sender cell type
// $receiver string = null — only this receiver cell type
// $method string = null — only contrasts of runs of this inference method
// returns: sender, receiver, interaction, pathway, difference, change, reference_change, log2fc, t, p, fdr, n, contrast, stale
// :params {day: 7, group: "high", reference: "low", level: "interaction", fdr: 0.05, sender: null, receiver: null, method: null}
// difference: the group's mean paired change minus the reference group's; change, reference_change: each group's own
// (mean of the paired patients' day minus baseline); log2fc: the group's log2 fold change minus the reference's.
WITH 1 AS checked WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND (coalesce($fdr, 0.0) >= 0.0 OR coalesce($fdr, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.`group` = $`group` }
MATCH (k:Contrast)
WHERE k.kind = "dose_time" AND k.`group` = $`group` AND k.reference = $reference AND k.day = $day
  AND (k.method = $method OR $method IS NULL)
MATCH (a:CellState)-[c:CHANGED]->(b:CellState)
WHERE a.`group` = $`group` AND a.day = $day AND c.contrast = k.id AND c.level = $level AND c.fdr <= $fdr
  AND (a.cell_type = $sender OR $sender IS NULL)
  AND (b.cell_type = $receiver OR $receiver IS NULL)
RETURN a.cell_type AS sender, b.cell_type AS receiver, c.interaction AS interaction, c.pathway AS pathway,
       c.delta AS difference, c.mean_day - c.mean_baseline AS change, c.reference_delta AS reference_change,
       c.log2fc AS log2fc, c.t AS t, c.p AS p, c.fdr AS fdr, c.n AS n, k.id AS contrast, k.stale AS stale
ORDER BY p, sender, receiver, interaction
