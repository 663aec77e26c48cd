#!/bin/sh
# bench/jit.sh [BUILD]: the LLVM JIT backend against the BLAS backend.
#   - per-epoch training time, BLAS vs JIT, on the seed MLP (units 512,
#     batch 32, 3 epochs of the full Fashion-MNIST) and on the CNN example
#     (1 epoch of 12000 rows);
#   - JIT compile time of one trial, first and from the cache, printed as
#     "jit_compile_ms_first X jit_compile_ms_next_shape Y jit_compile_ms_cached Z"
#     (next_shape: another trial shape in the same process, LLVM warm).
# Single-threaded OpenBLAS with its Skylake-X kernels, as the other benches.
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
H=$B/hptc
[ -x "$H" ] || { echo "bench/jit.sh: build $H first (make BUILD=$B)"; exit 2; }
if ! "$H" --version | grep -q 'jit \['; then
    echo "bench/jit.sh: $H has no JIT backend (LLVM was not found at build time): skipped"
    exit 0
fi
export OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 NO_COLOR=1
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# Mean seconds of the "Epoch i/n - X.XXs" lines.
epoch_mean() { sed -n 's/^Epoch [0-9]*\/[0-9]* - \([0-9.]*\)s.*/\1/p' "$1" | awk '{s += $1; n++} END {if (n) printf "%.3f", s / n; else print "nan"}'; }

run() {   # $1 name, $2... hptc train arguments (both backends at the same dtype policy)
    name=$1; shift
    for be in blas jit; do
        "$H" train "$@" --backend $be > "$tmp/$name.$be" 2>&1 || { echo "$name/$be failed:"; tail -3 "$tmp/$name.$be"; }
    done
    tb=$(epoch_mean "$tmp/$name.blas"); tj=$(epoch_mean "$tmp/$name.jit")
    # The first epoch holds the JIT's compile, run beside its first steps (trial_start_backend).
    fb=$(sed -n 's/^Epoch 1\/[0-9]* - \([0-9.]*\)s.*/\1/p' "$tmp/$name.blas"); fj=$(sed -n 's/^Epoch 1\/[0-9]* - \([0-9.]*\)s.*/\1/p' "$tmp/$name.jit")
    ab=$(sed -n 's/.*test_accuracy: //p' "$tmp/$name.blas"); aj=$(sed -n 's/.*test_accuracy: //p' "$tmp/$name.jit")
    echo "$name: epoch_s_blas $tb epoch_s_jit $tj speedup $(awk -v b="$tb" -v j="$tj" 'BEGIN {printf "%.2f", b / j}')x" \
         "(test accuracy blas $ab jit $aj; first epoch, the compile beside it: blas $fb s, jit $fj s)"
}

run mlp examples/fashion_mlp.hpt --set units=512 --set learning_rate=0.001 --epochs 3
run cnn examples/fashion_cnn.hpt --epochs 1 --limit 12000
if "$H" --version | grep -q '^mixed_bfloat16: yes'; then
    run mlp_bf16 examples/fashion_mlp.hpt --set units=512 --set learning_rate=0.001 --epochs 3 --dtype-policy mixed_bfloat16
    run cnn_bf16 examples/fashion_cnn.hpt --epochs 1 --limit 12000 --dtype-policy mixed_bfloat16
else
    echo "mixed_bfloat16 rows skipped: this CPU has no bf16 instructions"
fi

# Compile time: expand the seed MLP's trial twice and time trial_set_backend.
make -s BUILD="$B" "$B/bench/jit_compile" >/dev/null &&
    "$B/bench/jit_compile" examples/fashion_mlp.hpt
