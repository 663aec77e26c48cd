#!/bin/sh
# Embedding, LSTM and GRU end to end on the committed Fashion-MNIST slice:
# an LSTM over the images' rows, a GRU stacked on it, and an Embedding of the
# raw pixel values (0..255 as indices) feeding a GRU each train (the loss falls
# from the first epoch to the last, the test accuracy is above chance) under
# float32 and mixed_bfloat16, on the BLAS and JIT backends; the two backends
# give the same numbers in float32; a weights file round-trips through eval.
# PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

bf16=0
"$HPTC" --version | grep -q '^mixed_bfloat16: yes' && bf16=1
jit=1
"$HPTC" --version | grep -q 'jit: no' && jit=0

cat > "$tmp/rnn.hpt" <<'SPEC'
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  LSTM(24, return_sequences = True)
  GRU(16)
  Dense(10, activation = "softmax")
}
compile(optimizer = Adam(learning_rate = 0.005), loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
search(epochs = 4, batch_size = 32)
SPEC
cat > "$tmp/emb.hpt" <<'SPEC'
data = datasets.fashion_mnist()
model {
  Input(shape = [784])
  Embedding(256, 2)
  Reshape([28, 56])
  GRU(16)
  Dense(10, activation = "softmax")
}
compile(optimizer = Adam(learning_rate = 0.005), loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
search(epochs = 4, batch_size = 32)
SPEC

# trains NAME SPEC FLAGS...: train, then the loss must fall and the accuracy beat chance.
trains() {
    name=$1 spec=$2; shift 2
    "$HPTC" train "$spec" "$@" > "$tmp/$name" 2> "$tmp/$name.err"; st=$?
    first=$(sed -n 's/^Epoch 1\/.* - loss: \([0-9.]*\) .*/\1/p' "$tmp/$name")
    last=$(sed -n 's/^Epoch 4\/.* - loss: \([0-9.]*\) .*/\1/p' "$tmp/$name")
    acc=$(sed -n 's/^test_loss: .* - test_accuracy: \([0-9.]*\)$/\1/p' "$tmp/$name")
    check "$name: trains (exit $st), the loss falls ($first to $last), test accuracy $acc above 0.3" \
        "[ $st -eq 0 ] && [ -n '$last' ] && [ -n '$acc' ] && awk 'BEGIN { exit !($last < $first && $acc > 0.3) }'"
    [ $st -eq 0 ] || head -5 "$tmp/$name.err"
}

for s in rnn emb; do
    trains "$s-f32" "$tmp/$s.hpt" --save "$tmp/$s.bin"
    if [ $jit = 1 ]; then
        trains "$s-f32-jit" "$tmp/$s.hpt" --backend jit
        strip() { sed 's/ - [0-9.]*s - / - /' "$1" | grep -E '^(Epoch|test)'; }
        check "$s: the JIT backend trains the same numbers in float32" "[ \"\$(strip $tmp/$s-f32)\" = \"\$(strip $tmp/$s-f32-jit)\" ]"
    else
        echo "SKIP: this build has no JIT"
    fi
    if [ $bf16 = 1 ]; then
        trains "$s-bf16" "$tmp/$s.hpt" --dtype-policy mixed_bfloat16
        [ $jit = 1 ] && trains "$s-bf16-jit" "$tmp/$s.hpt" --dtype-policy mixed_bfloat16 --backend jit
    else
        echo "SKIP: this CPU has no bf16: nothing trains under mixed_bfloat16"
    fi
    "$HPTC" eval "$tmp/$s.hpt" --weights "$tmp/$s.bin" > "$tmp/$s.eval" 2>&1
    check "$s: eval on the saved weights gives train's test accuracy" \
        "[ \"\$(grep test_ $tmp/$s.eval)\" = \"\$(grep test_ $tmp/$s-f32)\" ]"
done

check "the summary counts Keras's parameters: LSTM(24) on 28 features 5088, GRU(16) on 24 2016" \
    "grep -q '^lstm  *LSTM  *(None, 28, 24)  *5088\$' $tmp/rnn-f32 && grep -q '^gru  *GRU  *(None, 16)  *2016\$' $tmp/rnn-f32"
