#!/bin/sh
# Binary classification and regression (issue 14, item 4), end to end: a
# sigmoid + binary cross-entropy spec on a small CSV with AUC, Precision and
# Recall, objective val_auc maximised; the diabetes regression with mse, mae
# and huber, on both backends; ReduceLROnPlateau's learning rates epoch by
# epoch, and a kill -9 and resume that keeps them; TerminateOnNaN stopping a
# diverging trial with the reason stored; the checker's objective errors.
# PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"
trap 'kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
data="$PWD/examples/data"

# 400 rows of two features; the label is 1 when x1 + x2 > 0, 5% flipped (a fixed LCG).
awk 'BEGIN { s = 7; print "x1,x2,label";
  for (i = 0; i < 400; i++) {
    s = (s * 1103515245 + 12345) % 2147483648; a = s / 2147483648 * 4 - 2;
    s = (s * 1103515245 + 12345) % 2147483648; b = s / 2147483648 * 4 - 2;
    s = (s * 1103515245 + 12345) % 2147483648; flip = s / 2147483648 < 0.05;
    y = (a + b > 0); if (flip) y = 1 - y; printf "%.4f,%.4f,%d\n", a, b, y } }' > "$tmp/binary.csv"

binary_spec() {   # $1 = last layer, $2 = loss
    cat <<SPEC
data = csv("$tmp/binary.csv", label = "label")
model {
  Input(shape = [2])
  Dense(16, activation = "relu")
  $1
}
compile(optimizer = Adam(learning_rate = 0.01), loss = $2,
        metrics = ["accuracy", "AUC", "Precision", "Recall"])
tuner = RandomSearch(objective = "val_auc", max_trials = 1, directory = "$tmp", project_name = "binary")
search(epochs = 15, validation_split = 0.25, batch_size = 32)
SPEC
}
binary_spec 'Dense(1, activation = "sigmoid")' '"binary_crossentropy"' > "$tmp/binary.hpt"
"$HPTC" train "$tmp/binary.hpt" > "$tmp/binary.log" 2>&1
first=$(sed -n 's/^Epoch 1\/15 .* loss: \([0-9.]*\) .*/\1/p' "$tmp/binary.log")
last=$(sed -n 's/^Epoch 15\/15 .* loss: \([0-9.]*\) .*/\1/p' "$tmp/binary.log")
auc=$(sed -n 's/^Epoch 15\/15 .* val_auc: \([0-9.]*\).*/\1/p' "$tmp/binary.log")
check "sigmoid + binary_crossentropy trains: loss $first -> $last, val_auc $auc > 0.9" \
      "awk -v a='$first' -v b='$last' -v u='$auc' 'BEGIN { exit !(b < a && u > 0.9) }'"
check "each epoch reports accuracy, auc, precision and recall, and their val_ values" \
      "grep -q 'Epoch 15/15 .* - accuracy: .* - auc: .* - precision: .* - recall: .* - val_auc: .* - val_precision: .* - val_recall: ' $tmp/binary.log"
"$HPTC" train "$tmp/binary.hpt" --backend jit > "$tmp/binary_jit.log" 2>&1
check "the binary spec trains on the JIT backend too" "grep -q 'Epoch 15/15 .* val_auc: 0\.9' $tmp/binary_jit.log"
if "$HPTC" --version | grep -q '^mixed_bfloat16: yes'; then
    "$HPTC" train "$tmp/binary.hpt" --dtype-policy mixed_bfloat16 > "$tmp/binary_bf16.log" 2>&1
    check "the binary spec trains under mixed_bfloat16 (val_auc > 0.9)" "grep -q 'Epoch 15/15 .* val_auc: 0\.9' $tmp/binary_bf16.log"
else
    echo "SKIP: tests/cli/tasks.sh: this CPU has no bf16 (hptc --version): the mixed_bfloat16 checks"
