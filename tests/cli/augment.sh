#!/bin/sh
# The augmentation layers (RandomFlip, RandomTranslation, RandomRotation,
# RandomZoom) end to end, on the committed Fashion-MNIST slice: a tiny CNN
# behind all four trains (its loss falls) in float32 and mixed_bfloat16, on
# the BLAS and the JIT backends (batch 4 and 3 epochs: 600 steps, so the JIT
# takes over at step 512); the layers are the identity at inference, so the
# weights it saves evaluate the same under the spec without them; a search's
# trial table is the same under --jobs 1 and --jobs 2 and after a kill -9
# and resume; the checker locates a non-image input and a bad factor;
# examples/hyper_image_augment.hpt checks, keeps its format and runs a short
# search.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

# cnn [AUGMENT]: the tiny CNN with the augmentation lines given (default: all four).
all_four='  RandomFlip("horizontal")
  RandomTranslation(0.1, (-0.1, 0.05), fill_mode = "constant")
  RandomRotation(0.05, interpolation = "nearest")
  RandomZoom((-0.1, 0.1), fill_mode = "nearest")'
cnn() {
    cat <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28, 1])
${1-$all_four}
  Conv2D(8, 3, activation = "relu")
  MaxPooling2D(2)
  Flatten()
  Dense(10)
}
compile(optimizer = Adam(learning_rate = 1e-3), loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
search(epochs = 3, validation_split = 0.2, batch_size = 4)
SPEC
}
cnn > "$tmp/cnn.hpt"
cnn "" > "$tmp/plain.hpt"

bf16=0
"$HPTC" --version | grep -q '^mixed_bfloat16: yes' && bf16=1
jit=0
"$HPTC" --version | grep -q '^backends: .*, jit \[' && jit=1
# loss_falls LOG: the last epoch's training loss is below the first's.
loss_falls() {
    first=$(sed -n 's/^Epoch 1\/3 .* - loss: \([0-9.]*\) - .*/\1/p' "$1")
    last=$(sed -n 's/^Epoch 3\/3 .* - loss: \([0-9.]*\) - .*/\1/p' "$1")
    [ -n "$first" ] && [ -n "$last" ] && awk "BEGIN { exit !($last < $first) }"
}
for policy in float32 mixed_bfloat16; do
    for backend in blas jit; do
        if [ $policy = mixed_bfloat16 ] && [ $bf16 = 0 ]; then echo "SKIP: $policy: this CPU has no bf16"; continue; fi
        if [ $backend = jit ] && [ $jit = 0 ]; then echo "SKIP: this build has no JIT"; continue; fi
        "$HPTC" train "$tmp/cnn.hpt" --dtype-policy $policy --backend $backend --save "$tmp/w-$policy-$backend.bin" \
            > "$tmp/t-$policy-$backend" 2>&1
        check "the augmented CNN trains under $policy on $backend: exit 0, loss falls over 3 epochs ($(grep -o 'loss: [0-9.]*' "$tmp/t-$policy-$backend" | head -1) to $(grep '^Epoch 3' "$tmp/t-$policy-$backend" | grep -o 'loss: [0-9.]*' | head -1))" \
            "[ \$? -eq 0 ] && loss_falls $tmp/t-$policy-$backend"
    done
done
check "the summary lists the four layers with no parameters" \
    "grep -q '^random_flip  *RandomFlip  *(None, 28, 28, 1)  *0\$' $tmp/t-float32-blas &&
     grep -q '^random_zoom  *RandomZoom  *(None, 28, 28, 1)  *0\$' $tmp/t-float32-blas"

# Identity at inference: the augmented model's weights are the plain model's.
"$HPTC" eval "$tmp/plain.hpt" --weights "$tmp/w-float32-blas.bin" > "$tmp/e" 2>&1
check "the saved weights evaluate under the spec without the augmentation layers, to train's test accuracy" \
    "[ \$? -eq 0 ] && [ \"\$(grep test_ $tmp/e)\" = \"\$(grep test_ $tmp/t-float32-blas)\" ]"

