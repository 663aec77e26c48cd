#!/bin/sh
# Issue 15, item 3: a two-objective search (val_accuracy vs params) on the
# seed space (examples/fashion_mlp.hpt's model and hyperparameters, full
# Fashion-MNIST, 2 epochs per trial, --jobs 2): 30 trials each of
# RandomSearch, TPE (multi-objective TPE under a Pareto objective) and
# NSGAII (population 10), same seed.  Prints each one's hypervolume after
# 30 trials under one reference point, the worst val_accuracy and the
# largest params over all three searches' trials, its ratio to Random's
# (the peer; target >= 1), wall times, and each front.
set -e
cd "$(dirname "$0")/.."
: "${HPTC:=$PWD/build/hptc}" "${JOBS:=2}" "${TRIALS:=30}" "${EPOCHS:=2}"
export HPT_DATA="${HPT_DATA:-/usr/share/datasets}"
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for tuner in RandomSearch TPE NSGAII; do
    extra=
    [ $tuner = NSGAII ] && extra="population_size = 10,"
    sed -e "s|^tuner = .*|tuner = $tuner(objective = Pareto(\"val_accuracy\", \"params\"), max_trials = $TRIALS, $extra|" \
        -e "s|^ *directory = .*|                directory = \"$work\", project_name = \"$tuner\", seed = 1)|" \
        -e "s|^search(epochs = 50,|search(epochs = $EPOCHS,|" examples/fashion_mlp.hpt > "$work/$tuner.hpt"
    t0=$(date +%s.%N)
    "$HPTC" run "$work/$tuner.hpt" --jobs "$JOBS" > "$work/$tuner.log"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' > "$work/$tuner.wall"
done
$py - "$work" <<'PY'
import sqlite3, sys
work = sys.argv[1]
tuners = ["RandomSearch", "TPE", "NSGAII"]
pts = {}
for t in tuners:
    db = sqlite3.connect(f"{work}/{t}/hptc.db")
    v = {}
    for trial, k, value in db.execute("SELECT trial, k, value FROM objective_values"):
        v.setdefault(trial, [None, None])[k] = value
    pts[t] = [(trial, a, p) for trial, (a, p) in sorted(v.items())]
# One reference for all: the worst of each objective over every trial of the three searches.
ref_acc = min(a for t in tuners for _, a, _ in pts[t])
ref_par = max(p for t in tuners for _, _, p in pts[t])
def front(ps):
    return sorted([x for x in ps if not any(y[1] >= x[1] and y[2] <= x[2] and (y[1] > x[1] or y[2] < x[2]) for y in ps)],
                  key=lambda x: x[2])
def hv(ps):
    # minimise (-acc, params): sweep by params ascending
    total, best_acc = 0.0, ref_acc
    for _, a, p in sorted(front(ps), key=lambda x: x[2]):
        if a > best_acc and p < ref_par:
            total += (a - best_acc) * (ref_par - p)
            best_acc = a
    return total
hvs = {t: hv(pts[t]) for t in tuners}
print(f"reference point: val_accuracy {ref_acc:.4f}, params {ref_par:.0f} (the worst over all {sum(len(pts[t]) for t in tuners)} trials)")
for t in tuners:
    wall = open(f"{work}/{t}.wall").read().strip()
    print(f"pareto_{t}: {len(pts[t])} trials, wall {wall} s, hypervolume {hvs[t]:.1f}, ratio to RandomSearch {hvs[t] / hvs['RandomSearch']:.3f}")
    for trial, a, p in front(pts[t]):
        print(f"    trial {trial:2d}: val_accuracy {a:.4f}  params {p:.0f}")
PY
