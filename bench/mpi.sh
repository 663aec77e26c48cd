#!/bin/sh
# Issue 6: trials per minute of one process (hptc run --jobs 1) against
# `mpirun -np 2` (one trial per rank, --jobs 1 each), same search: RandomSearch,
# 8 trials of the seed MLP (784-512-10, 407k weights, so every epoch ships
# 4.9 MB of checkpoint to rank 0), 2 epochs each on the first ROWS rows of
# Fashion-MNIST.  The ratio is the speedup on this machine's cores; the two
# trial tables must be equal (checked, as in tests/cli/mpi.sh).
# Environment: HPTC (the binary), ROWS (default 12000), TRIALS (default 8).
set -e
cd "$(dirname "$0")/.."
: "${HPTC:=build/hptc}" "${ROWS:=12000}" "${TRIALS:=8}"
HPTC=$(cd "$(dirname "$HPTC")" && pwd)/$(basename "$HPTC")
if ! command -v mpirun > /dev/null 2>&1 || ! "$HPTC" --version | grep -q '^mpi: Open MPI'; then
    echo "mpi: skipped (hptc built without MPI, or no mpirun)"
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1
spec() {
    cat <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(512, activation = "relu")
  Dropout(hp.Choice("dropout", [0.1, 0.2, 0.3]))
  Dense(10)
}
compile(optimizer = Adam(learning_rate = hp.Choice("learning_rate", [1e-2, 1e-3, 1e-4])),
        loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_accuracy", max_trials = $TRIALS, directory = "$work/$1", project_name = "p", seed = 1)
search(epochs = 2, validation_split = 0.2, batch_size = 32)
SPEC
}
spec one > "$work/one.hpt"
spec two > "$work/two.hpt"
now() { date +%s.%N; }
t0=$(now)
"$HPTC" run "$work/one.hpt" --jobs 1 --limit "$ROWS" > "$work/one.log" 2>&1
t1=$(now)
mpirun --allow-run-as-root --oversubscribe -np 2 "$HPTC" run "$work/two.hpt" --jobs 1 --limit "$ROWS" > "$work/two.log" 2>&1
t2=$(now)
table() { "$HPTC" summary "$work/$1/p" --csv | sed "s|$work/$1|DIR|g"; }
same=no
[ "$(table one)" = "$(table two)" ] && same=yes
n1=$(table one | grep -c ',completed,')
n2=$(table two | grep -c ',completed,')
awk -v a="$t0" -v b="$t1" -v c="$t2" -v n1="$n1" -v n2="$n2" -v same="$same" -v rows="$ROWS" 'BEGIN {
    w1 = b - a; w2 = c - b;
    r1 = n1 / w1 * 60; r2 = n2 / w2 * 60;
    printf "mpi_trials_per_minute 1-process %.1f (%d trials, %.1f s)  mpirun-np-2 %.1f (%d trials, %.1f s, launch included)  ratio %.2f  tables_equal %s  (%d rows, 2 epochs, seed MLP)\n",
           r1, n1, w1, r2, n2, w2, r2 / r1, same, rows;
}'

# What one epoch costs rank 0: the store commit and the transfer (docs/distributed.md).
B=${BUILD:-build}
make -s BUILD="$B" "$B/bench/rank0_epoch" >/dev/null
"$B/bench/rank0_epoch" "$work/r0"
mpirun --allow-run-as-root --oversubscribe -np 2 "$B/bench/rank0_epoch"
