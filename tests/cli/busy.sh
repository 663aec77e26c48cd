#!/bin/sh
# Issue 15 "busy": a trial's executions and folds are work items that free
# slots take (so one trial's items run side by side), its score is combined
# when all are in, and the table is the same for --jobs 1, --jobs 2 and after
# kill -9 and resumes; the store's timeline gives a core utilisation in
# [0, 1] (summary --json and its text).  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"
trap 'kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT

# 3 trials x 2 executions x 2 folds: 4 items per trial.
spec() {
    mlp_spec "RandomSearch(objective = \"val_accuracy\", max_trials = 3, executions_per_trial = 2, seed = 7,
                     directory = \"$1\", project_name = \"p\")" "search(epochs = 6, batch_size = 32, cv = 2)"
}
spec "$tmp/a" > "$tmp/a.hpt"
"$HPTC" run --jobs 1 --limit 400 "$tmp/a.hpt" > "$tmp/a.log" 2>&1
check "executions x folds search runs (--jobs 1)" '[ $? -eq 0 ] && grep -q "3 trials: 3 completed" "$tmp/a.log"'
table "$tmp/a" > "$tmp/a.json"
check "each trial keeps its 4 item scores" \
    "[ \$(grep -c '\"execution_scores\": \[0\.[0-9]*, 0\.[0-9]*, 0\.[0-9]*, 0\.[0-9]*\]' $tmp/a.json) -eq 3 ]"

spec "$tmp/b" > "$tmp/b.hpt"
"$HPTC" run --jobs 2 --limit 400 "$tmp/b.hpt" > "$tmp/b.log" 2>&1
table "$tmp/b" | sed "s|$tmp/b|$tmp/a|g" > "$tmp/b.json"
check "--jobs 2 gives the --jobs 1 table, bit for bit" 'cmp -s "$tmp/a.json" "$tmp/b.json"'
db="$tmp/b/p/hptc.db"
check "the store recorded 12 work items (trial, execution, slot, start, end)" \
    "[ \"\$(sqlite3 $db 'SELECT count(*) FROM work WHERE finished >= started')\" = 12 ]"
check "one trial's items ran in both slots at once" \
    "[ \"\$(sqlite3 $db 'SELECT count(*) FROM work a JOIN work b ON a.trial = b.trial AND a.slot < b.slot AND a.started < b.finished AND b.started < a.finished')\" -ge 1 ]"
u=$("$HPTC" summary "$tmp/b/p" --json | sed -n 's/.*"utilisation": {"value": \([0-9.e-]*\),.*/\1/p')
check "summary --json's utilisation is a number in [0, 1] ($u)" "awk -v u='$u' 'BEGIN { exit !(u != \"\" && u + 0 > 0 && u + 0 <= 1) }'"
check "summary's text says it" "\"$HPTC\" summary $tmp/b/p | grep -q '^core utilisation: [0-9.]*% (.* 12 work items, 1 session, up to 2 slots)'"

# kill -9 at random moments (seeded), resume each time, until it completes.
spec "$tmp/c" > "$tmp/c.hpt"
kills=0 seed=4242 runs=0
while [ $runs -lt 100 ]; do
    runs=$((runs + 1))
    : > "$tmp/c.log"
    "$HPTC" run --jobs 2 --limit 400 "$tmp/c.hpt" >> "$tmp/c.log" 2>&1 &
    pid=$!
    seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
    # a few more epochs committed (lines are printed per trial, at its end)
    want=$(( $(sqlite3 "$tmp/c/p/hptc.db" 'SELECT count(*) FROM epochs' 2>/dev/null || echo 0) + seed % 4 + 1 ))
    while kill -0 $pid 2>/dev/null &&
          [ "$(sqlite3 "$tmp/c/p/hptc.db" 'SELECT count(*) FROM epochs' 2>/dev/null || echo 0)" -lt $want ]; do
        sleep 0.01
    done
    if [ $kills -lt 6 ] && kill -9 $pid 2>/dev/null; then
        wait $pid 2>/dev/null
        kills=$((kills + 1))
    else
        wait $pid
        [ $? -eq 0 ] && break
    fi
done
table "$tmp/c" | sed "s|$tmp/c|$tmp/a|g" > "$tmp/c.json"
check "after $kills kill -9 and resumes the table equals the uninterrupted one" "[ $kills -ge 5 ] && cmp -s $tmp/a.json $tmp/c.json"
sessions=$(sqlite3 "$tmp/c/p/hptc.db" 'SELECT count(*) FROM sessions')
u=$("$HPTC" summary "$tmp/c/p" --json | sed -n 's/.*"utilisation": {"value": \([0-9.e-]*\),.*/\1/p')
check "the resumed search has a session per run ($sessions) and a utilisation in [0, 1] ($u)" \
    "[ $sessions -eq $runs ] && awk -v u='$u' 'BEGIN { exit !(u != \"\" && u + 0 > 0 && u + 0 <= 1) }'"

# A trial whose items fail (lr 1e3 diverges), with a retry: --jobs 2 ends it
# as the sequential loop did, keeping only the first failed item's epochs.
for j in 1 2; do
    cat > "$tmp/d$j.hpt" <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(32, activation = "relu")
  Dense(10)
}
compile(optimizer = SGD(learning_rate = hp.Choice("learning_rate", [1e3, 1e-2])), loss = "mse", metrics = ["accuracy"])
tuner = GridSearch(objective = "val_loss", directory = "$tmp/d$j", project_name = "p", executions_per_trial = 3,
                   max_retries_per_trial = 1, max_consecutive_failed_trials = 5)
search(epochs = 2, validation_split = 0.2)
SPEC
    "$HPTC" run "$tmp/d$j.hpt" --jobs $j --limit 400 > "$tmp/d$j.log" 2>&1
done
table "$tmp/d1" > "$tmp/d1.json"
table "$tmp/d2" | sed "s|$tmp/d2|$tmp/d1|g" > "$tmp/d2.json"
check "failing items with a retry: --jobs 2 gives the --jobs 1 table (reason, epochs kept)" \
    "grep -q 'trial 0 failed (loss became' $tmp/d2.log && grep -q 'trial 0 failed: loss became' $tmp/d2.log && grep -q 'trial 1 done' $tmp/d2.log && cmp -s $tmp/d1.json $tmp/d2.json"
check "the failed trial keeps the epochs of its first execution only, though --jobs 2 ran its second too" \
    "[ \"\$(sqlite3 $tmp/d2/p/hptc.db 'SELECT DISTINCT execution FROM epochs WHERE trial = 0')\" = 0 ] && [ \"\$(sqlite3 $tmp/d2/p/hptc.db 'SELECT count(*) FROM work WHERE trial = 0 AND execution = 1')\" -ge 1 ]"
