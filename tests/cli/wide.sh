#!/bin/sh
# A 2,000-hyperparameter architecture search (1,000 Dense layers, each with
# its units and activation searched) round-trips through the store: summary
# --json is valid JSON holding every value, best prints every value ready for
# --set, and export writes weights that eval reads.  Before issue 11 the store
# went through a 4 KiB buffer.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

cat > "$tmp/w.hpt" <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  for i in range(1000) {
    Dense(units = hp.Int(f"units_{i}", 4, 8, step = 4), activation = hp.Choice(f"act_{i}", ["relu", "tanh"]))
  }
  Dense(10)
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_accuracy", max_trials = 2, directory = "$tmp", project_name = "p", seed = 1)
search(epochs = 1, validation_split = 0.25, batch_size = 16)
SPEC
"$HPTC" run "$tmp/w.hpt" --limit 64 > "$tmp/run.log" 2>&1
check "the search runs" "[ \$? -eq 0 ] && grep -q '^2 trials: 2 completed' $tmp/run.log"

"$HPTC" summary "$tmp/p" --json > "$tmp/s.json"
n=$(/usr/bin/python3 -c "import json, sys; j = json.load(open(sys.argv[1])); print(*[len(t['hyperparameters']) for t in j['trials']])" "$tmp/s.json" 2>&1 | tail -1)
check "summary --json is valid JSON with all 2,000 values of each trial ($n)" "[ '$n' = '2000 2000' ]"

"$HPTC" best "$tmp/p" > "$tmp/best"
check "best prints all 2,000 values" "[ \$(grep -c ' = ' $tmp/best) -eq 2000 ]"
/usr/bin/python3 - "$tmp/best" "$tmp/s.json" > "$tmp/agree" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
best = int(lines[0].split()[1].rstrip(':'))
trial = [t for t in json.load(open(sys.argv[2]))['trials'] if t['id'] == best][0]['hyperparameters']
shown = dict(l.split(' = ', 1) for l in lines[1:])
same = all(shown[k] == (json.dumps(v) if isinstance(v, str) else str(v)) for k, v in trial.items())
print('same' if same and len(shown) == len(trial) else 'differ')
PY
check "best's values are the stored ones" "grep -qx same $tmp/agree"

"$HPTC" export "$tmp/p" -o "$tmp/best.w" > "$tmp/export.log" 2>&1
check "export writes the best trial's weights" "[ \$? -eq 0 ] && [ -s $tmp/best.w ]"
"$HPTC" eval "$tmp/w.hpt" --weights "$tmp/best.w" > "$tmp/eval.log" 2>&1
check "eval reads them back" "[ \$? -eq 0 ] && grep -q '^test_loss: [0-9.]* - test_accuracy: ' $tmp/eval.log"

# best's lines, as --set arguments (values as best writes them, strings
# quoted), rebuild the same model: train saves weights whose hyperparameter
# lines equal the exported file's.
sed -n 's/^\([^ ]*\) = \(.*\)$/--set\n\1=\2/p' "$tmp/best" > "$tmp/sets"
xargs -d '\n' "$HPTC" train "$tmp/w.hpt" --epochs 1 --limit 64 --save "$tmp/train.w" < "$tmp/sets" > "$tmp/train.log" 2>&1
hp_lines() { head -c 400000 "$1" | tr -c '[:print:]\n' '\n' | grep '^hp '; }
check "best's 2,000 values, passed to train --set, rebuild the same trial" "[ -s $tmp/train.w ] && [ \"\$(hp_lines $tmp/train.w)\" = \"\$(hp_lines $tmp/best.w)\" ]"
