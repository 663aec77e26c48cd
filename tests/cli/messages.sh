#!/bin/sh
# What hptc tells a newcomer (issue 11): a mistyped option is named with the
# nearest one, every output counts epochs the same way, a search ends by
# pointing at what reads its results, trials training side by side print
# their lines as blocks, and labels the output layer cannot produce stop the
# run with that cause (never "loss became NaN").  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

mlp_spec "RandomSearch(objective = \"val_accuracy\", max_trials = 6, directory = \"$tmp\", project_name = \"p\", seed = 4)" > "$tmp/a.hpt"

"$HPTC" run "$tmp/a.hpt" --jbos 2 > "$tmp/o1" 2>&1
check "an unknown option is named, with the nearest known one" "[ \$? -eq 2 ] && grep -q \"unknown option '--jbos'; did you mean '--jobs'?\" $tmp/o1 && grep -q '^usage: hptc run FILE.hpt' $tmp/o1"
"$HPTC" run "$tmp/a.hpt" --jobs two > "$tmp/o2" 2>&1
check "a malformed value is named" "[ \$? -eq 2 ] && grep -q \"jobs wants a whole number of at least 1, not 'two'\" $tmp/o2"
"$HPTC" train "$tmp/a.hpt" --epochs > "$tmp/o3" 2>&1
check "a missing value is named" "[ \$? -eq 2 ] && grep -q 'epochs needs a value' $tmp/o3"
"$HPTC" summary "$tmp/p" --jsno > "$tmp/o4" 2>&1
check "every command names what it does not take (summary --jsno)" "[ \$? -eq 2 ] && grep -q \"did you mean '--json'\" $tmp/o4"

"$HPTC" run "$tmp/a.hpt" --jobs 2 --limit 400 > "$tmp/run" 2>&1
check "the search ends pointing at best, report and export" "[ \$? -eq 0 ] && grep -q '^  hptc report $tmp/p -o report.html' $tmp/run && grep -q '^  hptc export $tmp/p -o best.weights' $tmp/run && grep -q '^  hptc best $tmp/p' $tmp/run"
check "the search ends pointing at the ONNX export too" "grep -q '^  hptc export $tmp/p --format onnx -o best.onnx' $tmp/run"
# Each trial's lines form one block: from "trial N:" to "trial N done", no other trial's.
blocks=$(awk '/^trial [0-9]+:/ { if (open != "") bad = 1; open = $2; sub(":", "", open); next }
              /^  trial [0-9]+ epoch/ { if ($2 != open) bad = 1; next }
              /^trial [0-9]+ (done|failed)/ { if ($2 != open) bad = 1; open = ""; n++ }
              END { print (bad ? "interleaved" : n " blocks") }' "$tmp/run")
check "with --jobs 2 each trial prints as one block ($blocks)" "[ '$blocks' = '6 blocks' ]"

# One epoch count everywhere: best --json's best_epoch is summary's "best epoch N".
best_json=$("$HPTC" best "$tmp/p" --json | sed 's/.*"best_epoch": \([0-9]*\).*/\1/')
id=$("$HPTC" best "$tmp/p" --json | sed 's/^{"trial": \([0-9]*\),.*/\1/')
best_text=$("$HPTC" summary "$tmp/p" | grep -A2 "^Trial $(printf %04d "$id") summary" | sed -n 's/.*(best epoch \([0-9]*\))/\1/p')
best_summary=$("$HPTC" summary "$tmp/p" --json | grep "\"id\": $id," | sed 's/.*"best_epoch": \([0-9]*\),.*/\1/')
check "best --json, summary --json and summary's text give the same best epoch ($best_json, $best_summary, $best_text)" \
    "[ -n '$best_text' ] && [ '$best_json' = '$best_text' ] && [ '$best_summary' = '$best_text' ]"

# Labels up to 2 (three classes) against an output layer whose width is
# searched: hptc run stops before any trial, at the layer, naming the value
# that fails (it used to fail every such trial as "loss became NaN").
printf 'a,b,label\n' > "$tmp/three.csv"
i=0
while [ $i -lt 60 ]; do printf '%d,%d,%d\n' $((i % 7)) $((i % 5)) $((i % 3)) >> "$tmp/three.csv"; i=$((i + 1)); done
cat > "$tmp/c.hpt" <<SPEC
data = csv("$tmp/three.csv", label = "label")
model {
  Input(shape = [2])
  Dense(8, activation = "relu")
  Dense(hp.Choice("outputs", [2, 3]))
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = GridSearch(objective = "val_accuracy", directory = "$tmp", project_name = "c")
search(epochs = 2, validation_split = 0.2)
SPEC
"$HPTC" run "$tmp/c.hpt" > "$tmp/c.log" 2>&1
check "labels the output layer cannot produce stop the run at that layer, before any trial" \
    "[ \$? -eq 1 ] && grep -q '^$tmp/c.hpt:5:3: error: .*labels in .*three.csv go up to 2 (3 classes).*when .outputs. = 2' $tmp/c.log && ! grep -q NaN $tmp/c.log && [ ! -d $tmp/c ]"
