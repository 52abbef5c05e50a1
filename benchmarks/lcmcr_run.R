# Runs the reference LCMCR sampler (LCMCR 0.4.14, Manrique-Vallier) on a capture-history
# table, for benchmarks/mse.py and benchmarks/lcmcr_reference.py. Not run in CI.
#
# usage: Rscript benchmarks/lcmcr_run.R TABLE.csv RLIB K BURNIN SAMPLES THINNING SEED [SEED...]
#   TABLE.csv: one 0/1 column per list and a last column `count`;
#   RLIB: the R library LCMCR was installed into (outside the repository).
# prints one line of JSON per seed: seed, seconds (initialisation + sampling, elapsed),
# and the N draws.

args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(LCMCR, lib.loc = args[2]))
tab <- read.csv(args[1])
K <- as.integer(args[3]); burnin <- as.integer(args[4])
samples <- as.integer(args[5]); thinning <- as.integer(args[6])
seeds <- as.integer(args[7:length(args)])

m <- ncol(tab) - 1
people <- tab[rep(seq_len(nrow(tab)), tab[[m + 1]]), 1:m, drop = FALSE]
people <- people[rowSums(people) > 0, , drop = FALSE]
for (j in seq_len(m)) people[[j]] <- factor(as.character(people[[j]]), levels = c("0", "1"))

for (seed in seeds) {
  t0 <- proc.time()[["elapsed"]]
  o <- lcmCR(people, K = K, a_alpha = 0.25, b_alpha = 0.25, seed = seed,
             buffer_size = max(samples, 1000), thinning = thinning, verbose = FALSE)
  N <- lcmCR_PostSampl(o, burnin = burnin, samples = samples, thinning = thinning,
                       output = FALSE)
  secs <- proc.time()[["elapsed"]] - t0
  cat(sprintf('{"seed": %d, "seconds": %.4f, "r_version": "%s", "N": [%s]}\n', seed, secs,
              R.version.string, paste(N, collapse = ",")))
}
