#!/bin/sh
# hptc train / eval on the committed Fashion-MNIST slice (tests/data, 1000 train
# + 300 test rows; tests/run.sh points HPT_DATA there).  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

"$HPTC" train examples/fashion_mlp.hpt --set units=32 --set learning_rate=0.001 --epochs 2 --save "$tmp/w.bin" > "$tmp/a" 2> "$tmp/a.err"
st=$?
check "train exits 0" "[ $st -eq 0 ]"
check "train prints Keras's epoch lines" "grep -q '^Epoch 2/2 - .* - loss: .* - accuracy: .* - val_loss: .* - val_accuracy: ' $tmp/a"
check "train reports 800 train / 200 validation rows (validation_split 0.2)" "grep -q 'training on 800 samples, validating on 200' $tmp/a"
check "train prints the parameter count before it runs" "grep -q 'trainable params 25450' $tmp/a"
check "train ends with the test accuracy" "grep -q '^test_loss: [0-9.]* - test_accuracy: 0\.[0-9]*' $tmp/a"
check "--set values are applied and shown" "grep -q 'hyperparameters: units=32, learning_rate=0.001' $tmp/a"

"$HPTC" train examples/fashion_mlp.hpt --set units=32 --set learning_rate=0.001 --epochs 2 > "$tmp/b" 2>/dev/null
strip() { sed 's/ - [0-9.]*s - / - /' "$1" | grep -E '^(Epoch|test)'; }
check "same spec, same seed: the same numbers" "[ \"\$(strip $tmp/a)\" = \"\$(strip $tmp/b)\" ]"

"$HPTC" eval examples/fashion_mlp.hpt --weights "$tmp/w.bin" > "$tmp/e" 2>&1
check "eval on saved weights gives train's test accuracy" "[ \"\$(grep test_ $tmp/e)\" = \"\$(grep test_ $tmp/a)\" ]"
"$HPTC" eval examples/nas.hpt --weights "$tmp/w.bin" > "$tmp/e2" 2>&1
st=$?
check "eval refuses weights of another model, naming what differs" "[ $st -eq 1 ] && grep -q 'for another model than examples/nas.hpt builds: layer dense_3 (dense_1 in the file): activation \"linear\" in the file, \"softmax\" in the spec' $tmp/e2"
head -c 100 "$tmp/w.bin" > "$tmp/short.bin"
"$HPTC" eval examples/fashion_mlp.hpt --weights "$tmp/short.bin" > "$tmp/e3" 2>&1
check "eval refuses a truncated weights file" "[ \$? -eq 1 ] && grep -q 'short.bin' $tmp/e3"

# Cross-entropy from logits stays finite however large the logits grow, so the
# diverging run uses mse, whose gradient grows with the error until it overflows.
cat > "$tmp/nan.hpt" <<'SPEC'
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(64, activation = "relu")
  Dense(10)
}
compile(optimizer = SGD(learning_rate = 1e3), loss = "mse", metrics = ["accuracy"])
search(epochs = 3, validation_split = 0.2)
SPEC
"$HPTC" train "$tmp/nan.hpt" > "$tmp/n" 2> "$tmp/n.err"
st=$?
check "a diverging learning rate exits 1" "[ $st -eq 1 ]"
check "... naming the file, the trial and 'loss became NaN at epoch E step S'" "grep -q 'nan.hpt: trial (defaults): loss became \(NaN\|infinite\) at epoch 1 step [0-9]*' $tmp/n.err"

"$HPTC" train examples/fashion_mlp.hpt --set unit=32 > /dev/null 2> "$tmp/s"
check "--set of an unknown name suggests the right one" "[ \$? -eq 1 ] && grep -q \"did you mean 'units'\" $tmp/s"
"$HPTC" train examples/fashion_mlp.hpt --set units=33 > /dev/null 2> "$tmp/s2"
check "--set of a value off the step is refused" "[ \$? -eq 1 ] && grep -q \"'33' is not a value\" $tmp/s2"
