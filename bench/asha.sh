#!/bin/sh
# Issue 15 (item 2): ASHA against Hyperband on the seed space (full
# Fashion-MNIST, --jobs 2), the same 120-epoch budget: examples/asha.hpt
# (grace_period 1, reduction_factor 3, max_epochs 10, max_epochs_total 120)
# beside examples/fashion_mlp.hpt's Hyperband(10, 3), both run here, and
# beside Optuna's ASHA (SuccessiveHalvingPruner(1, 3, 0), random sampler)
# with PyTorch on the same budget (bench/optuna_search.py --pruner asha).
# Prints each one's best val_accuracy, epochs trained, trials and wall time;
# target: hptc ASHA's best >= Hyperband's.
set -e
cd "$(dirname "$0")/.."
: "${HPTC:=$PWD/build/hptc}" "${JOBS:=2}" "${HPT_DATA:=/usr/share/datasets}"
export HPT_DATA
root=$PWD
py=/usr/bin/python3
$py -c 'import optuna, torch' 2>/dev/null || HPTC_EXTRA_PACKAGES="python3-torch python3-optuna" sh .ci/deps.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp examples/fashion_mlp.hpt examples/asha.hpt "$work/"
cd "$work"

# search SPEC PROJECT: "wall trials epochs best" of one hptc search.
search() {
    t0=$(date +%s.%N)
    "$HPTC" run "$1" --jobs "$JOBS" --overwrite > "$2.log"
    t1=$(date +%s.%N)
    "$HPTC" summary "my_dir/$2" --json > "$2.json"
    $py -c 'import json,sys; s=json.load(open(sys.argv[1])); t=s["trials"]; b=[x["score"] for x in t if x["score"] is not None]
print("%.1f" % (float(sys.argv[3]) - float(sys.argv[2])), len(t), s["epochs_trained"], "%.4f" % (max(b) if b else 0))' "$2.json" "$t0" "$t1"
}
set -- $(search fashion_mlp.hpt intro_to_kt)
hb_wall=$1 hb_trials=$2 hb_epochs=$3 hb_best=$4
echo "hptc Hyperband(10, 3): best val_accuracy $hb_best, $hb_epochs epochs, $hb_trials trials, wall $hb_wall s, --jobs $JOBS"
set -- $(search asha.hpt asha)
asha_wall=$1 asha_trials=$2 asha_epochs=$3 asha_best=$4
configs=$($py -c 'import json,sys; print(sum(1 for x in json.load(open(sys.argv[1]))["trials"] if x["parent"] < 0))' asha.json)
top=$($py -c 'import json,sys; print(sum(1 for x in json.load(open(sys.argv[1]))["trials"] if x["epochs"] == 10))' asha.json)
echo "hptc ASHA(1, 3, 10): best val_accuracy $asha_best, $asha_epochs epochs, $asha_trials trials ($configs configurations, $top at 10 epochs), wall $asha_wall s, --jobs $JOBS"
cd "$root"
optuna=$($py bench/optuna_search.py --epochs-budget 120 --threads 1 --pruner asha --sampler random)
echo "optuna+pytorch ASHA: $optuna"
echo "$optuna" | awk -v a="$asha_best" -v h="$hb_best" '{
    for (i = 1; i < NF; i++) v[$i] = $(i + 1);
    printf "asha_best_val_accuracy hptc_asha %.4f hptc_hyperband %.4f optuna_asha %.4f (target: hptc_asha >= hptc_hyperband: %s)\n",
        a, h, v["best_val_accuracy"], (a >= h ? "met" : "not met") }'
