# R limma reference for tests/test_differential.py: lmFit (feature by feature with NAs) ->
# contrasts.fit -> eBayes, the same feature matrix, design and contrasts commgraph fits.
# Usage: Rscript limma_reference.R DIR   (reads values.csv, design.csv, contrasts.csv; writes r_<k>.csv)
suppressMessages(library(limma))
dir <- commandArgs(trailingOnly = TRUE)[1]
Y <- as.matrix(read.csv(file.path(dir, "values.csv"), check.names = FALSE))
X <- as.matrix(read.csv(file.path(dir, "design.csv"), check.names = FALSE))
C <- as.matrix(read.csv(file.path(dir, "contrasts.csv"), check.names = FALSE))
rownames(C) <- colnames(X)
fit <- eBayes(contrasts.fit(lmFit(Y, X), C))
for (k in seq_len(ncol(C))) {
  tt <- topTable(fit, coef = k, number = Inf, sort.by = "none", adjust.method = "BH")
  write.csv(data.frame(coef = tt$logFC, t = tt$t, p = tt$P.Value, fdr = tt$adj.P.Val),
            file.path(dir, sprintf("r_%d.csv", k)), row.names = FALSE)
}
writeLines(as.character(packageVersion("limma")), file.path(dir, "limma_version.txt"))
