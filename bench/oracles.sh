#!/bin/sh
# Issue 15, item 5: oracles that stay cheap.  bench/oracle_rate.c drives
# each oracle through runtime/tune/oracle.h (oracle_next, oracle_report) on
# a synthetic objective, no training and no store, and times those two calls
# on the thread's CPU clock (OpenBLAS on one thread), so the figure is the
# oracle's own work:
#   1. ms per trial (mean over the run, and the slowest trial) of RandomSearch,
#      GridSearch, TPE, Hyperband, BOHB and BayesianOptimization at 100, 400
#      and 1,000 trials on Hartmann-6, and BayesianOptimization's exact
#      method (before issue 15) up to ORACLES_EXACT_MAX trials (default 400:
#      over 1,000 trials it averages about 0.1 s a trial, 0.3 s at the end);
#   2. BayesianOptimization's best value, new and exact on the same seeds
#      0..4, on Branin and Hartmann-6, after each of ORACLES_BEST_TRIALS
#      (default "100 400") trials: the line `bayes_best ...` gives the means.
# Target: every oracle under 5 ms per trial at 1,000 trials (exits 1 past it).
cd "$(dirname "$0")/.." || exit 2
build=${BUILD:-build}
make -s BUILD="$build" "$build/bench/oracle_rate" >/dev/null || exit 1
export OPENBLAS_NUM_THREADS=1 ORACLE_RATE_EXACT_MAX="${ORACLES_EXACT_MAX:-400}"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$build/bench/oracle_rate" time 100 400 1000 | tee "$tmp" || exit 1
for n in ${ORACLES_BEST_TRIALS:-100 400}; do
    ORACLE_RATE_EXACT_MAX=$n "$build/bench/oracle_rate" best "$n" 5 | grep '^bayes_best' || exit 1
done
awk '$2 == 1000 && $3 + 0 >= 5 { print "bench/oracles.sh: " $1 " takes " $3 " ms per trial at 1000 trials (target < 5)"; bad = 1 }
     END { exit bad }' "$tmp"
