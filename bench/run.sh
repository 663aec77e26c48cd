#!/bin/sh
# make bench: every benchmark section, each printing its figures and its ratio
# against a peer measured in the same run (never an absolute target: these
# machines are noisy).  Usage: bench/run.sh BUILD_DIR [SECTION...]
# Sections (bench/README.md): check (issue 2), train (3), search (4), jit (5),
# mpi (6), report (7), sklearn (8), gemm (13: the kernel libraries), models
# (14: MNIST, the LSTM, the ResNet, diabetes against RidgeCV), asha (15: ASHA
# against Hyperband and Optuna's ASHA), oracles (15: each oracle's ms per
# trial), pareto (15: a Pareto search's hypervolume, Random vs MOTPE vs
# NSGAII), busy (15: the seed search's core utilisation, identical tables);
# default all.
cd "$(dirname "$0")/.." || exit 2
build=${1:-build}
shift 2>/dev/null
sections=${*:-"check train search jit mpi report sklearn gemm models asha oracles pareto busy"}
export HPTC="$PWD/$build/hptc" BUILD="$build"
status=0
for s in $sections; do
    if [ -f "bench/$s.sh" ]; then
        echo "== bench/$s.sh"
        sh "bench/$s.sh" || status=1
    else
        echo "== bench/$s.sh: missing" && status=1
    fi
done
exit $status
