#!/bin/sh
# Issue 14: regression on scikit-learn's diabetes table.  Runs
# examples/diabetes_regression.hpt (RandomSearch, 10 trials, objective
# val_root_mean_squared_error), exports the best trial's best epoch, tests it
# on examples/data/diabetes_test.csv with `hptc eval`, and prints its test
# RMSE beside scikit-learn's RidgeCV on the same split and the same
# standardised features (bench/diabetes_ridge.py).  Target: hptc's test RMSE
# within 5% of RidgeCV's, or lower.
set -e
cd "$(dirname "$0")/.."
: "${HPTC:=build/hptc}"
py=/usr/bin/python3
$py -c 'import sklearn' 2>/dev/null || HPTC_EXTRA_PACKAGES="python3-sklearn" sh .ci/deps.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e "s|directory = \"my_dir\"|directory = \"$work\"|" -e "s|\"data/|\"$PWD/examples/data/|g" \
    examples/diabetes_regression.hpt > "$work/diabetes.hpt"
"$HPTC" run "$work/diabetes.hpt" > "$work/run.log"
"$HPTC" export "$work/diabetes" -o "$work/best.weights" > /dev/null
hptc=$("$HPTC" eval "$work/diabetes.hpt" --weights "$work/best.weights" |
       sed -n 's/.*test_root_mean_squared_error: \([0-9.]*\).*/\1/p')
ridge=$($py bench/diabetes_ridge.py)
echo "hptc best trial test RMSE $hptc ($(grep -m1 '^Hyperparameters' "$work/run.log" 2>/dev/null || true))"
echo "$ridge"
r=$(echo "$ridge" | sed -n 's/^RidgeCV test RMSE \([0-9.]*\).*/\1/p')
awk -v h="$hptc" -v r="$r" 'BEGIN { printf "hptc / RidgeCV = %.4f (target <= 1.05): %s\n", h / r, h <= 1.05 * r ? "met" : "NOT met" }'
