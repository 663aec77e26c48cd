#!/bin/sh
# Issues 3 and 13: one trial's training speed against PyTorch at its best
# thread count, in float32 and mixed_bfloat16, on the seed MLP (units 512,
# batch 32, 48k rows) and the CNN example (filters 32, plain block, dense
# 128); then the Dense GEMMs' rate inside a training step over oneDNN's own
# rate at the same shapes (bench/step_rate.c against bench/gemm_rate.c), and
# packing's share of the step.  Peak RSS of hptc train.
# Environment: EPOCHS (MLP, default 3), CNN_EPOCHS (default 1), HPTC, BUILD.
set -e
cd "$(dirname "$0")/.."
: "${HPTC:=build/hptc}" "${BUILD:=build}" "${EPOCHS:=3}" "${CNN_EPOCHS:=1}"
py=/usr/bin/python3
$py -c 'import torch' 2>/dev/null || { echo "installing python3-torch for the peer"; sh .ci/deps.sh bench; }
make -s BUILD="$BUILD" "$BUILD/bench/step_rate" "$BUILD/bench/gemm_rate" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$HPTC" --version | sed -n 's/^cpu:/machine: cpu features:/p; s/^kernels:/machine: kernels:/p'
bf16=1
"$HPTC" --version | grep -q 'mixed_bfloat16: yes' || bf16=0

