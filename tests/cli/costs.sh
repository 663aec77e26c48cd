#!/bin/sh
# Static costs and the tuner's limits (issue 15): `hptc space` prints the
# ranges of params, FLOPs and memory and the share of the space under
# max_model_size; a search with max_model_size below the space's largest model
# never trains a trial over it (asserted from the store, each trained
# configuration's parameters counted by `hptc train`'s own summary), under
# RandomSearch, GridSearch, TPE, Hyperband and ASHA, with the same table for --jobs 1
# and 2; a configuration over the limit that reaches the tuner is recorded as
# failed with the reason, not trained; a limit no configuration meets is a
# located error.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

# The shared MLP space: units 16..64 (12,730 .. 50,890 parameters), dropout,
# two learning rates: 16 configurations, 8 of them with at most 30,000 parameters.
LIMIT=30000
spec() { mlp_spec "$1" "search(epochs = 1, validation_split = 0.2, batch_size = 64)"; }

spec "RandomSearch(objective = \"val_accuracy\", max_trials = 20, seed = 5, max_model_size = $LIMIT,
                   directory = \"$tmp/r\", project_name = \"p\")" > "$tmp/r.hpt"
"$HPTC" space "$tmp/r.hpt" > "$tmp/space.txt" 2>&1
check "hptc space prints the ranges, exact over the 8 combinations of units and dropout" \
    "grep -q 'exact over all 8 combinations of the hyperparameters that change a cost' $tmp/space.txt && grep -q '^  all  *params 12,730 .. 50,890, FLOPs 25.41K .. 101.6K, memory ' $tmp/space.txt"
check "hptc space prints each region (dropout decides a layer)" \
    "grep -q '^  dropout = False params 12,730 .. 50,890' $tmp/space.txt && grep -q '^  dropout = True  params 12,730 .. 50,890' $tmp/space.txt"
check "hptc space states the feasible fraction under max_model_size" \
    "grep -qx 'feasible under max_model_size = 30,000: 8 of 16 configurations (50.0%)' $tmp/space.txt"

# params_of UNITS: the trainable parameters hptc train reports for that width.
params_of() {
    "$HPTC" train "$tmp/r.hpt" --set units="$1" --epochs 1 --limit 64 2>&1 |
        sed -n 's/^trainable params \([0-9]*\),.*/\1/p'
}
# over_limit DIR: the trained (completed) trials whose model is over the limit, one line each.
over_limit() {
    sqlite3 "$1/p/hptc.db" "SELECT DISTINCT json_extract(hps, '\$.units') FROM trials WHERE status = 'completed'" |
        while read -r units; do
            n=$(params_of "$units")
            [ -n "$n" ] && [ "$n" -le $LIMIT ] || echo "units=$units: ${n:-no summary} params"
        done
}
trained() { sqlite3 "$1/p/hptc.db" "SELECT count(*) FROM trials WHERE status = 'completed'"; }

check "hptc train's summary counts 25,450 params at 32 units and 38,170 at 48" \
    "[ \"\$(params_of 32)\" = 25450 ] && [ \"\$(params_of 48)\" = 38170 ]"

"$HPTC" run "$tmp/r.hpt" --jobs 2 > "$tmp/r.log" 2>&1
check "RandomSearch under max_model_size completes" "[ \$? -eq 0 ]"
check "RandomSearch trained the 8 feasible configurations, then stopped (max_trials 20)" "[ \"\$(trained $tmp/r)\" = 8 ]"
check "RandomSearch trained no trial over max_model_size (from the store)" "[ -z \"\$(over_limit $tmp/r)\" ]"
table "$tmp/r" > "$tmp/r.json"
sed "s|$tmp/r|$tmp/r1|" "$tmp/r.hpt" > "$tmp/r1.hpt"
"$HPTC" run "$tmp/r1.hpt" --jobs 1 > /dev/null 2>&1
table "$tmp/r1" > "$tmp/r1.json"
check "the constrained search's table is the same for --jobs 1 and --jobs 2" "cmp -s $tmp/r.json $tmp/r1.json"

for tuner in "GridSearch(objective = \"val_accuracy\"" "TPE(objective = \"val_accuracy\", max_trials = 6, n_startup_trials = 2" \
             "Hyperband(objective = \"val_accuracy\", max_epochs = 3, factor = 3" \
             "ASHA(objective = \"val_accuracy\", max_epochs = 4, grace_period = 1, reduction_factor = 2, max_trials = 6"; do
    name=${tuner%%(*}
    spec "$tuner, seed = 2, max_model_size = $LIMIT, directory = \"$tmp/$name\", project_name = \"p\")" > "$tmp/$name.hpt"
    "$HPTC" run "$tmp/$name.hpt" --jobs 2 > "$tmp/$name.log" 2>&1
    st=$?
    check "$name under max_model_size completes and trains some trials" "[ $st -eq 0 ] && [ \"\$(trained $tmp/$name)\" -gt 0 ]"
    check "$name trained no trial over max_model_size (from the store)" "[ -z \"\$(over_limit $tmp/$name)\" ]"
done
check "GridSearch skipped the 8 grid points over the limit" "[ \"\$(trained $tmp/GridSearch)\" = 8 ]"

# A limit 1 in 4096 configurations meets: RandomSearch's draws may give up
# (1000 tries), and what reaches the tuner over the limit fails with the reason.
cat > "$tmp/n.hpt" <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(units = hp.Int("units", 1, 4096), activation = "relu")
  Dense(10)
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_accuracy", max_trials = 3, max_consecutive_failed_trials = 5, seed = 1,
                     max_model_size = 805, directory = "$tmp/n", project_name = "p")
search(epochs = 1, validation_split = 0.2, batch_size = 64)
SPEC
"$HPTC" run "$tmp/n.hpt" > "$tmp/n.log" 2>&1
check "a configuration over the limit that reaches the tuner fails with the reason, untrained" \
    "[ \"\$(sqlite3 $tmp/n/p/hptc.db \"SELECT count(*) FROM trials WHERE status = 'failed' AND reason LIKE 'over the tuner''s limits, not trained: % trainable parameters, more than max_model_size = 805'\")\" -ge 1 ] &&
     [ \"\$(sqlite3 $tmp/n/p/hptc.db \"SELECT count(*) FROM epochs e JOIN trials t ON t.id = e.trial WHERE t.status = 'failed'\")\" = 0 ]"
check "... and a trained one is within it (1 unit: 805 parameters)" \
    "[ -z \"\$(sqlite3 $tmp/n/p/hptc.db \"SELECT id FROM trials WHERE status = 'completed' AND json_extract(hps, '\$.units') > 1\")\" ]"

# A limit no configuration meets: a located error, and nothing runs.
spec "RandomSearch(objective = \"val_accuracy\", max_trials = 2, max_model_size = 10000,
                   directory = \"$tmp/x\", project_name = \"p\")" > "$tmp/x.hpt"
"$HPTC" run "$tmp/x.hpt" > "$tmp/x.log" 2>&1
st=$?
check "an impossible max_model_size is a located error, and no trial runs" \
    "[ $st -ne 0 ] && grep -q '^$tmp/x.hpt:13:[0-9]*: error: max_model_size = 10,000 is below every configuration: the smallest has 12,730 trainable parameters' $tmp/x.log && [ ! -e $tmp/x/p/hptc.db ]"
