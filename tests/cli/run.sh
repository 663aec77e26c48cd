#!/bin/sh
# hptc run: the whole search on the committed data slice.  Checks that the
# trial table is the same for --jobs 1 and --jobs 2, the same after 20+
# kill -9 at random points and resumes, that a changed spec is refused, that a
# diverging trial fails with its reason while the search goes on, and that
# summary/best/export/eval read the store.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"
trap 'kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT

# A small Hyperband search: 20 trials, 62 epochs (max_epochs 5, factor 3, two iterations).
spec() {
    mlp_spec "Hyperband(objective = \"val_accuracy\", max_epochs = 5, factor = 3, hyperband_iterations = 2,
                  directory = \"$1\", project_name = \"p\", seed = 3)" \
             "search(validation_split = 0.2, batch_size = 32,
       callbacks = [EarlyStopping(monitor = \"val_loss\", patience = 1)])"
}

spec "$tmp/a" > "$tmp/a.hpt"
"$HPTC" run "$tmp/a.hpt" --jobs 1 > "$tmp/a.log" 2>&1
check "run --jobs 1 completes" "[ \$? -eq 0 ] && grep -q '^Results summary' $tmp/a.log"
table "$tmp/a" > "$tmp/a.json"
check "Hyperband(5, 3) x 2 iterations ran Keras Tuner's 20 trials" "grep -c '\"id\": ' $tmp/a.json | grep -qx 20"
check "promoted trials record their parent and initial epoch" "grep -q '\"parent\": [0-9][0-9]*, \"bracket\": [0-9]*, \"round\": 1, \"epochs\": 5, \"initial_epoch\": 2' $tmp/a.json"
check "every trial has its learning curve stored" "! grep -q '\"history\": \[\]' $tmp/a.json"

spec "$tmp/b" > "$tmp/b.hpt"
"$HPTC" run "$tmp/b.hpt" --jobs 2 > "$tmp/b.log" 2>&1
table "$tmp/b" | sed "s|$tmp/b|$tmp/a|g" > "$tmp/b.json"
check "--jobs 2 gives the same trial table as --jobs 1, bit for bit" "cmp -s $tmp/a.json $tmp/b.json"

# Kill -9 at random points (seeded), rerun, until the search completes; on a
# fast or a loaded machine one search may finish before 20 kills, so searches
# are repeated in fresh projects until 20 kills have landed, and each one's
# table must equal the uninterrupted run's.
kills=0 seed=12345 runs=0 round=0 same=1
while [ $kills -lt 20 ] && [ $round -lt 10 ]; do
    round=$((round + 1))
    spec "$tmp/c" > "$tmp/c.hpt"
    rm -rf "$tmp/c"
    while [ $runs -lt 400 ]; do
        runs=$((runs + 1))
        : > "$tmp/c.log"
        "$HPTC" run "$tmp/c.hpt" --jobs 2 >> "$tmp/c.log" 2>&1 &
        pid=$!
        seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
        wait_lines=$(( seed % 3 + 1 ))
        # Let the run commit a few epochs, then kill it mid-flight.
        while kill -0 $pid 2>/dev/null && [ "$(grep -c 'epoch' < "$tmp/c.log")" -lt $wait_lines ]; do sleep 0.005; done
        if kill -9 $pid 2>/dev/null; then
            wait $pid 2>/dev/null
            kills=$((kills + 1))
        else
            wait $pid
            [ $? -eq 0 ] && break
        fi
    done
    table "$tmp/c" | sed "s|$tmp/c|$tmp/a|g" > "$tmp/c.json"
    cmp -s "$tmp/a.json" "$tmp/c.json" || same=0
done
check "the searches survived $kills kill -9 (at least 20) in $round rounds" "[ $kills -ge 20 ]"
check "after the kills and resumes, the trial table equals the uninterrupted run's" "[ $same -eq 1 ]"
"$HPTC" run "$tmp/c.hpt" > "$tmp/c2.log" 2>&1
check "running a finished search again redoes nothing" "grep -q 'resuming .*20 trials done' $tmp/c2.log && ! grep -q '^trial [0-9]*:' $tmp/c2.log"

sed 's/patience = 1/patience = 2/' "$tmp/a.hpt" > "$tmp/a2.hpt"
"$HPTC" run "$tmp/a2.hpt" > "$tmp/x.log" 2>&1
check "a changed spec in an existing project is refused" "[ \$? -eq 1 ] && grep -q 'holds a search of another spec' $tmp/x.log && grep -q -- '--overwrite' $tmp/x.log"

"$HPTC" best "$tmp/a/p" > "$tmp/best" 2>&1
check "best prints the best trial's hyperparameters" "grep -q '^units = [0-9]*' $tmp/best && grep -q '^learning_rate = ' $tmp/best"
"$HPTC" summary "$tmp/a/p" > "$tmp/sum" 2>&1
check "summary reads like results_summary()" "grep -q 'Objective(name=\"val_accuracy\", direction=\"max\")' $tmp/sum && grep -q '^Trial [0-9]* summary' $tmp/sum"
"$HPTC" summary "$tmp/a/p" --csv > "$tmp/sum.csv"
check "summary --csv has a header and a row per trial" "[ \$(wc -l < $tmp/sum.csv) -eq 21 ] && head -1 $tmp/sum.csv | grep -q '^id,status,score'"
"$HPTC" export "$tmp/a/p" -o "$tmp/best.bin" > /dev/null 2>&1 && "$HPTC" eval "$tmp/a.hpt" --weights "$tmp/best.bin" > "$tmp/ev" 2>&1
check "export + eval of the best trial" "grep -q '^test_accuracy\|test_accuracy: 0\.' $tmp/ev"

# A trial that diverges fails with its reason; the search goes on.
cat > "$tmp/d.hpt" <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(32, activation = "relu")
  Dense(10)
}
compile(optimizer = SGD(learning_rate = hp.Choice("learning_rate", [1e3, 1e-2])), loss = "mse", metrics = ["accuracy"])
tuner = GridSearch(objective = "val_loss", directory = "$tmp/d", project_name = "p", max_consecutive_failed_trials = 5)
search(epochs = 2, validation_split = 0.2)
SPEC
"$HPTC" run "$tmp/d.hpt" > "$tmp/d.log" 2>&1
check "a diverging trial fails and the search completes" "[ \$? -eq 0 ] && grep -q 'trial 0 failed: loss became' $tmp/d.log && grep -q 'trial 1 done' $tmp/d.log"
"$HPTC" summary "$tmp/d/p" > "$tmp/d.sum"
check "the store keeps the failed trial's reason" "grep -q 'Trial 0000 failed: loss became' $tmp/d.sum"

# Checkpoints are pruned as the search goes: 40 trials of 200k-400k weights
# (0.8-1.6 MB a checkpoint, 48 MB if all were kept) leave a store of a few MB.
cat > "$tmp/p.hpt" <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(units = hp.Int("units", 256, 512, step = 16), activation = "relu")
  Dense(10)
}
compile(optimizer = Adam(learning_rate = hp.Float("lr", 1e-4, 1e-2, sampling = "log")),
        loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_accuracy", max_trials = 40, seed = 2, directory = "$tmp/p", project_name = "p")
search(epochs = 1, validation_split = 0.2)
SPEC
"$HPTC" run --jobs 2 --limit 300 "$tmp/p.hpt" > "$tmp/p.log" 2>&1
size=$(wc -c < "$tmp/p/p/hptc.db")
check "40 trials leave a store of under 6 MB (got $size bytes)" '[ $? -eq 0 ] && [ "$size" -lt 6000000 ]'
"$HPTC" export "$tmp/p/p" -o "$tmp/p.bin" > /dev/null 2>&1
check "the best trial's checkpoint is kept" '[ $? -eq 0 ] && [ -s "$tmp/p.bin" ]'
best=$("$HPTC" best "$tmp/p/p" --json | sed 's/^{"trial": \([0-9]*\),.*/\1/')
other=$(( best == 0 ? 1 : 0 ))
"$HPTC" export "$tmp/p/p" --trial $other -o "$tmp/p0.bin" > "$tmp/p0.log" 2>&1
check "trial $other's checkpoint (not the best, $best) was pruned, and export says so" \
    '[ $? -ne 0 ] && grep -q "was pruned" "$tmp/p0.log"'
