#!/bin/sh
# hptc run under MPI (docs/distributed.md), on localhost with 3 ranks:
#   - RandomSearch (2 executions per trial; and with search(cv = 3)) and
#     Hyperband (promotions carry weights between ranks) give the
#     single-process trial table, every score and epoch;
#   - kill -9 of a worker rank mid-search ends the job; rerunning the same
#     mpirun resumes, redoes no completed trial and ends with the same table;
#   - SIGINT to rank 0 stops every rank after its epoch; the rerun resumes;
#   - a rank that cannot load the data is named with its cause, all ranks end,
#     and the status is non-zero; a rank that loads other data is refused.
# Skips (one SKIP line, no PASS/FAIL) when hptc was built without MPI or
# mpirun is absent.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"
if ! command -v mpirun > /dev/null 2>&1 || ! "$HPTC" --version | grep -q '^mpi: Open MPI'; then
    echo "SKIP: tests/cli/mpi.sh: hptc built without MPI, or no mpirun (Debian libopenmpi-dev openmpi-bin)"
    exit 0
fi
mpid=
trap '[ -n "$mpid" ] && kill -9 $mpid 2>/dev/null; rm -rf "$tmp"' EXIT
# Under SAN=1: what Open MPI allocates in MPI_Init and never frees is not
# hptc's leak (tests/lsan-mpi.supp names Open MPI's libraries only).  Open MPI
# is built without frame pointers, so ASan's fast unwinder loses those stacks
# and the suppressions could not match them: unwind slowly (about 2 s more
# per mpirun).  No effect on the optimised build.
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan-mpi.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
mpi="mpirun --allow-run-as-root --oversubscribe -x HPT_DATA -x NO_COLOR -x LSAN_OPTIONS -x ASAN_OPTIONS"
# Ranks may start in other directories (--wdir below).
HPTC=$(cd "$(dirname "$HPTC")" && pwd)/$(basename "$HPTC")

# $1 directory, $2 tuner line, $3 search line (default: a 20% validation split).
spec() { mlp_spec "$2" "$3"; }
random='RandomSearch(objective = "val_accuracy", max_trials = 6, executions_per_trial = 2, directory = "DIR", project_name = "p", seed = 3)'
cv=$random       # with search(cv = 3): each execution trains 3 folds
hyperband='Hyperband(objective = "val_accuracy", max_epochs = 5, factor = 3, directory = "DIR", project_name = "p", seed = 5)'

for tuner in random cv hyperband; do
    eval "line=\$$tuner"
    search=
    [ $tuner = cv ] && search='search(epochs = 2, cv = 3, batch_size = 32)'
    spec "$tmp/$tuner-1" "$(echo "$line" | sed "s|DIR|$tmp/$tuner-1|")" "$search" > "$tmp/$tuner-1.hpt"
    spec "$tmp/$tuner-3" "$(echo "$line" | sed "s|DIR|$tmp/$tuner-3|")" "$search" > "$tmp/$tuner-3.hpt"
    "$HPTC" run "$tmp/$tuner-1.hpt" --jobs 1 > "$tmp/$tuner-1.log" 2>&1
    $mpi -np 3 "$HPTC" run "$tmp/$tuner-3.hpt" --jobs 1 > "$tmp/$tuner-3.log" 2>&1
    st=$?
    table "$tmp/$tuner-1" > "$tmp/$tuner-1.json"
    table "$tmp/$tuner-3" > "$tmp/$tuner-3.json"
    check "$tuner: mpirun -np 3 completes, trials on all 3 ranks" "[ $st -eq 0 ] && grep -q '^Results summary' $tmp/$tuner-3.log && grep -q '\[rank 1\]' $tmp/$tuner-3.log && grep -q '\[rank 2\]' $tmp/$tuner-3.log"
    check "$tuner: the trial table (scores, hyperparameters, every epoch) equals the single-process run's" \
        "[ -s $tmp/$tuner-1.json ] && grep -q '\"history\": \[\[1, ' $tmp/$tuner-1.json && cmp -s $tmp/$tuner-1.json $tmp/$tuner-3.json"
    "$HPTC" summary "$tmp/$tuner-1/p" --csv | sed "s|$tmp/$tuner-1|DIR|g" > "$tmp/$tuner-1.csv"
    "$HPTC" summary "$tmp/$tuner-3/p" --csv | sed "s|$tmp/$tuner-3|DIR|g" > "$tmp/$tuner-3.csv"
    check "$tuner: summary --csv is the same too" "cmp -s $tmp/$tuner-1.csv $tmp/$tuner-3.csv"
