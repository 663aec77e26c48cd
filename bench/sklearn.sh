#!/bin/sh
# Issue 8: Keras Tuner's SklearnTuner guide as a search (examples/digits_sklearn.hpt
# and examples/fashion_sklearn.hpt: RandomForestClassifier or RidgeClassifier,
# RandomSearch, 5-fold StratifiedKFold, val_accuracy) on scikit-learn's digits
# and on a 10k-row Fashion-MNIST slice: `hptc run --jobs 2` end to end, then
# scikit-learn (bench/sklearn_peer.py) cross-validating exactly the trials
# hptc ran with n_jobs = 2.  Prints both wall times, their ratio (target
# >= 3x) and both best scores (target: equal within 1 point).
set -e
cd "$(dirname "$0")/.."
: "${HPTC:=build/hptc}" "${JOBS:=2}" "${TRIALS:=20}"
root=$PWD
py=/usr/bin/python3
$py -c 'import sklearn' 2>/dev/null || HPTC_EXTRA_PACKAGES="python3-sklearn" sh .ci/deps.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

one() {   # $1 = name, $2 = example, $3 = peer --data, $4 = --limit (0: all rows)
    sed -e "s|directory = \"my_dir\"|directory = \"$work\"|" -e "s|max_trials = 10|max_trials = $TRIALS|" \
        -e "s|csv(\"data/|csv(\"$PWD/examples/data/|" \
        "$2" > "$work/$1.hpt"
    limit=""
    [ "$4" -gt 0 ] && limit="--limit $4"
    t0=$(date +%s.%N)
    "$HPTC" run "$work/$1.hpt" --jobs "$JOBS" $limit > "$work/$1.log"
    t1=$(date +%s.%N)
    project=$(sed -n 's/.*project_name = "\([^"]*\)".*/\1/p' "$2")
    "$HPTC" summary "$work/$project" --json > "$work/$1.json"
    best=$($py -c 'import json,sys; s=json.load(open(sys.argv[1])); print(max(t["score"] for t in s["trials"] if t["score"] is not None))' "$work/$1.json")
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
    peer=$($py bench/sklearn_peer.py --data "$3" --summary "$work/$1.json" --limit "$4" --jobs "$JOBS")
    echo "$1: hptc wall $wall s, best val_accuracy $best ($TRIALS trials x 5 folds, --jobs $JOBS)"
    echo "$1: sklearn $peer"
    echo "$peer" | awk -v w="$wall" -v b="$best" -v n="$1" '{
        for (i = 1; i < NF; i++) v[$i] = $(i + 1);
        printf "%s: sklearn_over_hptc_wall %.2f (target >= 3)  best hptc %.4f sklearn %.4f diff %+.4f (target within 0.01)\n",
               n, v["wall_seconds"] / w, b, v["best_score"], b - v["best_score"];
    }'
}

one digits examples/digits_sklearn.hpt digits 0
one fashion10k examples/fashion_sklearn.hpt fashion 10000