# Draws keyed by (seed, step, layer, sample): --jobs and a resume change nothing.
search() {
    cnn | sed "s|^search(.*|tuner = RandomSearch(objective = \"val_accuracy\", max_trials = 2, seed = 5, directory = \"$1\", project_name = \"p\")\nsearch(epochs = 3, validation_split = 0.2, batch_size = 32)|
               s|RandomRotation(0.05, |RandomRotation(hp.Float(\"rotate\", 0.0, 0.2), |"
}
search "$tmp/a" > "$tmp/a.hpt"
"$HPTC" run "$tmp/a.hpt" --jobs 1 > "$tmp/a.log" 2>&1
check "a search over the rotation factor completes" "[ \$? -eq 0 ] && grep -q '^Results summary' $tmp/a.log"
table "$tmp/a" > "$tmp/a.json"
search "$tmp/b" > "$tmp/b.hpt"
"$HPTC" run "$tmp/b.hpt" --jobs 2 > "$tmp/b.log" 2>&1
table "$tmp/b" | sed "s|$tmp/b|$tmp/a|g" > "$tmp/b.json"
check "--jobs 2 gives the same trial table as --jobs 1, bit for bit" "cmp -s $tmp/a.json $tmp/b.json"
search "$tmp/c" > "$tmp/c.hpt"
: > "$tmp/c.log"
"$HPTC" run "$tmp/c.hpt" --jobs 1 >> "$tmp/c.log" 2>&1 &
pid=$!
# Kill it once an epoch of the first trial is stored: the resume continues that trial mid-way.
while kill -0 $pid 2>/dev/null && [ "$(grep -c 'epoch' < "$tmp/c.log")" -lt 2 ]; do sleep 0.005; done
killed=0
kill -9 $pid 2>/dev/null && killed=1
wait $pid 2>/dev/null
"$HPTC" run "$tmp/c.hpt" --jobs 1 > "$tmp/c2.log" 2>&1
table "$tmp/c" | sed "s|$tmp/c|$tmp/a|g" > "$tmp/c.json"
check "killed mid-search ($(grep -c 'epoch' < "$tmp/c.log") lines in) and resumed, the trial table equals the uninterrupted one" \
    "[ $killed -eq 1 ] && grep -q resuming $tmp/c2.log && cmp -s $tmp/a.json $tmp/c.json"

# The checker: an image layer on a flat input, factors out of Keras's ranges.
cnn | sed 's/Input(shape = \[28, 28, 1\])/Input(shape = [784])/' > "$tmp/flat.hpt"
"$HPTC" check "$tmp/flat.hpt" > "$tmp/flat.err" 2>&1
check "RandomFlip on a flat input is a located error asking for a Reshape" \
    "[ \$? -eq 1 ] && grep -q 'flat.hpt:4:3: error: RandomFlip needs an image input (height, width, channels), but the input has 1 axis; add Reshape' $tmp/flat.err"
cnn | sed 's/RandomZoom((-0.1, 0.1)/RandomZoom(hp.Float("zoom", 0.5, 1.5)/; s/RandomTranslation(0.1, (-0.1, 0.05)/RandomTranslation(0.1, (0.05, -0.1)/' \
    > "$tmp/bad.hpt"
"$HPTC" check "$tmp/bad.hpt" > "$tmp/bad.err" 2>&1
check "a (lower, upper) pair upside down is an error" \
    "[ \$? -eq 1 ] && grep -q \"RandomTranslation argument 'width_factor' must have lower <= upper, but it is (0.05, -0.1)\" $tmp/bad.err"
check "a zoom factor past -1 for some hyperparameter value is an error naming the value" \
    "grep -q \"RandomZoom argument 'height_factor' must have bounds at least -1, but its range is (-1.5, 1.5)\" $tmp/bad.err &&
     grep -q \"when 'zoom' = 1.5\" $tmp/bad.err"

spec=examples/hyper_image_augment.hpt
"$HPTC" check $spec > "$tmp/ex.check" 2>&1
check "$spec checks clean" "[ \$? -eq 0 ] && [ ! -s $tmp/ex.check ]"
check "fmt of $spec is itself" "\"\$HPTC\" fmt --check $spec > /dev/null"
sed "s|directory = \"my_dir\"|directory = \"$tmp/ex\"|; s/max_trials = 6/max_trials = 2/; s/epochs = 8/epochs = 1/" $spec > "$tmp/ex.hpt"
"$HPTC" run "$tmp/ex.hpt" > "$tmp/ex.log" 2>&1
check "a short search of $spec (2 trials, 1 epoch) completes" "[ \$? -eq 0 ] && grep -q '2 trials: 2 completed' $tmp/ex.log"
