#!/bin/sh
# hptc export --format onnx (docs/onnx.md): for the seed MLP, the CNN example
# and two specs that use every layer the export translates (an image graph
# with merges, residuals with and without projection, depthwise, separable,
# pooling, resizing, padding, normalisation; a sequence graph with Embedding,
# dilated causal Conv1D, LSTM and GRU), a tiny search on the committed data
# slice, then the exported model passes onnx.checker (python3-onnx) and,
# run in onnxruntime-node 1.30 under the machine's Node.js, gives the outputs
# `hptc eval --predictions` gives on the test rows: max |difference| <= 1e-4
# and the same accuracy to 4 decimals.  A layer the export cannot express is
# an error naming it and the trial.  onnxruntime-node is not fetched here:
# `make test` puts it in a cache outside the repository first
# (.ci/onnxruntime.sh); without it, or without python3-onnx, those lines SKIP.
. "$(dirname "$0")/../lib.sh"

cache=${XDG_CACHE_HOME:-$HOME/.cache}/hptc/onnxruntime-node
ort=""
if ! command -v node > /dev/null; then
    echo "SKIP: onnxruntime comparisons: node is not installed"
elif [ -f "$cache/node_modules/onnxruntime-node/package.json" ]; then
    ort=$cache/node_modules
else
    echo "SKIP: onnxruntime comparisons: onnxruntime-node is not in $cache (make test installs it there with npm: .ci/onnxruntime.sh)"
fi
checker=""
if /usr/bin/python3 -c 'import onnx' 2> /dev/null; then checker=1; else echo "SKIP: onnx.checker: python3-onnx is not installed"; fi

images=tests/data/fashion-mnist/t10k-images-idx3-ubyte.gz

# search NAME: run $tmp/NAME.hpt (project NAME), export its best trial as ONNX
# and as weights, and evaluate the weights with --predictions.
search() {
    "$HPTC" run "$tmp/$1.hpt" > "$tmp/$1.run" 2>&1 &&
        "$HPTC" export "$tmp/$1" --format onnx -o "$tmp/$1.onnx" > "$tmp/$1.export" 2>&1 &&
        "$HPTC" export "$tmp/$1" -o "$tmp/$1.w" > /dev/null 2>&1 &&
        "$HPTC" eval "$tmp/$1.hpt" --weights "$tmp/$1.w" --predictions "$tmp/$1.csv" > "$tmp/$1.eval" 2>&1
}

# compare NAME WHAT: the checker, then onnxruntime against hptc eval.
compare() {
    if [ -n "$checker" ]; then
        check "$2: onnx.checker (full_check) accepts the model" \
            "/usr/bin/python3 -c 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)' $tmp/$1.onnx"
    fi
    [ -n "$ort" ] || return 0
    line=$(NODE_PATH=$ort node tests/cli/onnx_compare.js "$tmp/$1.onnx" $images "$tmp/$1.csv" 2>&1)
    diff=$(echo "$line" | sed -n 's/.*max_abs_diff=\([^ ]*\).*/\1/p')
    acc_onnx=$(echo "$line" | sed -n 's/.*accuracy_onnx=\([^ ]*\).*/\1/p')
    acc_hptc=$(sed -n 's/.*test_accuracy: \([0-9.]*\).*/\1/p' "$tmp/$1.eval")
    check "$2: onnxruntime's outputs are hptc eval's: max |logit diff| $diff <= 1e-4, accuracy $acc_onnx (onnxruntime) = $acc_hptc (hptc eval), 300 test rows" \
        "[ -n '$diff' ] && awk 'BEGIN { exit !($diff <= 1e-4) }' && [ '$acc_onnx' = '$acc_hptc' ] && [ -n '$acc_hptc' ]"
    [ -n "$diff" ] || echo "  $line"
}

# ---- the seed MLP ----------------------------------------------------------
mlp_spec "RandomSearch(objective = \"val_accuracy\", max_trials = 1, seed = 1, directory = \"$tmp\", project_name = \"mlp\")" \
    "search(epochs = 1, validation_split = 0.2, batch_size = 32)" > "$tmp/mlp.hpt"
