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

run() {   # $1 name, $2... hptc train arguments
    name=$1; shift
    for be in blas jit; do
        "$H" train "$@" --backend $be > "$tmp/$name.$be" 2>&1 || { echo "$name/$be failed:"; tail -3 "$tmp/$name.$be"; }
    done
    tb=$(epoch_mean "$tmp/$name.blas"); tj=$(epoch_mean "$tmp/$name.jit")
    ab=$(sed -n 's/.*test_accuracy: //p' "$tmp/$name.blas"); aj=$(sed -n 's/.*test_accuracy: //p' "$tmp/$name.jit")
    echo "$name: epoch_s_blas $tb epoch_s_jit $tj speedup $(awk -v b="$tb" -v j="$tj" 'BEGIN {printf "%.2f", b / j}')x" \
         "(test accuracy blas $ab jit $aj)"
}

run mlp examples/fashion_mlp.hpt --set units=512 --set learning_rate=0.001 --epochs 3
run cnn examples/fashion_cnn.hpt --epochs 1 --limit 12000

# Compile time: expand the seed MLP's trial twice and time trial_set_backend.
cat > "$tmp/compile.c" <<'C'
#include "compiler/compile.h"
#include "runtime/nn/jit.h"
#include "runtime/nn/trial.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "rb");
    static char src[1 << 16];
    size_t n = f ? fread(src, 1, sizeof src - 1, f) : 0;
    if (f) fclose(f);
    compile_result r = compile_spec(argv[1], src, n, NULL);
    if (!r.program) return 1;
    hpt_value v[64];
    ir_default_assignment(r.program, v);
    v[ir_find_hp(r.program, "units")] = value_int(512);
    double ms[3];
    jit_stats s;
    for (int k = 0; k < 3; k++) {
        hpt_error e;
        /* 512, then another shape (a new compile, LLVM warm), then 512 again (the cache). */
        v[ir_find_hp(r.program, "units")] = value_int(k == 1 ? 256 : 512);
        trial *t = trial_expand(r.program, v, 32, 1, &e);
        if (!t || trial_set_backend(t, 1, &e)) return fprintf(stderr, "%s\n", e.message), 1;
        jit_get_stats(&s);
        ms[k] = s.last_lookup_ms;
        trial_free(t);
    }
    printf("jit_compile_ms_first %.2f jit_compile_ms_next_shape %.2f jit_compile_ms_cached %.4f (LLVM start-up once per process %.1f ms; %ld compile, %ld hit)\n",
           ms[0], ms[1], ms[2], s.startup_ms, s.compiles, s.hits);
    return 0;
}
C
cc -O2 -std=c11 -D_GNU_SOURCE -DHPTC_JIT=1 -I. -I"$B" -o "$tmp/compile" "$tmp/compile.c" "$B/libhptc.a" \
   -lopenblas -lz -lsqlite3 -lm -lpthread $(llvm-config-16 --ldflags --libs core orcjit native passes 2>/dev/null ||
   llvm-config-15 --ldflags --libs core orcjit native passes 2>/dev/null || llvm-config-14 --ldflags --libs core orcjit native passes) &&
    "$tmp/compile" examples/fashion_mlp.hpt
