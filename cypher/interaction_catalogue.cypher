// interaction_catalogue: what the store knows of an interaction — ligand, receptor, their subunit genes, pathway, annotation — and where it was seen: days, groups, runs
// $interaction string = null — the interaction by name, e.g. "ICAM1^ITGAL_ITGB2"
// $ligand string = null — interactions with this ligand (a complex as its subunits joined by "_")
// $receptor string = null — interactions with this receptor (a complex as its subunits joined by "_")
// $gene string = null — interactions with this gene among their ligand or receptor subunits, e.g. "ITGB2"
// $pathway string = null — interactions of this pathway
// $pvalue float = 0.05 — p-value cut for n_significant, where the tool gives one (null: no cut)
// returns: interaction, ligand, receptor, pathway, annotation, ligand_genes, receptor_genes, group, day, n_runs, n_pairs, n_significant, max_score
// :params {interaction: null, ligand: null, receptor: null, gene: null, pathway: null, pvalue: 0.05}
// One row per group and day the interaction was seen in (any sender, receiver, significant or not),
// ordered by interaction, group, day; after them, one row per interaction no live run shows, with
// group and day null and counts 0. n_pairs: sender × receiver edges (× samples).
// Every branch starts from the Interaction nodes the filters leave. At the default p-value cut the
// counts come from the per run × interaction summaries (InteractionSummary, written with the edges);
// at another cut (first branch) from the interaction's SIGNALS edges, looked up by interaction name.
// A summary is live when a Run carries its load_id: a join with the few Run nodes (a list test
// `s.load_id IN live` on every summary took LadybugDB 5× longer); one summary per run there, so
// count(*) counts runs. Counts are sums (sum(1), sum(0)) in every branch: LadybugDB sums integers
// to INT128, and the branches of a UNION must agree in type.
MATCH (run:Run) WITH collect(run.load_id) AS live
WITH live WHERE (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
MATCH (i:Interaction)
WHERE coalesce($pvalue, 1.0) <> 0.05
  AND (i.name = $interaction OR $interaction IS NULL)
  AND (i.ligand = $ligand OR $ligand IS NULL)
  AND (i.receptor = $receptor OR $receptor IS NULL)
  AND (i.pathway = $pathway OR $pathway IS NULL)
  AND (EXISTS { MATCH (i)-[:HAS_LIGAND]->(x:Gene) WHERE x.symbol = $gene }
       OR EXISTS { MATCH (i)-[:HAS_RECEPTOR]->(x:Gene) WHERE x.symbol = $gene }
       OR $gene IS NULL)
WITH live, i, i.name AS nm
MATCH (a:CellState)-[r:SIGNALS]->(b:CellState)
WHERE r.interaction = nm AND r.load_id IN live
  AND CASE WHEN coalesce($pvalue, 1.0) <> 0.05 THEN true ELSE a.key IS NULL END  // the branch's test on a node: LadybugDB reads no edge for a branch not taken (an equality here moved Neo4j off the index seek)
WITH i, a.`group` AS g, a.day AS d,
     count(DISTINCT r.run_id) AS n, sum(1) AS np,
     sum(CASE WHEN r.significant AND coalesce(r.pvalue, 0.0) <= coalesce($pvalue, 1.0) THEN 1 ELSE 0 END) AS nsig,
     max(r.score) AS max_s
OPTIONAL MATCH (i)-[:HAS_LIGAND]->(lg:Gene)
WITH i, g, d, n, np, nsig, max_s, lg ORDER BY lg.symbol SKIP 0
WITH i, g, d, n, np, nsig, max_s, collect(lg.symbol) AS lgs
OPTIONAL MATCH (i)-[:HAS_RECEPTOR]->(rg:Gene)
WITH i, g, d, n, np, nsig, max_s, lgs, rg ORDER BY rg.symbol SKIP 0
WITH i, g, d, n, np, nsig, max_s, lgs, collect(rg.symbol) AS rgs
RETURN i.name AS interaction, i.ligand AS ligand, i.receptor AS receptor, i.pathway AS pathway,
       i.annotation AS annotation, lgs AS ligand_genes, rgs AS receptor_genes, g AS `group`, d AS day,
       n AS n_runs, np AS n_pairs, nsig AS n_significant, max_s AS max_score
ORDER BY day IS NULL, interaction, `group`, day
UNION ALL
WITH 1 AS checked WHERE (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
MATCH (i:Interaction)
WHERE coalesce($pvalue, 1.0) = 0.05
  AND (i.name = $interaction OR $interaction IS NULL)
  AND (i.ligand = $ligand OR $ligand IS NULL)
  AND (i.receptor = $receptor OR $receptor IS NULL)
  AND (i.pathway = $pathway OR $pathway IS NULL)
  AND (EXISTS { MATCH (i)-[:HAS_LIGAND]->(x:Gene) WHERE x.symbol = $gene }
       OR EXISTS { MATCH (i)-[:HAS_RECEPTOR]->(x:Gene) WHERE x.symbol = $gene }
       OR $gene IS NULL)
OPTIONAL MATCH (i)-[:HAS_LIGAND]->(lg:Gene)
WITH i, lg ORDER BY lg.symbol SKIP 0
WITH i, collect(lg.symbol) AS lgs
OPTIONAL MATCH (i)-[:HAS_RECEPTOR]->(rg:Gene)
WITH i, lgs, rg ORDER BY rg.symbol SKIP 0
WITH i, lgs, collect(rg.symbol) AS rgs
MATCH (i)-[:HAS_SUMMARY]->(s:InteractionSummary), (run:Run)
WHERE run.load_id = s.load_id
WITH i, lgs, rgs, s.`group` AS g, s.day AS d, count(*) AS n, sum(s.n_pairs) AS np,
     sum(s.n_significant) AS nsig, max(s.max_score) AS max_s
RETURN i.name AS interaction, i.ligand AS ligand, i.receptor AS receptor, i.pathway AS pathway,
       i.annotation AS annotation, lgs AS ligand_genes, rgs AS receptor_genes, g AS `group`, d AS day,
       n AS n_runs, np AS n_pairs, nsig AS n_significant, max_s AS max_score
ORDER BY day IS NULL, interaction, `group`, day
UNION ALL
WITH 1 AS checked WHERE (coalesce($pvalue, 0.0) >= 0.0 AND coalesce($pvalue, 0.0) <= 1.0)
MATCH (i:Interaction)
WHERE (i.name = $interaction OR $interaction IS NULL)
  AND (i.ligand = $ligand OR $ligand IS NULL)
  AND (i.receptor = $receptor OR $receptor IS NULL)
  AND (i.pathway = $pathway OR $pathway IS NULL)
  AND (EXISTS { MATCH (i)-[:HAS_LIGAND]->(x:Gene) WHERE x.symbol = $gene }
       OR EXISTS { MATCH (i)-[:HAS_RECEPTOR]->(x:Gene) WHERE x.symbol = $gene }
       OR $gene IS NULL)
OPTIONAL MATCH (i)-[:HAS_LIGAND]->(lg:Gene)
WITH i, lg ORDER BY lg.symbol SKIP 0
WITH i, collect(lg.symbol) AS lgs
OPTIONAL MATCH (i)-[:HAS_RECEPTOR]->(rg:Gene)
WITH i, lgs, rg ORDER BY rg.symbol SKIP 0
WITH i, lgs, collect(rg.symbol) AS rgs, sum(0) AS zero
// no live summary; tested after the aggregation, which Neo4j's planner does not push it below (it
// would test every Interaction before the filters above)
WITH i, lgs, rgs, zero WHERE NOT EXISTS { MATCH (i)-[:HAS_SUMMARY]->(s:InteractionSummary), (run:Run) WHERE run.load_id = s.load_id }
RETURN i.name AS interaction, i.ligand AS ligand, i.receptor AS receptor, i.pathway AS pathway,
       i.annotation AS annotation, lgs AS ligand_genes, rgs AS receptor_genes,
       CASE WHEN false THEN i.name END AS `group`, CASE WHEN false THEN 0 END AS day,
       0 AS n_runs, zero AS n_pairs, zero AS n_significant, CASE WHEN false THEN 0.0 END AS max_score
ORDER BY day IS NULL, interaction, `group`, day
