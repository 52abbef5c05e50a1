# Baseline for benchmarks/mse.py: the stepwise multiple systems estimate with a BCa bootstrap,
# in R, structured as SparseMSE 2.0.1 does it (Chan, Silverman & Vincent 2019): glm() Poisson
# fits, the Fienberg-Rinaldo existence linear program with lpSolve for *every* candidate
# interaction at every step, multinomial resampling with the whole selection repeated, a
# jackknife over observed capture histories, type-8 quantiles.
#
# SparseMSE itself is not packaged by Debian and CRAN is not reachable from this machine, so
# this is a port written for the benchmark (not SparseMSE's code). It must give the same point
# estimate as the Python implementation; benchmarks/mse.py checks that.
#
# usage: Rscript benchmarks/mse_baseline.R TABLE.csv NBOOT SEED PTHRESH
# prints one line of JSON: estimate, BCa limits, seconds for the estimate and for everything.

suppressMessages(library(lpSolve))

args <- commandArgs(trailingOnly = TRUE)
zdat <- read.csv(args[1])
nboot <- as.integer(args[2])
seed <- as.integer(args[3])
pthresh <- as.numeric(args[4])

m <- ncol(zdat) - 1
names_l <- colnames(zdat)[1:m]

# all observable histories, zero counts included
full_table <- function(zdat) {
  h <- as.matrix(expand.grid(rep(list(0:1), m)))[-1, , drop = FALSE]
  colnames(h) <- names_l
  code_h <- h %*% 2^(0:(m - 1))
  code_d <- as.matrix(zdat[, 1:m]) %*% 2^(0:(m - 1))
  cnt <- numeric(nrow(h))
  for (j in seq_len(nrow(zdat))) cnt[code_h == code_d[j]] <- cnt[code_h == code_d[j]] + zdat[j, m + 1]
  data.frame(h, count = cnt)
}

pairs_all <- combn(m, 2)

design <- function(zf, mX) {
  keep <- rep(TRUE, nrow(zf))
  cols <- list()
  for (k in seq_len(ncol(mX))) {
    i <- mX[1, k]; j <- mX[2, k]
    if (sum(zf[, i] * zf[, j] * zf$count) == 0) {
      keep <- keep & (zf[, i] * zf[, j] == 0)
    } else {
      cols[[length(cols) + 1]] <- zf[, i] * zf[, j]
    }
  }
  X <- cbind(1, as.matrix(zf[, 1:m]))
  if (length(cols)) X <- cbind(X, do.call(cbind, cols))
  list(X = X[keep, , drop = FALSE], y = zf$count[keep], keep = keep)
}

checkident <- function(zf, mX) {
  d <- design(zf, mX)
  A <- t(d$X)
  tt <- A %*% d$y
  npar <- nrow(A); nobs <- ncol(A)
  f.obj <- c(rep(0, nobs), 1)
  const.mat <- rbind(cbind(A, 0), cbind(diag(nobs), -1))
  const.dir <- c(rep("=", npar), rep(">=", nobs))
  const.rhs <- c(tt, rep(0, nobs))
  lp <- lp("max", f.obj, const.mat, const.dir, const.rhs)
  rankdef <- ncol(d$X) - qr(d$X)$rank
  (lp$objval == 0) + 2 * (rankdef > 0)
}

fitmodel <- function(zf, mX) {
  d <- design(zf, mX)
  fit <- glm.fit(d$X, d$y, family = poisson())
  mu <- numeric(nrow(zf)); mu[d$keep] <- fit$fitted.values
  list(fit = fit, mu = mu)
}

stepwise_total <- function(zf) {
  mX <- matrix(nrow = 2, ncol = 0)
  f <- fitmodel(zf, mX)
  nints <- ncol(pairs_all)
  nstar <- sapply(seq_len(nints), function(k) sum(zf[, pairs_all[1, k]] * zf[, pairs_all[2, k]] * zf$count))
  incl <- rep(FALSE, nints)
  for (cycle in seq_len(nints)) {
    pval <- rep(1, nints)
    for (k in seq_len(nints)) {
      if (!incl[k]) {
        lam <- sum(f$mu * zf[, pairs_all[1, k]] * zf[, pairs_all[2, k]])
        pval[k] <- min(ppois(nstar[k], lam), ppois(nstar[k] - 1, lam, lower.tail = FALSE))
        if (checkident(zf, cbind(mX, pairs_all[, k])) > 0) pval[k] <- 1
      }
    }
    if (min(pval) >= pthresh) break
    k <- which(pval == min(pval))[1]
    mX <- cbind(mX, pairs_all[, k])
    incl[k] <- TRUE
    f <- fitmodel(zf, mX)
  }
  sum(zf$count) + exp(f$fit$coefficients[1])
}

zf <- full_table(zdat)
t0 <- proc.time()[["elapsed"]]
est <- stepwise_total(zf)
t_est <- proc.time()[["elapsed"]] - t0

set.seed(seed)
n <- sum(zf$count)
reps <- numeric(nboot)
for (b in seq_len(nboot)) {
  zb <- zf
  zb$count <- as.vector(rmultinom(1, n, zf$count))
  reps[b] <- stepwise_total(zb)
}
obs <- which(zf$count > 0)
jack <- sapply(obs, function(k) { zj <- zf; zj$count[k] <- zj$count[k] - 1; stepwise_total(zj) })
w <- zf$count[obs]
jr <- sum(w * jack) / sum(w) - jack
ahat <- sum(w * jr^3) / (6 * sum(w * jr^2)^1.5)
z0 <- qnorm(mean(reps < est))
za <- qnorm(c(0.025, 0.975))
q <- quantile(reps, pnorm(z0 + (z0 + za) / (1 - ahat * (z0 + za))), type = 8, names = FALSE)
t_all <- proc.time()[["elapsed"]] - t0

cat(sprintf('{"estimate": %.6f, "lower": %.3f, "upper": %.3f, "seconds_estimate": %.4f, "seconds_total": %.3f, "r_version": "%s"}\n',
            est, q[1], q[2], t_est, t_all, R.version.string))