done
check "hyperband: the table has promotions (parent, initial epoch 2) trained on other ranks" \
    "grep -q '\"parent\": [0-9][0-9]*, \"bracket\": [0-9]*, \"round\": 1, \"epochs\": 5, \"initial_epoch\": 2' $tmp/hyperband-3.json && grep -q 'continues trial' $tmp/hyperband-3.log"

# kill -9 a worker rank mid-search: the job ends; rerunning resumes.  A bigger
# model (units up to 512) so that a run lasts a few seconds.
spec "$tmp/k" "$(echo "$hyperband" | sed "s|DIR|$tmp/k|; s|max_epochs = 5|max_epochs = 9|")" |
    sed 's/max_value = 64, step = 16/max_value = 512, step = 128/' > "$tmp/k.hpt"
spec "$tmp/u" "$(echo "$hyperband" | sed "s|DIR|$tmp/u|; s|max_epochs = 5|max_epochs = 9|")" |
    sed 's/max_value = 64, step = 16/max_value = 512, step = 128/' > "$tmp/u.hpt"
"$HPTC" run "$tmp/u.hpt" --jobs 2 > "$tmp/u.log" 2>&1
table "$tmp/u" > "$tmp/u.json"
: > "$tmp/k1.log"
$mpi -np 3 "$HPTC" run "$tmp/k.hpt" --jobs 1 > "$tmp/k1.log" 2>&1 &
mpid=$!
# Rank 1's process: a child of this mpirun whose environment says so.
rank_pid() {
    for d in /proc/[0-9]*; do
        [ "$(cut -d' ' -f4 "$d/stat" 2>/dev/null)" = "$mpid" ] || continue
        tr '\0' '\n' < "$d/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" && echo "${d#/proc/}"
    done
}
killed=
for i in $(seq 1 2000); do
    kill -0 $mpid 2>/dev/null || break
    if [ "$(grep -c 'done: ' "$tmp/k1.log")" -ge 4 ] && grep -q '\[rank 1\]$' "$tmp/k1.log"; then
        w=$(rank_pid 1)
        [ -n "$w" ] && kill -9 $w && killed=$w && break
    fi
    sleep 0.01
done
wait $mpid
st=$?
mpid=
check "kill -9 of rank 1 mid-search ends the job with a failure status" "[ -n '$killed' ] && [ $st -ne 0 ] && ! grep -q '^Results summary' $tmp/k1.log"
"$HPTC" summary "$tmp/k/p" --csv > "$tmp/k-after-kill.csv"
done_before=$(grep -c ',completed,' "$tmp/k-after-kill.csv")
$mpi -np 3 "$HPTC" run "$tmp/k.hpt" --jobs 1 > "$tmp/k2.log" 2>&1
st=$?
check "rerunning the same mpirun resumes the $done_before completed trials and finishes" \
    "[ $st -eq 0 ] && [ $done_before -ge 4 ] && grep -q \"^resuming .*: $done_before trials done\" $tmp/k2.log && grep -q '^Results summary' $tmp/k2.log"
redone=0
for id in $(grep ',completed,' "$tmp/k-after-kill.csv" | cut -d, -f1); do
    grep -q "^trial $id: " "$tmp/k2.log" && redone=$((redone + 1))
done
check "no completed trial is trained again after the kill" "[ $redone -eq 0 ]"
table "$tmp/k" | sed "s|DIR|$tmp/u|g" | sed "s|$tmp/u|DIR|g" > "$tmp/k.json"
check "after the kill and the rerun, the trial table equals the uninterrupted run's" "cmp -s $tmp/u.json $tmp/k.json"

# SIGINT to rank 0 alone: the other ranks are told to stop after their epoch
# in flight, rank 0 exits 130, and the same mpirun resumes.
spec "$tmp/i" "$(echo "$hyperband" | sed "s|DIR|$tmp/i|; s|max_epochs = 5|max_epochs = 9|")" |
    sed 's/max_value = 64, step = 16/max_value = 512, step = 128/' > "$tmp/i.hpt"
