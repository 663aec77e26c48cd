#!/bin/sh
# Graphs from the command line: merge blocks (Residual, Add, Concatenate with
# branches) check clean, format to a fixed point, keep `hptc space` counts,
# and are bounded by memory with their projections; a mismatch deep in a
# generated 1000-layer graph is found at its merge, naming the values that
# break it; and a graph trains, on both backends and in mixed_bfloat16.
# (The errors themselves are golden files: tests/diag/graph_*.hpt;
# the IR: tests/ir/graph_*.hpt.)  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"
export OPENBLAS_NUM_THREADS=1
run() { n=$1; shift; "$HPTC" "$@" > "$tmp/$n.out" 2> "$tmp/$n.err"; echo $? > "$tmp/$n.st"; }
st() { cat "$tmp/$1.st"; }

# ---- the design's own example: a ResNet and an Inception-style block
cat > "$tmp/resnet.hpt" <<'EOF'
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28, 1])
  Conv2D(32, 3, padding = "same", activation = "relu")
  for i in range(hp.Int("blocks", 1, 3)) {
    Residual {                       # output = input + body(input); projected when shapes differ
      Conv2D(hp.Int("width", 16, 64, step = 16), 3, padding = "same", activation = "relu")
      Conv2D(hp.Int("width", 16, 64, step = 16), 3, strides = 2, padding = "same")
    }
    Activation("relu")
  }
  Concatenate(axis = -1) {           # Inception-style: each branch reads the block's input
    branch { Conv2D(16, 1, activation = "relu") }
    branch { Conv2D(16, 3, padding = "same", activation = "relu") }
    branch { }                       # an empty branch is the input itself
  }
  GlobalAveragePooling2D()
  Dense(64, activation = "relu")
  Add { branch { Dense(64) Dropout(hp.Choice("drop", [0.1, 0.2, 0.3])) } branch { } }
  Dense(10, activation = "softmax")
}
compile(optimizer = Adam(learning_rate = hp.Choice("lr", [1e-3, 1e-4])),
        loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
EOF
run ok check "$tmp/resnet.hpt"
check "the design's example (Residual in a loop, Concatenate, Add) checks clean" "[ $(st ok) -eq 0 ] && [ ! -s $tmp/ok.err ]"
run space space "$tmp/resnet.hpt"
check "hptc space counts its 3 x 4 x 3 x 2 = 72 configurations" "[ $(st space) -eq 0 ] && grep -q '^size: 72 configurations' $tmp/space.out"
sed 's/branch { Dense(64) Dropout/branch { Dense(hp.Choice("skip", [64, 32])) Dropout/' "$tmp/resnet.hpt" > "$tmp/skip.hpt"
run skip check "$tmp/skip.hpt"
check "an Add that breaks for one value of a Choice names it" \
    "[ $(st skip) -eq 1 ] && grep -q \"error: Add needs branches of one shape, but branch 1 gives (32,) and branch 2 gives (64,) when .*'skip' = 32\" $tmp/skip.err"

run fmt fmt "$tmp/resnet.hpt"
"$HPTC" fmt "$tmp/fmt.out" > "$tmp/fmt2.out" 2>&1
check "hptc fmt prints the blocks, comments kept, and its output is a fixed point" \
    "[ $(st fmt) -eq 0 ] && cmp -s $tmp/fmt.out $tmp/fmt2.out && grep -q '^    branch { }                       # an empty branch' $tmp/fmt.out && grep -q '^  Add {' $tmp/fmt.out"
cp "$tmp/fmt.out" "$tmp/formatted.hpt"
run refmt check "$tmp/formatted.hpt"
# The same IR but for the spec's hash and the lines (fmt moved them).
"$HPTC" ir "$tmp/resnet.hpt" | sed '1,2d; s/    ; line [0-9]*$//' > "$tmp/ir1"
"$HPTC" ir "$tmp/formatted.hpt" | sed '1,2d; s/    ; line [0-9]*$//' > "$tmp/ir2"
check "the formatted spec checks clean and lowers to the same IR" \
    "[ $(st refmt) -eq 0 ] && [ -s $tmp/ir1 ] && cmp -s $tmp/ir1 $tmp/ir2"

# ---- the model's size.  The largest configuration, blocks 3 and width 64,
# counted by hand: conv2d 1*9*32+32 = 320; block 1 (28x28x32 -> 14x14x64)
# 32*9*64+64 + 64*9*64+64 + its projection 32*64+64 = 57,536; blocks 2 and 3
# (projected 14 -> 7, 7 -> 4) 36,928 * 2 + 64*64+64 = 78,016 each; the
# branches 64*16+16 + 64*9*16+16 = 10,272; dense 96*64+64, the Add's branch
# 64*64+64, the output 64*10+10: 235,178 parameters, 4 floats each under Adam.
HPTC_MEMORY_LIMIT=3762847 "$HPTC" check "$tmp/resnet.hpt" > /dev/null 2> "$tmp/mem.err"; s=$?
check "a memory one byte short of the largest graph (235,178 parameters, projections included) is an error naming it" \
    "[ $s -eq 1 ] && grep -q \"of the model's 235,178 parameters, .* when 'blocks' = 3, 'width' = 64\" $tmp/mem.err"
HPTC_MEMORY_LIMIT=3762848 "$HPTC" check "$tmp/resnet.hpt" > /dev/null 2> "$tmp/mem2.err"; s=$?
check "... and exactly its 3,762,848 bytes is not" "[ $s -eq 0 ] && [ ! -s $tmp/mem2.err ]"

# ---- a deep generated graph: 300 residual blocks with an optional layer each,
# an Add of three branches every tenth; one of the last merges breaks for one value.
awk 'BEGIN {
    print "data = datasets.fashion_mnist(scale = 1/255)\nmodel {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(32)"
    for (i = 0; i < 300; i++) {
        printf "  Residual {\n    if hp.Boolean(\"deep_%d\") {\n      Dense(hp.Int(\"u_%d\", 16, 64, step = 16), activation = \"relu\")\n    }\n    Dense(32)\n  }\n", i, i
        if (i % 10 == 0) printf "  Add {\n    branch { Dense(32) }\n    branch {\n      for j in range(hp.Int(\"n_%d\", 0, 3)) {\n        Dense(32)\n      }\n    }\n    branch { }\n  }\n", i
    }
    print "  Concatenate {\n    branch { Dense(8) }\n    branch { Reshape([4, 8]) }\n  }"
    print "  Dense(10, activation = \"softmax\")\n}\ncompile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])"
}' > "$tmp/deep.hpt"
sed '/Concatenate {/,/^  }$/d' "$tmp/deep.hpt" > "$tmp/deep_ok.hpt"
run deepok check "$tmp/deep_ok.hpt"
run deepir ir "$tmp/deep_ok.hpt"
check "a 1000-layer graph of 300 Residual blocks and 30 Adds (630 hyperparameters, 1054 layers) checks clean" \
    "[ $(st deepok) -eq 0 ] && [ ! -s $tmp/deepok.err ] && grep -q '^; spec [0-9a-f]*, 630 hyperparameters, 1054 layers' $tmp/deepir.out"
