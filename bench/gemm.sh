#!/bin/sh
# Issue 13, item 5: OpenBLAS, oneDNN 2.6.3 and libxsmm 1.17, one thread, at
# the exact GEMM and Conv2D shapes of the seed MLP and the CNN example, f32
# and bf16 (bench/gemm_rate.c).  Ratios are against OpenBLAS in the same run.
# Environment: BUILD (build directory), GEMM_SECONDS (per figure, default 0.3).
set -e
cd "$(dirname "$0")/.."
: "${BUILD:=build}" "${GEMM_SECONDS:=0.3}"
# libxsmm is static only in Debian; its BLAS fallback (sgemm_) comes from OpenBLAS.
make -s BUILD="$BUILD" "$BUILD/bench/gemm_rate" >/dev/null
"$BUILD/bench/gemm_rate" --seconds "$GEMM_SECONDS"