# Median epoch seconds of "Epoch k/N - 1.80s" lines (training steps only, as the peer's).
median_hptc() { grep -o '^Epoch [0-9]*/[0-9]* - [0-9.]*s' "$1" | sed 's/.* - //; s/s$//' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
median_torch() { grep '^epoch ' "$1" | awk '{print $4}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rss_of() { $py -c 'import resource,subprocess,sys; subprocess.run(sys.argv[2:], stdout=open(sys.argv[1],"w"), stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$@"; }

# hptc_epoch NAME SPEC EPOCHS POLICY SETS...: median epoch seconds, 1 thread.
hptc_epoch() {
    name=$1 spec=$2 epochs=$3 policy=$4; shift 4
    "$HPTC" train "$spec" "$@" --epochs "$epochs" --threads 1 --dtype-policy "$policy" > "$out/$name" 2>&1 ||
        { echo "hptc train $spec --dtype-policy $policy failed:"; tail -3 "$out/$name"; return 1; }
    median_hptc "$out/$name"
}
# torch_best MODEL EPOCHS ARGS...: the faster of 1 and 2 threads.
torch_best() {
    model=$1 epochs=$2; shift 2
    best=
    for t in 1 2; do
        $py bench/torch_train.py --model "$model" --epochs "$epochs" --threads $t "$@" > "$out/torch_$model$t" 2>/dev/null
        s=$(median_torch "$out/torch_$model$t")
        echo "  pytorch $model $t thread(s) $s" >&2
        best=$(awk -v a="$best" -v b="$s" 'BEGIN { print (a == "" || b < a) ? b : a }')
    done
    echo "$best"
}

mlp="--set units=512 --set learning_rate=0.001"
rss=$(rss_of "$out/rss" "$HPTC" train examples/fashion_mlp.hpt $mlp --epochs 1 --threads 1)
m32=$(hptc_epoch mlp32 examples/fashion_mlp.hpt "$EPOCHS" float32 $mlp)
m16=nan; [ $bf16 = 1 ] && m16=$(hptc_epoch mlp16 examples/fashion_mlp.hpt "$EPOCHS" mixed_bfloat16 $mlp)
pm=$(torch_best mlp "$EPOCHS" --units 512)
cnn="--set filters=32 --set block=plain --set dense_units=128 --set learning_rate=0.001"
c32=$(hptc_epoch cnn32 examples/fashion_cnn.hpt "$CNN_EPOCHS" float32 $cnn)
c16=nan; [ $bf16 = 1 ] && c16=$(hptc_epoch cnn16 examples/fashion_cnn.hpt "$CNN_EPOCHS" mixed_bfloat16 $cnn)
pc=$(torch_best cnn "$CNN_EPOCHS")
awk -v m32="$m32" -v m16="$m16" -v pm="$pm" -v c32="$c32" -v c16="$c16" -v pc="$pc" -v rss="$rss" 'BEGIN {
    printf "seconds per epoch, 1 thread (median of the epochs); pytorch at its best thread count\n";
    printf "  seed MLP  hptc float32 %.3f  mixed_bfloat16 %s  pytorch %.3f\n", m32, m16, pm;
    printf "  CNN       hptc float32 %.3f  mixed_bfloat16 %s  pytorch %.3f\n", c32, c16, pc;
    printf "train_speedup_vs_pytorch_best %.2f   (seed MLP float32; target >= 2.5)\n", pm / m32;
    if (m16 != "nan") printf "train_speedup_bf16_vs_pytorch_best %.2f   (seed MLP mixed_bfloat16; target >= 4.5)\n", pm / m16;
    printf "cnn_speedup_vs_pytorch_best %.2f   (CNN float32; target >= 2)\n", pc / c32;
    if (c16 != "nan") printf "cnn_speedup_bf16_vs_pytorch_best %.2f   (CNN mixed_bfloat16; target >= 3.5)\n", pc / c16;
    printf "peak_rss_mb %d (seed MLP, 1 thread; target <= 150)\n", rss;
}'
[ $bf16 = 1 ] || echo "mixed_bfloat16 rows skipped: this CPU has no bf16 instructions ($("$HPTC" --version | sed -n 's/^cpu: //p'))"

# The GEMMs inside a step against the library alone at the same shapes and
# kernels (matmul.c): float32 reads the plain master kernel (no packed copy);
# mixed_bfloat16 a packed copy for the forward and dz.W^T, plain for x^T.dz.
# float32 is also set against oneDNN's packed kernels, its best rate there.
"$BUILD/bench/gemm_rate" --seconds 0.1 > "$out/gemm"
for p in float32 mixed_bfloat16; do
    [ $p = mixed_bfloat16 ] && [ $bf16 = 0 ] && continue
    "$BUILD/bench/step_rate" --policy $p --steps 1500 > "$out/step_$p"
    awk -v p=$p '
        FNR == NR && /^gemm_rate/ { rate[$2 " " $3] = $4; next }
        /^step_gemm_gflops/ { step = $2 } /^step_pack_percent/ { pack = $2 } /^step_shadow_percent/ { shadow = $2 } /^step_us/ { us = $2 }
        # alone(VARIANTS): the seed MLP step (both forwards, both weight
        # gradients, the second layer dz.W^T) at those kernels, in GFLOP/s.
        function alone(fwd, dw, dx,   g, i, f, t, flops, v) {
            split("mlp1_fwd 25690112 mlp1_dw 25690112 mlp2_fwd 327680 mlp2_dw 327680 mlp2_dx 327680", g, " ");
            for (i = 1; i <= 10; i += 2) {
                v = g[i] ~ /fwd/ ? fwd : g[i] ~ /dw/ ? dw : dx;
                f = g[i + 1]; flops += f; t += f / (rate[g[i] " onednn_" v] * 1e9);
            }
            return flops / t / 1e9;
        }
        END {
            if (p == "float32") { run = alone("f32_plain", "f32_plain", "f32_plain"); best = alone("f32_packed", "f32_plain", "f32_packed") }
            else { run = alone("bf16_packed", "bf16_plain", "bf16_packed"); best = run }
            printf "step_%s_us %.1f   gemm_in_step_over_library %.2f   (%.1f GFLOP/s in the step, %.1f alone with the same kernels; target >= 0.80)", p, us, step / run, step, run;
            if (p == "float32") printf "; %.2f of oneDNN packed (%.1f)", step / best, best;
            printf "\n  weight packing %.2f%% of the step (target < 2); the bf16 shadow written in the optimizer pass %.2f%%\n", pack, shadow;
        }' "$out/gemm" "$out/step_$p"
done
grep -h 'test_accuracy' "$out/mlp32" "$out/torch_mlp1" | sed 's/^/  /'