run deep check "$tmp/deep.hpt"
check "... and a Concatenate of a flat and a 2-D branch at its end is the one error, at the merge" \
    "[ $(st deep) -eq 1 ] && grep -c 'error:' $tmp/deep.err | grep -qx 1 && grep -q 'deep.hpt:[0-9]*:3: error: Concatenate along axis -1 needs branches that agree' $tmp/deep.err"

# ---- the design's example trains, on the Fashion slice (tests/run.sh's HPT_DATA)
run train train "$tmp/resnet.hpt" --set blocks=1 --set width=16 --epochs 3 --threads 1
acc=$(sed -n 's/.*test_accuracy: \([0-9.]*\).*/\1/p' "$tmp/train.out")
check "hptc train of the graph learns: test accuracy ${acc:-none} >= 0.3 after 3 epochs on 1000 rows" \
    "[ $(st train) -eq 0 ] && awk 'BEGIN { exit !(${acc:-0} >= 0.3) }'"
check "... and hptc train's summary says what each merge reads" \
    "grep -q '^residual .*<- conv2d, conv2d_2' $tmp/train.out && grep -q '^add .*<- dropout, dense' $tmp/train.out"
for mode in "--backend jit" "--dtype-policy mixed_bfloat16"; do
    run mode train "$tmp/resnet.hpt" --set blocks=2 --epochs 2 --threads 1 $mode
    first=$(sed -n 's|^Epoch 1/2.* loss: \([0-9.]*\).*|\1|p' "$tmp/mode.out")
    second=$(sed -n 's|^Epoch 2/2.* loss: \([0-9.]*\).*|\1|p' "$tmp/mode.out")
    check "with $mode it trains too: loss ${first:-?} then ${second:-?}" \
        "[ $(st mode) -eq 0 ] && awk 'BEGIN { exit !(${second:-9} < ${first:-0}) }'"
done
