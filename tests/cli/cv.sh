#!/bin/sh
# search(cv = ...): every trial trains once per fold, its score is the mean of
# the folds' best val_accuracy (listed as execution_scores), and the table is
# the same for --jobs 1 and --jobs 2.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

spec() {
    mlp_spec "RandomSearch(objective = \"val_accuracy\", max_trials = 3, seed = 5, directory = \"$1\",
                     project_name = \"p\")" "search(epochs = 2, batch_size = 32, cv = $2)"
}

spec "$tmp/a" "StratifiedKFold(n_splits = 3, shuffle = true, seed = 9)" > "$tmp/a.hpt"
spec "$tmp/b" "StratifiedKFold(n_splits = 3, shuffle = true, seed = 9)" > "$tmp/b.hpt"
"$HPTC" run --jobs 1 --limit 600 "$tmp/a.hpt" > "$tmp/a.log" 2>&1
check "cv search runs (--jobs 1)" '[ $? -eq 0 ] && grep -q "mean of 3 folds" "$tmp/a.log"'
"$HPTC" run --jobs 2 --limit 600 "$tmp/b.hpt" > "$tmp/b.log" 2>&1
table "$tmp/a" > "$tmp/a.json"
table "$tmp/b" | sed "s|$tmp/b|$tmp/a|g" > "$tmp/b.json"
check "same trial table with --jobs 1 and --jobs 2" 'cmp -s "$tmp/a.json" "$tmp/b.json"'
check "three trials completed" '[ "$(grep -c "\"status\": \"completed\"" "$tmp/a.json")" -eq 3 ]'

# Each trial: three fold scores whose mean is the score.
awk '/"id": /{
        match($0, /"score": [0-9.e-]+/); s = substr($0, RSTART + 9, RLENGTH - 9)
        if (!match($0, /"execution_scores": \[[^]]*\]/)) { print "missing"; next }
        n = split(substr($0, RSTART + 21, RLENGTH - 22), v, ", ")
        m = 0; for (i = 1; i <= n; i++) m += v[i]; m /= n
        d = m - s; if (d < 0) d = -d
        print (n == 3 && d < 1e-12) ? "ok" : "bad " n " " m " " s }' "$tmp/a.json" > "$tmp/means"
check "each score is the mean of its 3 fold scores" '[ "$(sort -u "$tmp/means")" = ok ]'
check "fold epochs are stored (3 trials x 3 folds x 2 epochs)" \
    'grep -q "\"epochs_trained\": 18" "$tmp/a.json"'

# A plain k and another seed give other folds, hence other scores.
spec "$tmp/c" 3 > "$tmp/c.hpt"
"$HPTC" run --jobs 2 --limit 600 "$tmp/c.hpt" > "$tmp/c.log" 2>&1
check "cv = 3 (no shuffle) runs" '[ $? -eq 0 ]'
check "unshuffled folds score differently" \
    '! cmp -s "$tmp/a.json" "$(table "$tmp/c" | sed "s|$tmp/c|$tmp/a|g" > "$tmp/c.json"; echo "$tmp/c.json")"'

# More folds than any class has rows: a clear error naming the data.
spec "$tmp/d" 400 > "$tmp/d.hpt"
"$HPTC" run --jobs 1 --limit 600 "$tmp/d.hpt" > "$tmp/d.log" 2>&1
check "400 folds of 600 rows fail with a reason" '[ $? -ne 0 ] && grep -q "cv = 400.*no class has more than" "$tmp/d.log"'

# The JIT backend (when built in) gives the same scores to 0.1 point.
if "$HPTC" --version | grep -q 'jit \[LLVM'; then
    spec "$tmp/e" "StratifiedKFold(n_splits = 3, shuffle = true, seed = 9)" > "$tmp/e.hpt"
    "$HPTC" run --backend jit --jobs 2 --limit 600 "$tmp/e.hpt" > "$tmp/e.log" 2>&1
    scores() { grep -o '"score": [0-9.e-]*' "$1" | cut -d' ' -f2; }
    table "$tmp/e" > "$tmp/e.json"
    scores "$tmp/a.json" > "$tmp/sa"; scores "$tmp/e.json" > "$tmp/se"
    check "run --backend jit: same scores as BLAS within 0.001" \
        '[ -s "$tmp/se" ] && paste "$tmp/sa" "$tmp/se" | awk "{ d = \$1 - \$2; if (d < 0) d = -d; if (d > 0.001) bad = 1 } END { exit bad }"'
else
    echo "SKIP: run --backend jit (this build has no JIT)"
fi
