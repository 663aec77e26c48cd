#!/bin/sh
# Cut the committed test slice tests/data/fashion-mnist/ out of the real
# Fashion-MNIST files (Debian package dataset-fashion-mnist): the first 1000
# training and the first 300 test samples, rewritten as valid IDX with the
# counts corrected, gzip -9 -n so the bytes are reproducible.
#   sh tests/data/make_slice.sh [SOURCE_DIR]
set -e
src=${1:-/usr/share/datasets/fashion-mnist}
dst=$(dirname "$0")/fashion-mnist
mkdir -p "$dst"

be32() {   # a 32-bit big-endian integer, as raw bytes
    for s in 24 16 8 0; do printf "\\$(printf %03o $(($1 >> s & 255)))"; done
}
# cut NAME COUNT HEADER_BYTES SAMPLE_BYTES: keep the magic and the dims after
# the count, replace the count, keep COUNT samples.
cut() {
    { zcat "$src/$1.gz" | head -c 4
      be32 "$2"
      zcat "$src/$1.gz" | head -c "$3" | tail -c +9
      zcat "$src/$1.gz" | tail -c +$(($3 + 1)) | head -c $(($2 * $4))
    } | gzip -9 -n > "$dst/$1.gz"
}
cut train-images-idx3-ubyte 1000 16 784
cut train-labels-idx1-ubyte 1000 8 1
cut t10k-images-idx3-ubyte 300 16 784
cut t10k-labels-idx1-ubyte 300 8 1
