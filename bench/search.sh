#!/bin/sh
# Issue 4: the seed search (Hyperband, max_epochs 10, factor 3, full
# Fashion-MNIST) end to end: wall time, epochs trained, trials, best
# val_accuracy, peak RSS; then the same space searched the Optuna way (TPE +
# HyperbandPruner(1, 10, 3)) with PyTorch for the same number of epochs, and
# the ratio of their times per epoch trained.  Issue 13: the same search
# under --dtype-policy mixed_bfloat16, its wall time and best beside float32's
# (where the CPU has bf16).
set -e
cd "$(dirname "$0")/.."
: "${HPTC:=$PWD/build/hptc}" "${JOBS:=2}"
root=$PWD
py=/usr/bin/python3
$py -c 'import optuna, torch' 2>/dev/null || HPTC_EXTRA_PACKAGES="python3-torch python3-optuna" sh .ci/deps.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp examples/fashion_mlp.hpt "$work/"
cd "$work"
t0=$(date +%s.%N)
rss=$($py -c 'import resource,subprocess,sys; r=subprocess.run(sys.argv[2:], stdout=open(sys.argv[1],"w")); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024); sys.exit(r.returncode)' \
      run.log "$HPTC" run fashion_mlp.hpt --jobs "$JOBS" --overwrite)
t1=$(date +%s.%N)
"$HPTC" summary my_dir/intro_to_kt --json > summary.json
set -- $($py -c 'import json,sys; s=json.load(open("summary.json")); t=s["trials"]; b=[x["score"] for x in t if x["score"] is not None]; print(len(t), s["epochs_trained"], max(b) if b else 0)')
trials=$1 epochs=$2 best=$3
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
echo "hptc seed search: wall $wall s, $trials trials, $epochs epochs trained, best val_accuracy $best, peak RSS $rss MB, --jobs $JOBS"
tail -4 run.log | sed 's/^/  /'
if "$HPTC" --version | grep -q '^mixed_bfloat16: yes'; then
    t2=$(date +%s.%N)
    "$HPTC" run fashion_mlp.hpt --jobs "$JOBS" --overwrite --dtype-policy mixed_bfloat16 > run16.log
    t3=$(date +%s.%N)
    best16=$("$HPTC" best my_dir/intro_to_kt --json | $py -c 'import json,sys; print(json.load(sys.stdin)["score"])')
    awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v b32="$best" -v b16="$best16" 'BEGIN {
        printf "seed_search_dtype float32 wall %.1f s best %.4f   mixed_bfloat16 wall %.1f s best %.4f   (--jobs 2)\n", b - a, b32, d - c, b16 }'
else
    echo "seed_search_dtype: mixed_bfloat16 skipped: this CPU has no bf16 instructions"
fi
cd "$root"
optuna=$($py bench/optuna_search.py --epochs-budget "$epochs" --threads 1)
echo "optuna+pytorch: $optuna"
echo "$optuna" | awk -v w="$wall" -v e="$epochs" -v b="$best" -v r="$rss" '{
    for (i = 1; i < NF; i++) v[$i] = $(i + 1);
    hs = w / e;
    printf "search_seconds_per_epoch hptc %.3f optuna %.3f ratio %.2f (target >= 8)\n", hs, v["seconds_per_epoch"], v["seconds_per_epoch"] / hs;
    printf "search_wall_seconds %.0f (target < 240)  best_val_accuracy %.4f (target >= 0.89; optuna %.4f)  peak_rss_mb %d (target <= 200)\n", w, b, v["best_val_accuracy"], r;
}'
