#!/bin/sh
# Weights files are keyed by the model they hold, not by the spec's text
# (docs/weights.md): `hptc eval` takes a file after edits that leave the model
# alone (a comment, max_trials, the optimizer), refuses it naming what differs
# after edits that change the model (a layer's units, the data's scale), still
# reads files written before model hashes existed (header with spec_hash
# only), and reads what `hptc export` writes from a store.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

# spec SCALE UNITS MAX_TRIALS [COMMENT]: a small MLP whose second hidden layer
# has a constant width, so an edit of the spec changes the model.
spec() {
    cat <<SPEC
${4:-}
data = datasets.fashion_mnist(scale = $1)
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(units = hp.Int("units", min_value = 16, max_value = 64, step = 16), activation = "relu")
  Dropout(0.2)
  Dense($2, activation = "relu")
  Dense(10)
}
compile(optimizer = Adam(learning_rate = hp.Choice("learning_rate", [1e-2, 1e-3])),
        loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_accuracy", max_trials = $3, seed = 1,
                     directory = "$tmp", project_name = "p")
search(epochs = 1, validation_split = 0.2, batch_size = 32)
SPEC
}

spec 1/255 16 2 > "$tmp/a.hpt"
"$HPTC" train "$tmp/a.hpt" --set units=32 --limit 300 --save "$tmp/w.bin" > "$tmp/train" 2>&1
check "train --save writes the weights" "grep -q '^saved 25818 weights to ' $tmp/train"
grep '^test_' "$tmp/train" > "$tmp/train.test"
check "... and reports a test accuracy" "grep -q 'test_accuracy: 0\.' $tmp/train.test"
check "the header holds a model_hash and one line per layer" \
    "head -c 2000 $tmp/w.bin | grep -aq '^model_hash [0-9a-f]\{16\}\$' &&
     head -c 2000 $tmp/w.bin | grep -aq '^layer dense_1 Dense units=16 activation=\"relu\" use_bias=True output=(16,) params=528\$'"

# (a) A comment and another max_trials: the same model, the same test numbers.
spec 1/255 16 7 "# an edited copy of a.hpt: this comment, and max_trials 7" > "$tmp/comment.hpt"
"$HPTC" eval "$tmp/comment.hpt" --weights "$tmp/w.bin" > "$tmp/e.comment" 2>&1
st=$?
check "eval after a comment and a max_trials edit succeeds" "[ $st -eq 0 ]"
check "... with train's test loss and accuracy" "[ \"\$(grep '^test_' $tmp/e.comment)\" = \"\$(cat $tmp/train.test)\" ]"
sed 's/Adam(learning_rate/RMSprop(learning_rate/; s/epochs = 1/epochs = 9/' "$tmp/comment.hpt" > "$tmp/optim.hpt"
"$HPTC" eval "$tmp/optim.hpt" --weights "$tmp/w.bin" > "$tmp/e.optim" 2>&1
check "eval after changing the optimizer and epochs succeeds with the same numbers" \
    "[ \$? -eq 0 ] && [ \"\$(grep '^test_' $tmp/e.optim)\" = \"\$(cat $tmp/train.test)\" ]"

# (b) Another width of a layer: refused, naming the layer and both widths.
spec 1/255 24 2 > "$tmp/units.hpt"
"$HPTC" eval "$tmp/units.hpt" --weights "$tmp/w.bin" > "$tmp/e.units" 2>&1
st=$?
check "eval refuses weights after a layer's units changed (exit 1)" "[ $st -eq 1 ]"
check "... naming the layer and both values" "grep -q 'layer dense_1: units 16 in the file, 24 in the spec' $tmp/e.units"
check "... and nothing is evaluated" "! grep -q '^test_' $tmp/e.units"
sed 's/Dense(16, activation = "relu")/Dense(16, activation = "tanh")/' "$tmp/a.hpt" > "$tmp/act.hpt"
"$HPTC" eval "$tmp/act.hpt" --weights "$tmp/w.bin" > "$tmp/e.act" 2>&1
check "eval refuses another activation, naming both" \
    "[ \$? -eq 1 ] && grep -q 'layer dense_1: activation \"relu\" in the file, \"tanh\" in the spec' $tmp/e.act"

# (c) Another scale: the network would see other inputs.
spec 1/128 16 2 > "$tmp/scale.hpt"
"$HPTC" eval "$tmp/scale.hpt" --weights "$tmp/w.bin" > "$tmp/e.scale" 2>&1
st=$?
check "eval refuses weights after the data's scale changed (exit 1)" "[ $st -eq 1 ]"
check "... naming the scale and both values" \
    "grep -q 'data: scale 0.003921569 in the file, 0.0078125 in the spec' $tmp/e.scale"

