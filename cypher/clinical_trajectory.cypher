// clinical_trajectory: a clinical or lab score per patient and day, by group (from sample sheets loaded with `commgraph samples load`)
// $score string — the sample sheet's column, e.g. "child_pugh"
// $group string = null — only this dose group or cohort (null: every group)
// $patient string = null — only this patient
// returns: group, patient, day, sample, value, text
// :params {score: "child_pugh", group: null, patient: null}
// value: the number (null for a categorical column, whose level is in text).
WITH 1 AS checked WHERE EXISTS { MATCH (x:CellState) WHERE (x.`group` = $`group` OR $`group` IS NULL) }
MATCH (x:Sample)-[:MEASURED]->(m:Measurement)
WHERE m.variable = $score
  AND (x.`group` = $`group` OR $`group` IS NULL)
  AND (x.patient = $patient OR $patient IS NULL)
RETURN x.`group` AS `group`, x.patient AS patient, x.day AS day, x.id AS sample, m.value AS value, m.text AS text
ORDER BY `group`, patient, day
