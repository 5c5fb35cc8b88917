// cell_composition: cell counts and fractions per cell type, day and group (as loaded with cell_counts)
// $cell_type string = null — only this cell type
// $day int = null — only this day (null: every day)
// $group string = null — only this dose group or cohort (null: every group)
// returns: cell_type, group, day, n_cells, fraction
// :params {cell_type: null, day: null, group: null}
// fraction: of all counted cells of that day and group. Cell states without counts are left out.
WITH 1 AS checked WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND EXISTS { MATCH (x:CellState) WHERE (x.day = $day OR $day IS NULL) AND (x.cell_type = $cell_type OR $cell_type IS NULL) AND (x.`group` = $`group` OR $`group` IS NULL) }
MATCH (s:CellState)
WHERE (s.cell_type = $cell_type OR $cell_type IS NULL)
  AND (s.day = $day OR $day IS NULL)
  AND (s.`group` = $`group` OR $`group` IS NULL)
  AND s.n_cells IS NOT NULL
RETURN s.cell_type AS cell_type, s.`group` AS `group`, s.day AS day, s.n_cells AS n_cells, s.fraction AS fraction
ORDER BY cell_type, `group`, day