# (d) A file as hptc wrote them before model hashes: header lines spec_hash,
# hp and floats only.  Rebuilt here from w.bin's floats; the CRC-32 is the one
# gzip stores (the same polynomial as zlib's crc32).
u32le() { printf "\\$(printf %03o $(($1 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o $(($1 >> 16 & 255)))\\$(printf %03o $(($1 >> 24 & 255)))"; }
hash=$("$HPTC" ir "$tmp/a.hpt" | sed -n 's/^; spec \([0-9a-f]*\),.*/\1/p')
hl=$(od -An -tu4 -j8 -N4 "$tmp/w.bin" | tr -d ' ')
n=$(head -c $((12 + hl)) "$tmp/w.bin" | sed -n 's/^floats //p')
printf 'spec_hash %s\nhp units 32\nhp learning_rate 0.01\nfloats %s\n' "$hash" "$n" > "$tmp/old.header"
{ printf HPTCWTS1; u32le "$(wc -c < "$tmp/old.header")"; cat "$tmp/old.header"
  tail -c +$((13 + hl)) "$tmp/w.bin" | head -c $((n * 4)); } > "$tmp/old.body"
{ cat "$tmp/old.body"; gzip -c < "$tmp/old.body" | tail -c 8 | head -c 4; } > "$tmp/old.bin"
"$HPTC" eval "$tmp/a.hpt" --weights "$tmp/old.bin" > "$tmp/e.old" 2>&1
check "a file from before model hashes loads with the unchanged spec" "[ \$? -eq 0 ]"
check "... with train's test loss and accuracy" "[ \"\$(grep '^test_' $tmp/e.old)\" = \"\$(cat $tmp/train.test)\" ]"
"$HPTC" eval "$tmp/comment.hpt" --weights "$tmp/old.bin" > "$tmp/e.old2" 2>&1
st=$?
check "... and is refused once the spec's text changed (exit 1)" "[ $st -eq 1 ]"
check "... saying the file predates model hashes and the spec's text changed" \
    "grep -q 'old.bin: the file predates model hashes, and the spec.s text changed since it was written' $tmp/e.old2"

# (e) hptc run, then hptc export, then eval under a spec with a comment added.
spec 1/255 16 2 > "$tmp/run.hpt"
"$HPTC" run "$tmp/run.hpt" --jobs 1 --limit 300 > "$tmp/run.log" 2>&1
"$HPTC" export "$tmp/p" -o "$tmp/x.bin" > "$tmp/export.log" 2>&1
check "run + export write the best trial's weights" "[ \$? -eq 0 ] && [ -s $tmp/x.bin ]"
"$HPTC" eval "$tmp/run.hpt" --weights "$tmp/x.bin" > "$tmp/e.x" 2>&1
spec 1/255 16 2 "# exported, then this comment was added" > "$tmp/run2.hpt"
"$HPTC" eval "$tmp/run2.hpt" --weights "$tmp/x.bin" > "$tmp/e.x2" 2>&1
st=$?
check "eval of the exported weights after a comment edit succeeds" "[ $st -eq 0 ]"
check "... with the unedited spec's test numbers" \
    "grep -q '^test_loss' $tmp/e.x && [ \"\$(grep '^test_' $tmp/e.x2)\" = \"\$(grep '^test_' $tmp/e.x)\" ]"

# A header line the reader does not know is refused, not skipped.
head -c $((12 + hl)) "$tmp/w.bin" | tail -c +13 | sed 's/^floats /flaots /' > "$tmp/bad.header"
{ printf HPTCWTS1; u32le "$(wc -c < "$tmp/bad.header")"; cat "$tmp/bad.header"
  tail -c +$((13 + hl)) "$tmp/w.bin" | head -c $((n * 4)); } > "$tmp/bad.body"
{ cat "$tmp/bad.body"; gzip -c < "$tmp/bad.body" | tail -c 8 | head -c 4; } > "$tmp/bad.bin"
"$HPTC" eval "$tmp/a.hpt" --weights "$tmp/bad.bin" > "$tmp/e.bad" 2>&1
check "a header line of an unknown kind is an error naming the line" \
    "[ \$? -eq 1 ] && grep -q \"bad.bin: header line [0-9]* ('flaots $n') is not one hptc writes\" $tmp/e.bad"