fi
binary_spec 'Dense(1)' 'BinaryCrossentropy(from_logits = True)' > "$tmp/logits.hpt"
"$HPTC" train "$tmp/logits.hpt" > "$tmp/logits.log" 2>&1
check "BinaryCrossentropy(from_logits = True) on a linear output trains alike (val_auc > 0.9)" \
      "grep -q 'Epoch 15/15 .* val_auc: 0\.9' $tmp/logits.log"
"$HPTC" run "$tmp/binary.hpt" > "$tmp/binary_run.log" 2>&1
check "objective val_auc is maximised, as Keras Tuner infers it" \
      "grep -q 'Objective(name=\"val_auc\", direction=\"max\")' $tmp/binary_run.log"
"$HPTC" summary "$tmp/binary" --json > "$tmp/binary.json"
check "the store keeps each epoch's auc, precision and recall" "grep -q '\"val_auc\": 0\.9' $tmp/binary.json"

# The diabetes regression, one configuration of the example, three losses, both backends.
regression_spec() {   # $1 = loss, $2 = callbacks
    cat <<SPEC
data = csv("$data/diabetes_train.csv", label = "target", test = "$data/diabetes_test.csv", standardize = True)
model {
  Input(shape = [10])
  Dense(32, activation = "relu")
  Dense(1)
}
compile(optimizer = Adam(learning_rate = CosineDecay(0.1, decay_steps = 1100)), loss = $1,
        metrics = ["mae", "mse", "RootMeanSquaredError"])
tuner = RandomSearch(objective = "val_rmse", max_trials = 1, directory = "$tmp", project_name = "p")
search(epochs = 100, validation_split = 0.2, batch_size = 32, callbacks = [$2])
SPEC
}
regression_spec '"mse"' '' > "$tmp/mse.hpt"
"$HPTC" train "$tmp/mse.hpt" > "$tmp/mse.log" 2>&1
rmse=$(sed -n 's/^test_loss.*test_root_mean_squared_error: \([0-9.]*\).*/\1/p' "$tmp/mse.log")
check "mse regression on diabetes: test RMSE $rmse < 65 (RidgeCV 58.4)" "awk -v r='$rmse' 'BEGIN { exit !(r > 0 && r < 65) }'"
check "test_mse is test_root_mean_squared_error squared" \
      "sed -n 's/.*test_mse: \([0-9.]*\) - test_root_mean_squared_error: \([0-9.]*\)/\1 \2/p' $tmp/mse.log | awk '{ exit !((\$1 - \$2 * \$2) ^ 2 < 1) }'"
"$HPTC" train "$tmp/mse.hpt" --backend jit > "$tmp/mse_jit.log" 2>&1
check "the JIT backend (switching at step 512, its optimizer fed the schedule's rate) gives the same test figures" \
      "[ \"\$(tail -1 $tmp/mse.log)\" = \"\$(tail -1 $tmp/mse_jit.log)\" ]"
if "$HPTC" --version | grep -q '^mixed_bfloat16: yes'; then
    "$HPTC" train "$tmp/mse.hpt" --dtype-policy mixed_bfloat16 > "$tmp/mse_bf16.log" 2>&1
    r=$(sed -n 's/^test_loss.*test_root_mean_squared_error: \([0-9.]*\).*/\1/p' "$tmp/mse_bf16.log")
    check "the regression trains under mixed_bfloat16: test RMSE $r < 65" "awk -v r='$r' 'BEGIN { exit !(r > 0 && r < 65) }'"
fi
for loss in '"mae"' 'Huber(delta = 20.0)'; do
    regression_spec "$loss" '' > "$tmp/l.hpt"
    "$HPTC" train "$tmp/l.hpt" > "$tmp/l.log" 2>&1
    a=$(sed -n 's/^Epoch 1\/100 .* - loss: \([0-9.]*\) .*/\1/p' "$tmp/l.log")
    b=$(sed -n 's/^Epoch 100\/100 .* - loss: \([0-9.]*\) .*/\1/p' "$tmp/l.log")
    r=$(sed -n 's/^test_loss.*test_root_mean_squared_error: \([0-9.]*\).*/\1/p' "$tmp/l.log")
    check "loss = $loss trains: loss $a -> $b, test RMSE $r < 70" \
          "awk -v a='$a' -v b='$b' -v r='$r' 'BEGIN { exit !(b < a / 2 && r > 0 && r < 70) }'"
