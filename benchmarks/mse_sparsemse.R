# Baseline for benchmarks/mse.py: SparseMSE 2.0.1's own routines (Chan, Silverman & Vincent),
# sourced from the package source (routines.R, GPL >= 2; not copied into this repository).
# estimatepopulation.0 (stepwise, p < 0.02) for the estimate, estimatepopulation for the
# BCa interval from NBOOT nonparametric replicates that repeat the selection + jackknife.
#
# usage: Rscript benchmarks/mse_sparsemse.R TABLE.csv NBOOT SEED PTHRESH ROUTINES.R
# prints one line of JSON: estimate, BCa limits, seconds for the estimate and for everything.

suppressMessages(library(lpSolve))
args <- commandArgs(trailingOnly = TRUE)
source(args[5])
zdat <- read.csv(args[1])
nboot <- as.integer(args[2]); seed <- as.integer(args[3]); pthresh <- as.numeric(args[4])

t0 <- proc.time()[["elapsed"]]
est <- estimatepopulation.0(zdat, method = "stepwise", quantiles = NULL, pthresh = pthresh)
t_est <- proc.time()[["elapsed"]] - t0
t1 <- proc.time()[["elapsed"]]
res <- estimatepopulation(zdat, nboot = nboot, pthresh = pthresh, iseed = seed,
                          alpha = c(0.025, 0.975))
t_all <- proc.time()[["elapsed"]] - t1
q <- as.numeric(res$BCaquantiles)
cat(sprintf('{"estimate": %.6f, "lower": %.3f, "upper": %.3f, "seconds_estimate": %.4f, "seconds_total": %.3f, "r_version": "%s"}\n',
            as.numeric(est$estimate[1]), q[1], q[2], t_est, t_all, R.version.string))