: > "$tmp/i1.log"
$mpi -np 3 "$HPTC" run "$tmp/i.hpt" --jobs 1 > "$tmp/i1.log" 2>&1 &
mpid=$!
sent=
for i in $(seq 1 2000); do
    kill -0 $mpid 2>/dev/null || break
    if [ "$(grep -c 'done: ' "$tmp/i1.log")" -ge 4 ]; then
        r0=$(rank_pid 0)
        [ -n "$r0" ] && kill -INT $r0 && sent=$r0 && break
    fi
    sleep 0.01
done
wait $mpid
st=$?
mpid=
check "SIGINT to rank 0: every rank stops after its epoch, status non-zero, resumable" \
    "[ -n '$sent' ] && [ $st -ne 0 ] && grep -q '^interrupted: run the same command again' $tmp/i1.log && ! grep -q 'rank [0-9]* was interrupted' $tmp/i1.log"
$mpi -np 3 "$HPTC" run "$tmp/i.hpt" --jobs 1 > "$tmp/i2.log" 2>&1
table "$tmp/i" | sed "s|DIR|$tmp/u|g" | sed "s|$tmp/u|DIR|g" > "$tmp/i.json"
check "... and the rerun ends with the uninterrupted table" "grep -q '^resuming ' $tmp/i2.log && cmp -s $tmp/u.json $tmp/i.json"

# A rank that cannot load the data: named, with its cause; every rank ends.
mkdir -p "$tmp/nodata"
spec "$tmp/n" "$(echo "$random" | sed "s|DIR|$tmp/n|")" | sed "s|datasets.fashion_mnist(scale = 1/255)|idx(train_images = \"data/x.gz\", train_labels = \"data/y.gz\", scale = 1/255)|" > "$tmp/n.hpt"
# Paths are relative to the spec's directory: named "n.hpt", that is each
# rank's working directory.  Only rank 0 reads the file (good/n.hpt).
mkdir -p "$tmp/good/data"
cp "$tmp/n.hpt" "$tmp/good/n.hpt"
cp tests/data/fashion-mnist/train-images-idx3-ubyte.gz "$tmp/good/data/x.gz"
cp tests/data/fashion-mnist/train-labels-idx1-ubyte.gz "$tmp/good/data/y.gz"
timeout 60 $mpi -np 2 --wdir "$tmp/good" "$HPTC" run n.hpt --jobs 1 : -np 1 --wdir "$tmp/nodata" "$HPTC" run n.hpt --jobs 1 \
    > "$tmp/n.log" 2>&1
st=$?
check "a rank that cannot load the data: its rank and cause reported, non-zero status, no hang" \
    "[ $st -ne 0 ] && [ $st -ne 124 ] && grep -q 'hptc: rank 2 of 3 cannot start on .*: .*data/x.gz' $tmp/n.log && ! grep -q '^search ' $tmp/n.log"
check "... and no rank started the search or wrote to the store" "[ ! -e $tmp/n/p/hptc.db ]"

# A rank that loads other data (here one pixel differs).
mkdir -p "$tmp/other/data"
cp "$tmp/good/data/y.gz" "$tmp/other/data/y.gz"
gzip -dc "$tmp/good/data/x.gz" > "$tmp/x"
# One pixel of the first image differs (offset 16 + 5; a corner pixel is 0 in every image).
printf '\377' | dd of="$tmp/x" bs=1 seek=21 conv=notrunc 2> /dev/null
gzip -c "$tmp/x" > "$tmp/other/data/x.gz"
timeout 60 $mpi -np 1 --wdir "$tmp/good" "$HPTC" run n.hpt --jobs 1 : -np 1 --wdir "$tmp/other" "$HPTC" run n.hpt --jobs 1 \
    > "$tmp/o.log" 2>&1
st=$?
check "a rank whose data differs from rank 0's is refused, naming it" \
    "[ $st -ne 0 ] && [ $st -ne 124 ] && grep -q 'hptc: rank 1 loaded other data' $tmp/o.log"
