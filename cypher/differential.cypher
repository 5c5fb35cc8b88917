// differential: a cell type's tested changes as sender or receiver, one group's day against its baseline — paired over patients, limma moderated t, BH FDR (computed by `commgraph differential`)
// $cell_type string — the cell type, e.g. "MX1+ Mono"
// $day int — the day compared with the group's baseline day
// $group string = "all" — dose group or cohort ("all" in a study without groups)
// $direction string = "out" — "out": what the cell type sends; "in": what it receives
// $level string = "interaction" — "interaction" (sender, receiver, ligand^receptor), "pair" (every interaction of a sender→receiver pair summed) or "pathway" (summed per pathway)
// $fdr float = 0.05 — only features with an FDR at most this (1: every tested feature)
// $min_abs_log2fc float = 0.0 — only features whose |log2fc| is at least this
// $partner string = null — only this partner cell type
// $method string = null — only contrasts of runs of this inference method
// returns: partner, interaction, pathway, delta, log2fc, t, p, fdr, mean_baseline, mean_day, n, baseline, contrast, stale
// :params {cell_type: "MX1+ Mono", day: 7, group: "all", direction: "out", level: "interaction", fdr: 0.05, min_abs_log2fc: 0.0, partner: null, method: null}
// delta: the mean paired change (day minus baseline, in the tool's score units); n: patients with both days.
// A stale contrast used runs that were replaced or removed since, or misses runs added since: compute it again.
// The two branches differ only in the direction of the CHANGED pattern. Both start from the senders: LadybugDB
// stores CHANGED one way, so "in" reads the edges of the day × group's senders (a contrast's edges join two
// states of its day and group) and keeps those into the cell type. Each branch also tests its direction on its
// senders (`….key = CASE …`), which LadybugDB applies where it scans the CellStates, so the other direction's
// edges are not read.
WITH 1 AS checked WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($fdr, 0.0) >= 0.0 OR coalesce($fdr, 0.0) < 0.0)
  AND (coalesce($min_abs_log2fc, 0.0) >= 0.0 OR coalesce($min_abs_log2fc, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type AND x.`group` = $`group` }
MATCH (k:Contrast)
WHERE k.kind = "time" AND k.`group` = $`group` AND k.day = $day AND (k.method = $method OR $method IS NULL)
MATCH (s:CellState)-[c:CHANGED]->(o:CellState)
WHERE $direction = "out" AND s.cell_type = $cell_type AND s.`group` = $`group` AND s.day = $day
  AND s.key = CASE WHEN $direction = "out" THEN s.key END
  AND c.contrast = k.id AND c.level = $level AND c.fdr <= $fdr AND abs(c.log2fc) >= $min_abs_log2fc
  AND (o.cell_type = $partner OR $partner IS NULL)
RETURN o.cell_type AS partner, c.interaction AS interaction, c.pathway AS pathway, c.delta AS delta,
       c.log2fc AS log2fc, c.t AS t, c.p AS p, c.fdr AS fdr, c.mean_baseline AS mean_baseline,
       c.mean_day AS mean_day, c.n AS n, k.baseline AS baseline, k.id AS contrast, k.stale AS stale
ORDER BY p, partner, interaction
UNION ALL
WITH 1 AS checked WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($fdr, 0.0) >= 0.0 OR coalesce($fdr, 0.0) < 0.0)
  AND (coalesce($min_abs_log2fc, 0.0) >= 0.0 OR coalesce($min_abs_log2fc, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type AND x.`group` = $`group` }
MATCH (k:Contrast)
WHERE k.kind = "time" AND k.`group` = $`group` AND k.day = $day AND (k.method = $method OR $method IS NULL)
MATCH (o:CellState)-[c:CHANGED]->(s:CellState)
WHERE $direction = "in" AND o.`group` = $`group` AND o.day = $day
  AND o.key = CASE WHEN $direction = "in" THEN o.key END
  AND s.cell_type = $cell_type AND s.`group` = $`group` AND s.day = $day
  AND c.contrast = k.id AND c.level = $level AND c.fdr <= $fdr AND abs(c.log2fc) >= $min_abs_log2fc
  AND (o.cell_type = $partner OR $partner IS NULL)
RETURN o.cell_type AS partner, c.interaction AS interaction, c.pathway AS pathway, c.delta AS delta,
       c.log2fc AS log2fc, c.t AS t, c.p AS p, c.fdr AS fdr, c.mean_baseline AS mean_baseline,
       c.mean_day AS mean_day, c.n AS n, k.baseline AS baseline, k.id AS contrast, k.stale AS stale
ORDER BY p, partner, interaction
