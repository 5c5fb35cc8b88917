// partners: on one day and group, who a cell type talks to (out) or hears from (in), through which ligand–receptor pairs and pathways, with scores and p-values
// $cell_type string — the cell type, e.g. "MX1+ Mono"
// $day int — day of sampling (0 = baseline)
// $group string = "all" — dose group or cohort ("all" in a study without groups)
// $direction string = "out" — "out": whom the cell type signals to; "in": whom it hears from
// $partner string = null — only this partner cell type
// $pathway string = null — only this pathway
// $ligand string = null — only this ligand (a complex as its subunits joined by "_")
// $receptor string = null — only this receptor (a complex as its subunits joined by "_")
// $interaction string = null — only this interaction, e.g. "CD86^CTLA4"
// $method string = null — only runs of this inference method
// $pvalue float = 0.05 — a significant interaction also needs a p-value at most this, where the tool gives one (null: no cut)
// $significant_only bool = true — only interactions the tool called significant (false: every inferred interaction)
// $min_score float = 0.0 — only interactions scoring at least this (null: no cut)
// returns: partner, interaction, ligand, receptor, pathway, score, pvalue, n_runs
// :params {cell_type: "MX1+ Mono", day: 7, group: "all", direction: "out", partner: null, pathway: null, ligand: null, receptor: null, interaction: null, method: null, pvalue: 0.05, significant_only: true, min_score: 0.0}
// score is the mean over the runs (samples) that show the pair, pvalue the largest of theirs.
// The two branches differ only in the direction of the SIGNALS pattern: a plain `s.cell_type = $cell_type`
// lets both engines start from the cell type's CellStates instead of scanning every edge. Each branch also tests
// its direction on s (`s.key = CASE WHEN $direction = … THEN s.key END`), which LadybugDB applies where it scans
// the CellStates, so the other direction's edges are not read (at 10M edges 60 → 52 ms).
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type AND x.`group` = $`group` }
MATCH (s:CellState)-[r:SIGNALS]->(o:CellState)
WHERE $direction = "out" AND s.cell_type = $cell_type AND s.day = $day AND s.`group` = $`group`
  AND s.key = CASE WHEN $direction = "out" THEN s.key END
  AND r.load_id IN live
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.ligand = $ligand OR $ligand IS NULL)
  AND (r.receptor = $receptor OR $receptor IS NULL)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH o.cell_type AS other, r.interaction AS i, r.ligand AS l, r.receptor AS rc, min(r.pathway) AS pw,
     avg(r.score) AS sc, max(r.pvalue) AS p, count(DISTINCT r.run_id) AS n
RETURN other AS partner, i AS interaction, l AS ligand, rc AS receptor, pw AS pathway,
       sc AS score, p AS pvalue, n AS n_runs
ORDER BY score DESC, partner, interaction
UNION ALL
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE CASE WHEN (coalesce($day, 0) >= 0 OR coalesce($day, 0) < 0) THEN coalesce($day, 0) % 1 = 0 END
  AND coalesce($direction, "out") IN ["out", "in"]
  AND (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
  AND coalesce($significant_only, true) IN [true, false]
  AND (coalesce($min_score, 0.0) >= 0.0 OR coalesce($min_score, 0.0) < 0.0)
  AND EXISTS { MATCH (x:CellState) WHERE x.day = $day AND x.cell_type = $cell_type AND x.`group` = $`group` }
MATCH (o:CellState)-[r:SIGNALS]->(s:CellState)
WHERE $direction = "in" AND s.cell_type = $cell_type AND s.day = $day AND s.`group` = $`group`
  AND s.key = CASE WHEN $direction = "in" THEN s.key END
  AND r.load_id IN live
  AND (o.cell_type = $partner OR $partner IS NULL)
  AND (r.pathway = $pathway OR $pathway IS NULL)
  AND (r.ligand = $ligand OR $ligand IS NULL)
  AND (r.receptor = $receptor OR $receptor IS NULL)
  AND (r.interaction = $interaction OR $interaction IS NULL)
  AND (r.method = $method OR $method IS NULL)
  AND (r.score >= $min_score OR $min_score IS NULL)
  AND ((r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0)) OR NOT coalesce($significant_only, false))
WITH o.cell_type AS other, r.interaction AS i, r.ligand AS l, r.receptor AS rc, min(r.pathway) AS pw,
     avg(r.score) AS sc, max(r.pvalue) AS p, count(DISTINCT r.run_id) AS n
RETURN other AS partner, i AS interaction, l AS ligand, rc AS receptor, pw AS pathway,
       sc AS score, p AS pvalue, n AS n_runs
ORDER BY score DESC, partner, interaction
