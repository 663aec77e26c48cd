#!/bin/sh
# Issue 3: one trial of the seed MLP (units 512, batch 32, 48k rows), hptc vs
# PyTorch at its best thread count, and hptc's GEMM-FLOP rate over the
# single-thread sgemm rate at the same shapes.  Peak RSS of hptc train.
# Environment: EPOCHS (default 3), HPTC (the binary).
set -e
cd "$(dirname "$0")/.."
: "${HPTC:=build/hptc}" "${BUILD:=build}" "${EPOCHS:=3}"
py=/usr/bin/python3
$py -c 'import torch' 2>/dev/null || { echo "installing python3-torch for the peer"; sh .ci/deps.sh; HPTC_EXTRA_PACKAGES="python3-torch python3-optuna" sh .ci/deps.sh; }
mkdir -p "$BUILD/bench"
gcc -O2 -std=c11 -D_GNU_SOURCE -march=native -I. -I/usr/include/x86_64-linux-gnu/openblas-pthread \
    -o "$BUILD/bench/sgemm_rate" bench/sgemm_rate.c runtime/nn/blas.c runtime/err.c -lopenblas -lm
spec=examples/fashion_mlp.hpt
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Median epoch seconds of "Epoch k/N - 1.80s" lines (training steps only, as the peer's).
median_hptc() { grep -o '^Epoch [0-9]*/[0-9]* - [0-9.]*s' "$1" | sed 's/.* - //; s/s$//' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
median_torch() { grep '^epoch ' "$1" | awk '{print $4}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rss_of() { $py -c 'import resource,subprocess,sys; subprocess.run(sys.argv[2:], stdout=open(sys.argv[1],"w"), stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$@"; }

for t in 1 2; do
    rss=$(rss_of "$out/hptc$t" "$HPTC" train $spec --set units=512 --set learning_rate=0.001 --epochs "$EPOCHS" --threads $t)
    eval "h$t=\$(median_hptc \$out/hptc$t) rss$t=\$rss"
    $py bench/torch_train.py --model mlp --units 512 --epochs "$EPOCHS" --threads $t > "$out/torch$t" 2>/dev/null
    eval "p$t=\$(median_torch \$out/torch$t)"
done
sgemm=$("$BUILD/bench/sgemm_rate" --skip-dx0 32 784 512 10 | awk '/^sgemm_step_gflops/ {print $2}')
# GEMM FLOPs of one epoch: forward and weight gradient of both layers, input gradient of the second.
flops=$(awk 'BEGIN { B = 48000; print B * (2*784*512 + 2*512*10) * 2 + B * 2*512*10 }')
awk -v h1="$h1" -v h2="$h2" -v p1="$p1" -v p2="$p2" -v s="$sgemm" -v f="$flops" -v r1="$rss1" -v r2="$rss2" 'BEGIN {
    hb = h1 < h2 ? h1 : h2; pb = p1 < p2 ? p1 : p2;
    printf "seed MLP, units 512, batch 32, 48000 rows, seconds per epoch (median of the epochs)\n";
    printf "  hptc    1 thread %.3f   2 threads %.3f\n", h1, h2;
    printf "  pytorch 1 thread %.3f   2 threads %.3f\n", p1, p2;
    printf "train_speedup_vs_pytorch_best %.2f   (hptc best %.3f s, pytorch best %.3f s; target >= 5)\n", pb / hb, hb, pb;
    printf "train_speedup_same_threads    %.2f (1 thread)  %.2f (2 threads)\n", p1 / h1, p2 / h2;
    printf "gemm_rate_over_sgemm %.2f   (hptc 1 thread %.1f GFLOP/s of GEMM over sgemm %.1f GFLOP/s at the same shapes; target >= 0.70)\n", f / h1 / 1e9 / s, f / h1 / 1e9, s;
    printf "peak_rss_mb %d (1 thread) %d (2 threads)   (target <= 150)\n", r1, r2;
}'
grep -h 'test_accuracy' "$out/hptc1" "$out/torch1" | sed 's/^/  /'