done

# ReduceLROnPlateau(patience 1, factor 0.5, cooldown 1, min_lr 0.002) with a
# min_delta no epoch can beat: the first epoch sets the best, then each
# epoch out of cooldown reduces, down to min_lr.  Keras's sequence of the
# rates each epoch trained at: 0.01, 0.01, 0.005, 0.0025, 0.002, 0.002.
cat > "$tmp/plateau.hpt" <<SPEC
data = csv("$tmp/binary.csv", label = "label")
model {
  Input(shape = [2])
  Dense(1, activation = "sigmoid")
}
compile(optimizer = SGD(learning_rate = 0.01), loss = "binary_crossentropy")
tuner = RandomSearch(objective = "val_loss", max_trials = 1, directory = "$tmp", project_name = "plateau")
search(epochs = 6, validation_split = 0.25,
       callbacks = [ReduceLROnPlateau(monitor = "val_loss", patience = 1, factor = 0.5, min_delta = 1e9, cooldown = 1,
                                      min_lr = 0.002)])
SPEC
"$HPTC" train "$tmp/plateau.hpt" > "$tmp/plateau.log" 2>&1
rates=$(sed -n 's/^Epoch .* - learning_rate: \([0-9.e-]*\)$/\1/p' "$tmp/plateau.log" | tr '\n' ' ')
check "ReduceLROnPlateau's rates are Keras's: $rates" "[ '$rates' = '0.01 0.01 0.005 0.0025 0.002 0.002 ' ]"

# Kill -9 mid-trial and resume: the reduced rate and the schedule's step
# survive in the checkpoint, so the trial's table equals an uninterrupted run's.
resume_spec() {
    regression_spec '"mse"' 'ReduceLROnPlateau(monitor = "loss", patience = 20, factor = 0.5, min_delta = 1e9)' |
        sed -e "s|project_name = \"p\"|project_name = \"$1\"|" -e 's/epochs = 100/epochs = 300/' \
            -e 's/decay_steps = 1100/decay_steps = 100000/'
}
resume_spec a > "$tmp/a.hpt"
"$HPTC" run "$tmp/a.hpt" > "$tmp/a.log" 2>&1
resume_spec b > "$tmp/b.hpt"
kills=0 runs=0
while [ $runs -lt 200 ]; do
    runs=$((runs + 1))
    : > "$tmp/b.log"
    "$HPTC" run "$tmp/b.hpt" >> "$tmp/b.log" 2>&1 &
    pid=$!
    # Let it commit 40 more epochs than at the last kill (the store says
    # how many: its lines come at the trial's end), then kill it mid-flight.
    while kill -0 $pid 2>/dev/null &&
          [ "$(sqlite3 "$tmp/b/hptc.db" 'SELECT count(*) FROM epochs' 2>/dev/null || echo 0)" -lt $((kills * 40 + 20)) ]; do
        sleep 0.01
    done
    if kill -9 $pid 2>/dev/null; then wait $pid 2>/dev/null; kills=$((kills + 1)); else wait $pid; [ $? -eq 0 ] && break; fi
done
strip() { "$HPTC" summary "$tmp/$1" --json | sed 's/"started": [0-9.e+]*, "finished": [0-9.e+null]*, //; s/"utilisation": {[^}]*}, //' | sed "s|$tmp/$1|DIR|g"; }
strip a > "$tmp/a.json"
strip b > "$tmp/b.json"
check "after $kills kill -9 and resumes (at least 2), the trial equals the uninterrupted one" \
      "[ $kills -ge 2 ] && cmp -s $tmp/a.json $tmp/b.json"
