#!/bin/sh
# Issue 13, item 5: OpenBLAS, oneDNN 2.6.3 and libxsmm 1.17, one thread, at
# the exact GEMM and Conv2D shapes of the seed MLP and the CNN example, f32
# and bf16 (bench/gemm_rate.c).  Ratios are against OpenBLAS in the same run.
# Environment: BUILD (build directory), GEMM_SECONDS (per figure, default 0.3).
set -e
cd "$(dirname "$0")/.."
: "${BUILD:=build}" "${GEMM_SECONDS:=0.3}"
mkdir -p "$BUILD/bench"
# libxsmm is static only in Debian; its BLAS fallback (sgemm_) comes from OpenBLAS.
gcc -O2 -std=c11 -D_GNU_SOURCE -march=native -Wall -Wextra -I. \
    -I/usr/include/x86_64-linux-gnu/openblas-pthread \
    -o "$BUILD/bench/gemm_rate" bench/gemm_rate.c runtime/nn/blas.c runtime/nn/onednn.c runtime/err.c \
    -lxsmm -ldnnl -lgomp -lopenblas -lpthread -lrt -ldl -lm
"$BUILD/bench/gemm_rate" --seconds "$GEMM_SECONDS"