search mlp
check "the seed MLP's best trial is exported as ONNX" "grep -q 'written to .*mlp.onnx as ONNX (opset 17)' $tmp/mlp.export"
"$HPTC" export "$tmp/mlp" --trial 0 --format onnx -o "$tmp/mlp0.onnx" > /dev/null 2>&1
check "--trial 0 exports the same model (the only trial is the best)" "cmp -s $tmp/mlp.onnx $tmp/mlp0.onnx"
"$HPTC" export "$tmp/mlp" --trial 7 --format onnx -o "$tmp/mlp7.onnx" > "$tmp/mlp7" 2>&1; st=$?
check "--trial of a trial the store lacks is an error" "[ $st = 1 ] && grep -q 'has no trial 7' $tmp/mlp7"
compare mlp "seed MLP"
if [ -n "$checker" ]; then
    # The metadata: the spec's hash as the weights file has it, the trial's hyperparameters.
    /usr/bin/python3 - "$tmp/mlp.onnx" > "$tmp/mlp.meta" <<'PY'
import onnx, sys
m = onnx.load(sys.argv[1])
for p in m.metadata_props: print(p.key, p.value.splitlines()[0] if p.value else "")
print("opset", m.opset_import[0].version, "ir", m.ir_version)
print("input", m.graph.input[0].name, [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim])
print("output", m.graph.output[0].name, [d.dim_param or d.dim_value for d in m.graph.output[0].type.tensor_type.shape.dim])
print("ops", " ".join(sorted({n.op_type for n in m.graph.node})))
PY
    hash=$(head -c 400 "$tmp/mlp.w" | grep -ao 'spec_hash [0-9a-f]*' | cut -d' ' -f2)
    check "metadata: the spec's hash ($hash), the trial, its hyperparameters, the output's kind" \
        "grep -q '^spec_hash $hash\$' $tmp/mlp.meta && grep -q '^trial 0\$' $tmp/mlp.meta &&
         grep -q '^hyperparameters {\"units\": [0-9]*, \"dropout\": \(true\|false\), \"learning_rate\": 0.01*}' $tmp/mlp.meta &&
         grep -q '^output_kind logits\$' $tmp/mlp.meta"
    check "input (N, 28, 28) named input, output (N, 10) named output, opset 17, no Dropout node" \
        "grep -q \"^input input \['N', 28, 28\]\" $tmp/mlp.meta && grep -q \"^output output \['N', 10\]\" $tmp/mlp.meta &&
         grep -q '^opset 17 ir 8\$' $tmp/mlp.meta && ! grep -q Dropout $tmp/mlp.meta"
fi

# ---- the CNN example -------------------------------------------------------
sed -e 's/max_trials = 8/max_trials = 1/; s/epochs = 10/epochs = 1/' -e "s|directory = \"my_dir\"|directory = \"$tmp\"|" \
    -e 's/project_name = "fashion_cnn"/project_name = "cnn"/' examples/fashion_cnn.hpt > "$tmp/cnn.hpt"
search cnn
check "the CNN example's best trial is exported as ONNX" "grep -q 'as ONNX' $tmp/cnn.export"
compare cnn "CNN example"

