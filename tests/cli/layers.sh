#!/bin/sh
# The layers added through the layer table (runtime/nn/layers/), end to end:
# examples/fashion_norm.hpt (Reshape of flat pixels to images, Conv2D,
# GlobalAveragePooling2D, Dense, LayerNormalization) trains on the committed
# Fashion-MNIST slice above chance on both backends with the same numbers,
# its weights file round-trips through eval and is refused for a model whose
# LayerNormalization differs, and `hptc fmt` gives the example back from a
# carelessly spaced copy.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"
spec=examples/fashion_norm.hpt

"$HPTC" train $spec --epochs 3 --save "$tmp/w.bin" > "$tmp/a" 2> "$tmp/a.err"
check "train of $spec exits 0" "[ \$? -eq 0 ]"
check "the summary counts Reshape, GlobalAveragePooling2D and LayerNormalization's parameters (6250)" \
    "grep -q 'reshape  *Reshape  *(None, 28, 28, 1)  *0\$' $tmp/a && grep -q 'GlobalAveragePooling2D (None, 32)  *0\$' $tmp/a &&
     grep -q 'layer_normalization  *LayerNormalization  *(None, 32)  *64\$' $tmp/a && grep -q 'trainable params 6250,' $tmp/a"
# A layer name wider than Keras's column widens the column: every row's
# output shape starts where the header's does.
cols=$(sed -n '/^layer  *type/,/^trainable/p' "$tmp/a" | grep -v '^trainable' |
       awk '{ print index($0, $1 == "layer" ? "output shape" : "(None") }' | sort -u | wc -l)
check "the summary's columns line up under a long layer name (global_average_pooling2d)" '[ "$cols" -eq 1 ]'
acc=$(sed -n 's/^test_loss: .* - test_accuracy: \([0-9.]*\)$/\1/p' "$tmp/a")
check "3 epochs on 800 rows reach a test accuracy above 0.2 (chance is 0.1): $acc" \
    "[ -n '$acc' ] && awk 'BEGIN { exit !($acc > 0.2) }'"

strip() { sed 's/ - [0-9.]*s - / - /' "$1" | grep -E '^(Epoch|test)'; }
if "$HPTC" train $spec --epochs 3 --backend jit > "$tmp/j" 2> "$tmp/j.err"; then
    check "the JIT backend trains the same numbers" "[ \"\$(strip $tmp/a)\" = \"\$(strip $tmp/j)\" ]"
elif grep -q 'no JIT' "$tmp/j.err"; then
    echo "SKIP: this build has no JIT"
else
    fail "train --backend jit exits 0"; cat "$tmp/j.err"
fi

"$HPTC" eval $spec --weights "$tmp/w.bin" > "$tmp/e" 2>&1
check "eval on the saved weights gives train's test accuracy" "[ \"\$(grep test_ $tmp/e)\" = \"\$(grep test_ $tmp/a)\" ]"
sed 's/LayerNormalization()/LayerNormalization(center = False)/' $spec > "$tmp/other.hpt"
"$HPTC" eval "$tmp/other.hpt" --weights "$tmp/w.bin" > "$tmp/e2" 2>&1
check "eval refuses the weights for a LayerNormalization without beta, naming it" \
    "[ \$? -eq 1 ] && grep -q 'layer layer_normalization: center True in the file, False in the spec' $tmp/e2"

# fmt: the example from a copy with its spacing and line breaks undone.
sed -e '/^#/!s/ = /=/g' -e '/^#/!s/, /,/g' -e 's/^  *//' $spec > "$tmp/messy.hpt"
"$HPTC" fmt "$tmp/messy.hpt" > "$tmp/fmt.out" 2>&1
check "fmt of a carelessly spaced copy gives $spec back" "cmp -s $tmp/fmt.out $spec"
check "fmt of $spec is itself" "\"\$HPTC\" fmt --check $spec > /dev/null"
