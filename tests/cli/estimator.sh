#!/bin/sh
# Classic estimators end to end: examples/digits_sklearn.hpt (Keras Tuner's
# SklearnTuner guide: RandomForestClassifier or RidgeClassifier, RandomSearch,
# StratifiedKFold(5)) through check, space, run, summary, train, export and
# eval.  The Ridge trial's 5-fold score is compared with the value
# scikit-learn 1.2's cross_val_score(RidgeClassifier(alpha), X / 16, y,
# cv = StratifiedKFold(5)) gives (hptc's folds are scikit-learn's).
# PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

# The copy lives in $tmp: point its data path (relative to the spec) back here.
sed -e "s|directory = \"my_dir\"|directory = \"$tmp\"|" -e "s|csv(\"data/|csv(\"$PWD/examples/data/|" \
    examples/digits_sklearn.hpt > "$tmp/d.hpt"
"$HPTC" check "$tmp/d.hpt" > "$tmp/check" 2>&1
check "the SklearnTuner example checks without a compile(...)" "[ $? -eq 0 ] && [ ! -s $tmp/check ]"
"$HPTC" space "$tmp/d.hpt" > "$tmp/space"
check "space lists the estimators' hyperparameters under model_type" \
    "grep -q 'n_estimators .*only when model_type == \"random_forest\"' $tmp/space && grep -q 'alpha .*log' $tmp/space"

"$HPTC" run "$tmp/d.hpt" --jobs 2 > "$tmp/run" 2>&1
check "run completes the 10 trials" "grep -q '10 trials: 10 completed, 0 failed' $tmp/run"
"$HPTC" summary "$tmp/digits_sklearn" --json > "$tmp/a.json"
ridge=$(grep '"id": 0,' "$tmp/a.json" | sed 's/.*"score": \([0-9.]*\),.*/\1/')
check "trial 0 (ridge, alpha 0.00731...) scores sklearn's 5-fold mean 0.8887093779015783 ($ridge)" \
    "awk -v s='$ridge' 'BEGIN { d = s - 0.8887093779015783; exit !(d < 1e-12 && d > -1e-12) }'"
check "a ridge trial keeps its 5 fold scores, with NaN losses as null" \
    "grep '\"id\": 0,' $tmp/a.json | grep -q '\"history\": \[\[1, null, 0\.[0-9]*, null, 0\.[0-9]*\]\].*\"execution_scores\": \[0\.[0-9]*, 0\.[0-9]*, 0\.[0-9]*, 0\.[0-9]*, 0\.[0-9]*\]'"
check "forest trials have a log loss" "grep '\"id\": 1,' $tmp/a.json | grep -q '\"history\": \[\[1, 0\.[0-9]*, '"

sed "s|directory = \"$tmp\"|directory = \"$tmp/b\"|" "$tmp/d.hpt" > "$tmp/b.hpt"
"$HPTC" run "$tmp/b.hpt" --jobs 1 > /dev/null 2>&1
"$HPTC" summary "$tmp/b/digits_sklearn" --json > "$tmp/b.json"
scores() { grep -o '"score": [0-9.]*' "$1"; }
check "--jobs 1 and --jobs 2 give the same forests and scores" "[ \"\$(scores $tmp/a.json)\" = \"\$(scores $tmp/b.json)\" ]"

"$HPTC" train "$tmp/d.hpt" --set n_estimators=20 --set max_depth=8 > "$tmp/t" 2>&1
check "train fits the forest in one epoch on all 1797 rows (cv is the search's)" \
    "grep -q 'training on 1797 samples' $tmp/t && grep -q '^Epoch 1/1 - .* - loss: 0\.[0-9]* - accuracy: 0\.[0-9]*\$' $tmp/t"
check "train's summary shows the estimator and its arguments" \
    "grep -q 'random_forest_classifier RandomForestClassifier n_estimators=20, max_depth=8, min_samples_split=2, max_features=\"sqrt\", bootstrap=True' $tmp/t"
"$HPTC" export "$tmp/digits_sklearn" --trial 0 -o "$tmp/w.bin" > "$tmp/x" 2>&1
check "export refuses an estimator trial, saying why" "[ $? -eq 1 ] && grep -q 'classic estimator RidgeClassifier, which keeps no weights' $tmp/x"
"$HPTC" train "$tmp/d.hpt" --set model_type=ridge --backend jit > "$tmp/j" 2>&1
check "--backend jit leaves an estimator as it is" "[ $? -eq 0 ] && grep -q '^Epoch 1/1 .* - loss: nan - accuracy: 0\.' $tmp/j"

# A relative data path is relative to the spec's directory, not the cwd.
repo=$PWD
(cd / && "$HPTC" train "$repo/examples/digits_sklearn.hpt" --set model_type=ridge > "$tmp/cwd.log" 2>&1)
check "csv(\"data/digits.csv\") resolves beside the spec from any cwd" '[ $? -eq 0 ] && grep -q "accuracy" "$tmp/cwd.log"'
