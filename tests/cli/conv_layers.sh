#!/bin/sh
# Conv1D, MaxPooling1D, the global poolings, DepthwiseConv2D,
# SeparableConv2D, ZeroPadding2D and UpSampling2D end to end, on the
# committed Fashion-MNIST slice: a sequence model (rows as 28 steps of 28
# pixels) and an image model using every one of them train (the loss falls
# over 3 epochs) under float32 and mixed_bfloat16, on the BLAS and the JIT
# backend, the two backends giving the same numbers; a weights file
# round-trips through eval; and the checker's errors for these layers name
# the hyperparameter values that break a shape.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

cat > "$tmp/seq.hpt" <<'SPEC'
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Conv1D(16, 3, padding = "causal", dilation_rate = 2, activation = "relu")
  MaxPooling1D()
  Conv1D(32, 3, strides = 2, padding = "same", activation = "relu")
  GlobalAveragePooling1D()
  Dense(10)
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
search(epochs = 3, batch_size = 32, validation_split = 0.2)
SPEC
# (The image model ends in both global max poolings: 2-D, then 1-D after a Reshape.)
cat > "$tmp/img.hpt" <<'SPEC'
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  ZeroPadding2D(((1, 0), (2, 1)))
  Conv2D(8, 3, strides = 2, activation = "relu")
  DepthwiseConv2D(3, depth_multiplier = 2, activation = "relu")
  SeparableConv2D(32, 3, padding = "same", activation = "relu")
  UpSampling2D(interpolation = "bilinear")
  MaxPooling2D(2)
  GlobalMaxPooling2D(keepdims = True)
  Reshape([1, 32])
  GlobalMaxPooling1D()
  Dense(10)
}
compile(optimizer = Adam(learning_rate = 0.01), loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
search(epochs = 3, batch_size = 32, validation_split = 0.2)
SPEC

bf16=0
"$HPTC" --version | grep -q '^mixed_bfloat16: yes' && bf16=1
jit=1
# Epoch lines without their times, and the test line: what two runs must share.
strip() { sed 's/ - [0-9.]*s - / - /' "$1" | grep -E '^(Epoch|test)'; }
# The loss of epoch N in a train's output.
loss() { sed -n "s/^Epoch $2\/3 - .* - loss: \([0-9.]*\) - .*/\1/p" "$1"; }
for spec in seq img; do
    for policy in float32 mixed_bfloat16; do
        if [ $policy = mixed_bfloat16 ] && [ $bf16 = 0 ]; then
            echo "SKIP: $spec under mixed_bfloat16: this CPU has no bf16 (hptc --version)"
            continue
        fi
        for backend in blas jit; do
            out="$tmp/$spec.$policy.$backend"
            "$HPTC" train "$tmp/$spec.hpt" --dtype-policy $policy --backend $backend > "$out" 2> "$out.err"
            st=$?
            if [ $st -ne 0 ] && [ $backend = jit ] && grep -q 'no JIT' "$out.err"; then
                echo "SKIP: this build has no JIT"
                jit=0
                continue
            fi
            first=$(loss "$out" 1) last=$(loss "$out" 3)
            check "$spec trains under $policy on $backend: loss $first -> $last" \
                "[ $st -eq 0 ] && [ -n '$first' ] && [ -n '$last' ] && awk 'BEGIN { exit !($last < $first) }'"
        done
        [ $jit = 1 ] && check "$spec under $policy: the JIT backend trains the same numbers as BLAS" \
            "[ \"\$(strip $tmp/$spec.$policy.blas)\" = \"\$(strip $tmp/$spec.$policy.jit)\" ]"
    done
done
check "the summary gives Keras's names, shapes and parameter counts" \
    "grep -q 'conv1d  *Conv1D  *(None, 28, 16)  *1360\$' $tmp/seq.float32.blas &&
     grep -q 'conv1d_1  *Conv1D  *(None, 7, 32)  *1568\$' $tmp/seq.float32.blas &&
     grep -q 'depthwise_conv2d  *DepthwiseConv2D  *(None, 12, 13, 16)  *160\$' $tmp/img.float32.blas &&
     grep -q 'separable_conv2d  *SeparableConv2D  *(None, 12, 13, 32)  *688\$' $tmp/img.float32.blas &&
     grep -q 'zero_padding2d  *ZeroPadding2D  *(None, 29, 31, 1)  *0\$' $tmp/img.float32.blas &&
     grep -q 'up_sampling2d  *UpSampling2D  *(None, 24, 26, 32)  *0\$' $tmp/img.float32.blas"

# A weights file round-trips: eval on it gives train's test numbers.
"$HPTC" train "$tmp/img.hpt" --epochs 1 --save "$tmp/w.bin" > "$tmp/t" 2>&1
"$HPTC" eval "$tmp/img.hpt" --weights "$tmp/w.bin" > "$tmp/e" 2>&1
check "eval on saved weights of the image model gives train's test accuracy" \
    "grep -q test_ $tmp/t && [ \"\$(grep test_ $tmp/e)\" = \"\$(grep test_ $tmp/t)\" ]"

# ZeroPadding2D's padding is one model however it is spelt: 1 is ((1, 1), (1, 1)).
zp() { printf 'data = datasets.fashion_mnist(scale = 1/255)\nmodel {\n  Input(shape = [28, 28])\n  ZeroPadding2D(%s)\n  Conv2D(4, 3)\n  Flatten()\n  Dense(10)\n}\ncompile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])\nsearch(epochs = 1)\n' "$1" > "$tmp/zp.hpt"; }
zp 1
"$HPTC" train "$tmp/zp.hpt" --save "$tmp/zp.bin" > "$tmp/zp.t" 2>&1
zp '((1, 1), (1, 1))'
"$HPTC" eval "$tmp/zp.hpt" --weights "$tmp/zp.bin" > "$tmp/zp.e" 2>&1
check "weights of ZeroPadding2D(1) load into ZeroPadding2D(((1, 1), (1, 1)))" \
    "grep -q test_ $tmp/zp.t && [ \"\$(grep test_ $tmp/zp.e)\" = \"\$(grep test_ $tmp/zp.t)\" ]"
zp '((1, 2), (1, 1))'
"$HPTC" eval "$tmp/zp.hpt" --weights "$tmp/zp.bin" > "$tmp/zp.e2" 2>&1
check "and are refused for ZeroPadding2D(((1, 2), (1, 1))), naming both paddings" \
    "grep -q 'layer zero_padding2d: padding ((1, 1), (1, 1)) in the file, ((1, 2), (1, 1)) in the spec' $tmp/zp.e2"

# The checker: shapes over the whole space, named by the breaking values; arguments' types.
cat > "$tmp/bad.hpt" <<'SPEC'
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Conv1D(8, kernel_size = 3, strides = hp.Choice("s", [1, 2]), dilation_rate = 2)
  MaxPooling1D(pool_size = hp.Choice("p", [2, 30]))
  GlobalMaxPooling1D()
  Dense(10)
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy")
search(epochs = 1)
SPEC
"$HPTC" check "$tmp/bad.hpt" > "$tmp/bad.out" 2>&1
st=$?
check "check refuses strides and dilation_rate both above 1, naming s = 2" \
    "[ $st -eq 1 ] && grep -q \"bad.hpt:4:3: error: Conv1D cannot combine strides = 2 with dilation_rate = 2 .* when 's' = 2\" $tmp/bad.out"
check "check refuses a pool longer than the sequence, naming p = 30" \
    "grep -q \"bad.hpt:5:3: error: MaxPooling1D(pool_size=30) needs at least 30 steps, but the input has 24 when 's' = 1, 'p' = 30\" $tmp/bad.out"
sed -e 's/Conv1D(8, .*/ZeroPadding2D(((1, 2), 3))/' -e '/MaxPooling1D/d' -e 's/GlobalMaxPooling1D()/Flatten()/' \
    "$tmp/bad.hpt" > "$tmp/pad.hpt"
"$HPTC" check "$tmp/pad.hpt" > "$tmp/pad.out" 2>&1
check "check refuses a malformed ZeroPadding2D padding, saying the forms it takes" \
    "grep -q \"argument 'padding' must be an int, a pair of ints, or ((top, bottom), (left, right))\" $tmp/pad.out"
printf 'data = datasets.fashion_mnist()\nmodel {\n  Input(shape = [784])\n  Conv1D(4, 3)\n  Flatten()\n  Dense(10)\n}\ncompile(optimizer = "adam", loss = "sparse_categorical_crossentropy")\nsearch(epochs = 1)\n' > "$tmp/flat.hpt"
"$HPTC" check "$tmp/flat.hpt" > "$tmp/flat.out" 2>&1
check "check refuses Conv1D on a flat input, suggesting Reshape" \
    "grep -q 'Conv1D needs a sequence input (steps, channels), but the input has shape (784,); add Reshape(\[-1, 1\]) before it' $tmp/flat.out"