# ---- every layer the export translates, in two graphs -----------------------
cat > "$tmp/img.hpt" <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28, 1])
  RandomFlip("horizontal")
  RandomTranslation(0.1, 0.1)
  RandomRotation(0.1)
  RandomZoom(0.1)
  ZeroPadding2D(padding = ((1, 2), (0, 1)))
  Conv2D(8, 3, strides = 2, activation = "relu")
  BatchNormalization()
  Residual {
    DepthwiseConv2D(3, padding = "same", depth_multiplier = 2, activation = "gelu")
    Conv2D(12, 3, strides = 2, padding = "same")
  }
  Add {
    branch { SeparableConv2D(12, 3, padding = "same", activation = "tanh") }
    branch { AveragePooling2D(3, strides = 1, padding = "same") }
    branch { MaxPooling2D(3, strides = 1, padding = "same") }
  }
  Residual { Activation("sigmoid") }
  UpSampling2D(2, interpolation = "bilinear")
  MaxPooling2D(2, padding = "same")
  UpSampling2D((1, 2))
  ZeroPadding2D(1)
  AveragePooling2D(2)
  Concatenate(axis = -1) {
    branch { Conv2D(4, 1) }
    branch { GlobalMaxPooling2D(keepdims = True) UpSampling2D((5, 8)) }
  }
  BatchNormalization()
  Dropout(0.3)
  Concatenate {
    branch { GlobalAveragePooling2D() }
    branch { Flatten() Residual { Dense(8, activation = "softmax") } }
    branch { Reshape([-1, 16]) LayerNormalization() GlobalAveragePooling1D() }
  }
  Dense(10)
}
compile(optimizer = Adam(learning_rate = 1e-2), loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_accuracy", max_trials = 1, seed = 1, directory = "$tmp", project_name = "img")
search(epochs = 1, validation_split = 0.2, batch_size = 32)
SPEC
search img
check "an image graph of every 2-D layer kind is exported" "grep -q 'as ONNX' $tmp/img.export"
compare img "image graph (pads, Conv2D, BatchNormalization, Residual without and with a projection (1x1 Conv, MatMul), DepthwiseConv2D, SeparableConv2D, Add, pools, UpSampling2D, Concatenate, global pools, Reshape, LayerNormalization, gelu/tanh/sigmoid/softmax)"

# The pixels (0..255, scale 1) are the indices: those >= input_dim give zeros, as hptc's Embedding does.
cat > "$tmp/seq.hpt" <<SPEC
data = datasets.fashion_mnist()
model {
  Input(shape = [28, 28])
  Reshape([784])
  Embedding(input_dim = 200, output_dim = 6)
  Conv1D(8, 5, padding = "causal", dilation_rate = 2, activation = "relu")
  MaxPooling1D(4, padding = "same")
  Conv1D(8, 3, strides = 2, padding = "same")
  MaxPooling1D(3, strides = 2)
  Concatenate {
    branch { LSTM(8, return_sequences = True) }
    branch { GRU(6, return_sequences = True, activation = "relu") }
    branch { Conv1D(4, 3, padding = "same") }
  }
  LayerNormalization(scale = False)
  Concatenate {
    branch { GlobalMaxPooling1D() }
    branch { GlobalAveragePooling1D() }
    branch { GRU(5, use_bias = False) }
    branch { LSTM(7, recurrent_activation = "tanh") }
  }
  Dense(10, activation = "softmax")
}
compile(optimizer = Adam(learning_rate = 1e-2), loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_accuracy", max_trials = 1, seed = 1, directory = "$tmp", project_name = "seq")
search(epochs = 1, validation_split = 0.2, batch_size = 32)
SPEC
search seq
check "a sequence graph (Embedding, Conv1D, LSTM, GRU, 1-D pools) is exported" "grep -q 'as ONNX' $tmp/seq.export"
compare seq "sequence graph (Embedding with out-of-range indices, causal dilated and strided Conv1D, MaxPooling1D, LSTM and GRU with and without return_sequences, LayerNormalization without scale, global 1-D pools, softmax)"

# linear recurrent activations are ONNX's Affine (alpha 1, beta 0).
cat > "$tmp/lin.hpt" <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Reshape([4, 196])
  Concatenate {
    branch { LSTM(4, activation = "linear") }
    branch { GRU(4, recurrent_activation = "linear") }
    branch { LSTM(4, recurrent_activation = "linear", activation = "relu") }
    branch { GRU(3, activation = "linear", recurrent_activation = "linear") }
  }
  Dense(10)
}
compile(optimizer = Adam(learning_rate = 1e-4), loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_accuracy", max_trials = 1, seed = 1, directory = "$tmp", project_name = "lin")
search(epochs = 1, validation_split = 0.2, batch_size = 32)
SPEC
search lin
check "recurrent layers with linear activations are exported" "grep -q 'as ONNX' $tmp/lin.export"
compare lin "LSTM and GRU with linear activation and recurrent_activation (Affine)"

# ---- what cannot be expressed ----------------------------------------------
# Every layer the runtime trains has a translation; a trial that is a classic
# estimator has no network, and says so.
cat > "$tmp/est.hpt" <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  RidgeClassifier(alpha = 1.0)
}
tuner = RandomSearch(objective = "val_accuracy", max_trials = 1, seed = 1, directory = "$tmp", project_name = "est")
search(validation_split = 0.2)
SPEC
"$HPTC" run "$tmp/est.hpt" > /dev/null 2>&1
"$HPTC" export "$tmp/est" --format onnx -o "$tmp/est.onnx" > "$tmp/est.out" 2>&1; st=$?
check "a classic estimator's trial is an error naming it and the trial, and no file is written" \
    "[ $st = 1 ] && grep -q 'trial 0 is the classic estimator RidgeClassifier' $tmp/est.out && [ ! -e $tmp/est.onnx ]"
"$HPTC" export "$tmp/mlp" --format tflite -o "$tmp/x" > /dev/null 2>&1; st=$?
check "an unknown --format is a usage error" "[ $st = 2 ]"
