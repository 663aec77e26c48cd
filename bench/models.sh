#!/bin/sh
# Issue 14's models, each against its target or its peer: the seed's own
# MNIST (TensorFlow's quickstart with `hptc train`, and the seed search), an
# LSTM over Fashion-MNIST's rows, a residual network on Fashion-MNIST (its
# search's best trial, exported and tested), and regression on scikit-learn's
# diabetes table against RidgeCV (bench/diabetes.sh).  Accuracies do not
# depend on the machine (same spec and seed, same numbers); the times printed
# beside them do.  MNIST comes from `make data` (fetched once, checksummed).
# Usage: sh bench/models.sh [mnist] [lstm] [resnet] [diabetes]   (default all)
cd "$(dirname "$0")/.." || exit 2
: "${HPTC:=$PWD/build/hptc}"
parts=${*:-"mnist lstm resnet diabetes"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

# report NAME VALUE TARGET SECONDS: one line, "met" when VALUE >= TARGET.
report() {
    awk -v n="$1" -v v="$2" -v t="$3" -v s="$4" 'BEGIN {
        ok = v != "" && v + 0 >= t + 0
        printf "%-44s %s (target >= %s): %s, %d s\n", n, v == "" ? "none" : v, t, ok ? "met" : "NOT met", s
        exit !ok }' || status=1
}
# In the work folder, so that projects (directory = "my_dir") land there.
copy() { sed "s|\"data/|\"$PWD/examples/data/|g" "examples/$1.hpt" > "$work/$1.hpt"; }
now() { date +%s; }
test_accuracy() { sed -n 's/.*test_accuracy: \([0-9.]*\).*/\1/p' "$1" | tail -n 1; }
# The best trial of a finished search, exported and tested: its test accuracy.
best_tested() {
    "$HPTC" export "$work/my_dir/$2" -o "$work/$1.weights" > /dev/null &&
        (cd "$work" && "$HPTC" eval "$1.hpt" --weights "$1.weights") > "$work/$1.eval" 2>&1
    test_accuracy "$work/$1.eval"
}

for part in $parts; do case $part in
mnist)
    make -s data || { echo "bench/models.sh: make data failed"; status=1; continue; }
    export HPT_DATA="$PWD/data"
    copy mnist_hello; copy mnist_seed
    t=$(now); (cd "$work" && "$HPTC" train mnist_hello.hpt) > "$work/hello.out" 2>&1
    report "mnist_hello: test accuracy after 5 epochs" "$(test_accuracy "$work/hello.out")" 0.975 $(($(now) - t))
    t=$(now); (cd "$work" && "$HPTC" run mnist_seed.hpt) > "$work/seed.out" 2>&1
    best=$(sed -n 's/.*(best \([0-9.]*\), trial.*/\1/p' "$work/seed.out" | tail -n 1)
    report "mnist_seed: best val_accuracy" "$best" 0.975 $(($(now) - t))
    unset HPT_DATA ;;
lstm)
    copy fashion_lstm
    t=$(now); (cd "$work" && "$HPTC" train fashion_lstm.hpt) > "$work/lstm.out" 2>&1
    report "fashion_lstm: test accuracy (28 steps of 28 pixels)" "$(test_accuracy "$work/lstm.out")" 0.87 $(($(now) - t)) ;;
resnet)
    copy fashion_resnet
    t=$(now); (cd "$work" && "$HPTC" run fashion_resnet.hpt) > "$work/resnet.out" 2>&1
    report "fashion_resnet: the best trial's test accuracy" "$(best_tested fashion_resnet fashion_resnet)" 0.925 $(($(now) - t)) ;;
diabetes)
    sh bench/diabetes.sh || status=1 ;;
*)
    echo "bench/models.sh: no part '$part' (mnist lstm resnet diabetes)"; status=1 ;;
esac; done
exit $status
