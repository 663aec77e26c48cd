#!/bin/sh
# A changed spec reuses what still holds (issue 15, item 6): hptc diff says
# what changed and which stored trials hold for the new spec; run
# --warm-start starts a new study beside the old one whose first trials are
# the old ones that hold, copied, not trained; the old study is untouched;
# the new table is the same for any --jobs; without the flag the refusal
# names it.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

# spec DIR MAX_UNITS MAX_TRIALS [OUTPUT_ACTIVATION]: the shared small space, RandomSearch.
spec() {
    mlp_spec "RandomSearch(objective = \"val_accuracy\", max_trials = $3, directory = \"$1\", project_name = \"p\", seed = 5)" |
        sed -e "s/max_value = 64/max_value = $2/" -e "s/Dense(10)/Dense(10${4:+, activation = \"$4\"})/"
}
spec "$tmp" 64 4 > "$tmp/old.hpt"
spec "$tmp" 128 6 > "$tmp/wide.hpt"                  # units widened, two trials more
spec "$tmp" 64 4 softmax > "$tmp/layer.hpt"          # the output layer changed
"$HPTC" run "$tmp/old.hpt" --jobs 2 --limit 200 > "$tmp/old.log" 2>&1
check "the old search completes" "[ \$? -eq 0 ]"
db="$tmp/p/hptc.db"
dump() { sqlite3 "$1" "SELECT id, status, hps, seed, parent, epochs, initial_epoch, score, best_epoch FROM trials ORDER BY id;
                        SELECT trial, execution, epoch, loss, accuracy, val_loss, val_accuracy, seconds FROM epochs ORDER BY 1, 2, 3;"; }
dump "$db" > "$tmp/old.before"

# ---- hptc diff ------------------------------------------------------------
"$HPTC" diff "$tmp/old.hpt" "$tmp/wide.hpt" > "$tmp/d1" 2>&1; rc=$?
check "diff of a widened range exits 1 (the specs differ)" "[ $rc -eq 1 ]"
check "diff names the widened range" "grep -q 'units: Int 16..64 step 16 default 16 -> Int 16..128 step 16 default 16 (widened)' $tmp/d1"
check "diff names the tuner's changed max_trials" "grep -q 'max_trials: 4 -> 6' $tmp/d1"
check "diff: all 4 stored trials hold for the widened spec" "grep -q '^4 of 4 hold for' $tmp/d1"
"$HPTC" diff "$tmp/old.hpt" "$tmp/wide.hpt" --json > "$tmp/d1.json"; rc=$?
check "diff --json is JSON with 4 reusable of 4 and the change noted" "[ $rc -eq 1 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d[\"reusable\"] == 4 and d[\"stored\"] == 4 and not d[\"same\"], d
assert all(t[\"reusable\"] for t in d[\"trials\"])
assert any(c[\"name\"] == \"units\" and c.get(\"note\") == \"widened\" for c in d[\"changes\"])' $tmp/d1.json"
"$HPTC" diff "$tmp/old.hpt" "$tmp/layer.hpt" > "$tmp/d2" 2>&1; rc=$?
check "diff of a changed layer: none of the trials holds, the layer named" "[ $rc -eq 1 ] && grep -q '^0 of 4 hold' $tmp/d2 && grep -q 'activation = \"softmax\"' $tmp/d2 && [ \$(grep -c 'does not hold: the trial would differ' $tmp/d2) -eq 4 ]"
sed 's/^data/# a comment\ndata/' "$tmp/old.hpt" > "$tmp/comment.hpt"
"$HPTC" diff "$tmp/old.hpt" "$tmp/comment.hpt" > "$tmp/d3" 2>&1; rc=$?
check "diff of a comment-only edit exits 0 (the same search), every trial holds" "[ $rc -eq 0 ] && grep -q 'define the same search' $tmp/d3 && grep -q '^4 of 4 hold' $tmp/d3"
"$HPTC" diff "$tmp/old.hpt" "$tmp/missing.hpt" > /dev/null 2>&1; rc=$?
check "diff of a missing file exits 2" "[ $rc -eq 2 ]"
spec "$tmp" 32 4 > "$tmp/narrow.hpt"
"$HPTC" diff "$tmp/old.hpt" "$tmp/narrow.hpt" > "$tmp/d4" 2>&1
check "diff of a narrowed range: the trials whose units it leaves out do not hold, the rest do" "grep -q '(narrowed)' $tmp/d4 && python3 -c '
import json, sys, subprocess
t = json.loads(subprocess.run([\"sqlite3\", \"-json\", sys.argv[1], \"SELECT id, hps FROM trials\"], capture_output=True, text=True).stdout)
lines = open(sys.argv[2]).read()
assert any(json.loads(r[\"hps\"])[\"units\"] > 32 for r in t) and any(json.loads(r[\"hps\"])[\"units\"] <= 32 for r in t)
for r in t:
    out = json.loads(r[\"hps\"])[\"units\"] > 32
    assert (\"trial %d: does not hold: units = %d is not a value\" % (r[\"id\"], json.loads(r[\"hps\"])[\"units\"]) in lines) == out, r
    assert (\"trial %d: holds\" % r[\"id\"] in lines) == (not out), r' $db $tmp/d4"

# ---- the refusal ------------------------------------------------------------
"$HPTC" run "$tmp/wide.hpt" --jobs 2 --limit 200 > "$tmp/refused.log" 2>&1; rc=$?
check "a changed spec is refused, the message naming --warm-start and --overwrite" "[ $rc -eq 1 ] && grep -q 'another spec' $tmp/refused.log && grep -q -- '--warm-start' $tmp/refused.log && grep -q -- '--overwrite' $tmp/refused.log"

# ---- run --warm-start ---------------------------------------------------------
"$HPTC" run "$tmp/wide.hpt" --jobs 2 --limit 200 --warm-start > "$tmp/w2.log" 2>&1; rc=$?
new=$(ls -d "$tmp"/p-* 2>/dev/null | head -1)
check "--warm-start completes in a new project beside the old one" "[ $rc -eq 0 ] && [ -f '$new/hptc.db' ]"
check "it says 4 of the 4 old trials are reused" "grep -q 'warm start: 4 of the 4 trials of $tmp/p hold for this spec' $tmp/w2.log"
check "the new study holds 6 trials, 4 marked reused from the old project" "[ \$(sqlite3 $new/hptc.db 'SELECT count(*) FROM trials') -eq 6 ] && [ \"\$(sqlite3 $new/hptc.db \"SELECT group_concat(id) FROM trials WHERE reused_from LIKE '$tmp/p trial %'\")\" = '0,1,2,3' ]"
sqlite3 "$db" "SELECT id, hps, seed, score, best_epoch FROM trials ORDER BY id" > "$tmp/old.results"
sqlite3 "$new/hptc.db" "SELECT id, hps, seed, score, best_epoch FROM trials WHERE id < 4 ORDER BY id" > "$tmp/new.results"
check "the reused trials' values, seeds, scores and best epochs are the old ones" "cmp -s $tmp/old.results $tmp/new.results"
sqlite3 "$db" "SELECT trial, execution, epoch, loss, accuracy, val_loss, val_accuracy, seconds FROM epochs ORDER BY 1, 2, 3" > "$tmp/old.epochs"
sqlite3 "$new/hptc.db" "SELECT trial, execution, epoch, loss, accuracy, val_loss, val_accuracy, seconds FROM epochs WHERE trial < 4 ORDER BY 1, 2, 3" > "$tmp/new.epochs"
check "their epochs, timings included, are the stored ones (not trained again)" "[ -s $tmp/old.epochs ] && cmp -s $tmp/old.epochs $tmp/new.epochs"
check "the run trained only trials 4 and 5" "! grep -q '^trial [0-3]' $tmp/w2.log && grep -q '^trial 4' $tmp/w2.log && grep -q '^trial 5' $tmp/w2.log"
dump "$db" > "$tmp/old.after"
check "the old study is intact" "[ -s $tmp/old.before ] && cmp -s $tmp/old.before $tmp/old.after"
"$HPTC" summary "$new" --json > "$tmp/s.json"
check "summary --json of the new study marks the reused trials" "[ \$(grep -o '\"reused_from\": \"[^\"]*\"' $tmp/s.json | wc -l) -eq 4 ]"
# A warm start that reuses max_trials trials trains nothing: its best is the
# old best, whose best checkpoint came along, so best and export work.
spec "$tmp" 80 4 > "$tmp/same4.hpt"
"$HPTC" run "$tmp/same4.hpt" --jobs 2 --limit 200 --warm-start > "$tmp/same4.log" 2>&1
new4=$(ls -d "$tmp"/p-* | grep -v "^$new\$" | head -1)
old_best=$("$HPTC" best "$tmp/p" --json | sed 's/.*"trial": \([0-9]*\).*/\1/')
new_best=$("$HPTC" best "$new4" --json | sed 's/.*"trial": \([0-9]*\).*/\1/')
"$HPTC" export "$new4" -o "$tmp/best.weights" > "$tmp/export.log" 2>&1
check "a warm start of max_trials reused trials trains none; its best (the old best, trial $old_best) exports" "[ \$? -eq 0 ] && [ -s $tmp/best.weights ] && [ '$old_best' = '$new_best' ] && ! grep -q 'epoch 1/' $tmp/same4.log"

# The same old store, new spec and seed: the same new table, --jobs 1 or 2,
# and a rerun with --warm-start resumes (trains nothing more).
newtable() { sqlite3 "$1/hptc.db" "SELECT id, status, hps, seed, parent, epochs, initial_epoch, score, best_epoch, reused_from FROM trials ORDER BY id;
                                   SELECT trial, execution, epoch, loss, accuracy, val_loss, val_accuracy FROM epochs ORDER BY 1, 2, 3;"; }
newtable "$new" > "$tmp/j2.table"
"$HPTC" run "$tmp/wide.hpt" --jobs 2 --limit 200 --warm-start > "$tmp/again.log" 2>&1; rc=$?
check "a rerun with --warm-start resumes the new study, training nothing" "[ $rc -eq 0 ] && ! grep -q 'epoch 1/' $tmp/again.log && newtable $new | cmp -s - $tmp/j2.table"
mv "$new" "$new.j2"
"$HPTC" run "$tmp/wide.hpt" --jobs 1 --limit 200 --warm-start > "$tmp/j1.log" 2>&1
check "--jobs 1 gives the table --jobs 2 gave" "newtable $new | cmp -s - $tmp/j2.table"
"$HPTC" run "$tmp/wide.hpt" --warm-start --overwrite > "$tmp/both.log" 2>&1; rc=$?
check "--warm-start with --overwrite is a usage error" "[ $rc -eq 2 ] && grep -q 'one or the other' $tmp/both.log"

# ---- Hyperband (the seed's tuner) ------------------------------------------------
hb() {
    mlp_spec "Hyperband(objective = \"val_accuracy\", max_epochs = 2, factor = 2, directory = \"$1\", project_name = \"h\", seed = 3)" \
             "search(validation_split = 0.2, batch_size = 32)" | sed "s/max_value = 64/max_value = $2/"
}
hb "$tmp" 64 > "$tmp/hb.hpt"
hb "$tmp" 128 > "$tmp/hb_wide.hpt"
"$HPTC" run "$tmp/hb.hpt" --jobs 2 --limit 200 > /dev/null 2>&1
old_n=$(sqlite3 "$tmp/h/hptc.db" "SELECT count(*) FROM trials WHERE status = 'completed'")
"$HPTC" run "$tmp/hb_wide.hpt" --jobs 2 --limit 200 --warm-start > "$tmp/hbw.log" 2>&1; rc=$?
hnew=$(ls -d "$tmp"/h-* 2>/dev/null | head -1)
sqlite3 "$tmp/h/hptc.db" "SELECT score FROM trials ORDER BY id" > "$tmp/hb.old"
sqlite3 "$hnew/hptc.db" "SELECT score FROM trials WHERE reused_from <> '' ORDER BY id" > "$tmp/hb.new"
check "Hyperband: every completed old trial is reused with its score, then its brackets run ($old_n reused)" "[ $rc -eq 0 ] && [ $old_n -gt 0 ] && cmp -s $tmp/hb.old $tmp/hb.new && grep -q \"\\[$((old_n * 2))/$((old_n * 2))\\]\" $tmp/hbw.log"