lr=$(grep -o '"learning_rate": [0-9.e-]*' "$tmp/a.json" | tail -1 | sed 's/.*: //')
check "... whose rate ReduceLROnPlateau halved every 21 epochs ($lr at epoch 300)" \
      "awk -v r='$lr' 'BEGIN { exit !(r > 0 && r < 1e-4) }'"

# TerminateOnNaN: a rate that grows tenfold every 20 steps diverges within a
# few epochs; the trial stops, keeps its finite epochs, and says why.
cat > "$tmp/nan.hpt" <<SPEC
data = csv("$tmp/binary.csv", label = "label")
model {
  Input(shape = [2])
  Dense(16, activation = "relu")
  Dense(1, activation = "sigmoid")
}
compile(optimizer = SGD(learning_rate = ExponentialDecay(0.01, decay_steps = 20, decay_rate = 1e4)),
        loss = "binary_crossentropy", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_accuracy", max_trials = 1, directory = "$tmp", project_name = "nan")
search(epochs = 50, validation_split = 0.25, callbacks = [TerminateOnNaN()])
SPEC
"$HPTC" run "$tmp/nan.hpt" > "$tmp/nan.log" 2>&1
"$HPTC" summary "$tmp/nan" --json > "$tmp/nan.json"
check "TerminateOnNaN stops the diverging trial, which completes with the reason stored" \
      "grep -q '\"status\": \"completed\"' $tmp/nan.json && grep -q 'TerminateOnNaN: loss became [a-zN]* at epoch [0-9]* step [0-9]*' $tmp/nan.json"
sed 's/, callbacks = \[TerminateOnNaN()\]//' "$tmp/nan.hpt" | sed 's/project_name = "nan"/project_name = "nan2"/' > "$tmp/nan2.hpt"
"$HPTC" run "$tmp/nan2.hpt" > "$tmp/nan2.log" 2>&1
check "without it the same trial fails" "grep -q 'trial 0 failed: loss became' $tmp/nan2.log"

# The checker: an objective naming a metric not compiled, a val_ name
# without validation data, and Keras's own acceptance of accuracy with mse.
sed 's/objective = "val_rmse"/objective = "val_auc"/' "$tmp/mse.hpt" > "$tmp/bad.hpt"
"$HPTC" check "$tmp/bad.hpt" > "$tmp/bad.log" 2>&1
check "an objective naming a metric not compiled is an error with the hint" \
      "grep -q \"error: objective 'val_auc' is never computed\" $tmp/bad.log && grep -q 'add \"AUC\" to compile(metrics' $tmp/bad.log"
sed 's/metrics = \["mae", "mse", "RootMeanSquaredError"\]/metrics = ["accuracy", "mae"]/; s/val_rmse/val_mae/' "$tmp/mse.hpt" > "$tmp/acc.hpt"
check "accuracy with mse is accepted, as Keras accepts it" "\"$HPTC\" check $tmp/acc.hpt > /dev/null 2>&1"

# A schema 3 store (no epochs.metrics) reads, and a run upgrades it.
/usr/bin/python3 - "$tmp/binary/hptc.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("ALTER TABLE epochs DROP COLUMN metrics")
db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
db.commit()
PY
check "a schema 3 store's summary reads, without metrics" \
      "\"$HPTC\" summary $tmp/binary --json | grep -q '\"history_metrics\": \[{}'"
"$HPTC" run "$tmp/binary.hpt" > "$tmp/up.log" 2>&1
check "a run over it upgrades it to schema 5" \
      "[ \"\$(sqlite3 $tmp/binary/hptc.db \"SELECT value FROM meta WHERE key = 'schema_version'\")\" = 5 ] &&
       sqlite3 $tmp/binary/hptc.db 'SELECT metrics FROM epochs' > /dev/null"
