#!/bin/sh
# ASHA (runtime/tune/oracle_asha.c) end to end on the data slice: the trial
# table (every score, parent, epoch) is the same for --jobs 1, --jobs 2,
# mpirun -np 3 (when hptc has MPI) and after kill -9 at random points and
# resumes; promotions continue their parent's epochs; the epoch budget holds;
# `hptc space` prints the rungs.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"
mpid=
trap 'kill -9 $pid $mpid 2>/dev/null; rm -rf "$tmp"' EXIT

# 16 configurations, rungs 1 -> 2 -> 4 epochs, 30 epochs in all, 3 virtual workers.
spec() {
    mlp_spec "ASHA(objective = \"val_accuracy\", max_epochs = 4, grace_period = 1, reduction_factor = 2,
              max_epochs_total = 30, max_concurrent_trials = 3, directory = \"$1\", project_name = \"p\", seed = 3)" \
             "search(validation_split = 0.2, batch_size = 64)"
}

spec "$tmp/a" > "$tmp/a.hpt"
"$HPTC" space "$tmp/a.hpt" > "$tmp/space" 2>&1
check "space prints the rungs and the clock" "grep -q 'rungs at 1 -> 2 -> 4 epochs' $tmp/space && grep -q 'virtual clock of 3 workers' $tmp/space"
"$HPTC" run "$tmp/a.hpt" --jobs 1 > "$tmp/a.log" 2>&1
check "run --jobs 1 completes" "[ \$? -eq 0 ] && grep -q '^Results summary' $tmp/a.log"
table "$tmp/a" > "$tmp/a.json"
# Epochs trained: epochs - initial_epoch summed over the trials.
spent=$(grep -o '"epochs": [0-9]*, "initial_epoch": [0-9]*' "$tmp/a.json" | awk '{ s += $2 - $4 } END { print s + 0 }')
check "the trials train $spent epochs, within max_epochs_total 30 and more than 30 - 4" "[ $spent -le 30 ] && [ $spent -gt 26 ]"
check "promotions to rung 1 continue from epoch 1, to rung 2 from epoch 2" \
    "grep -q '\"parent\": [0-9][0-9]*, \"bracket\": 0, \"round\": 1, \"epochs\": 2, \"initial_epoch\": 1' $tmp/a.json &&
     grep -q '\"parent\": [0-9][0-9]*, \"bracket\": 0, \"round\": 2, \"epochs\": 4, \"initial_epoch\": 2' $tmp/a.json"

spec "$tmp/b" > "$tmp/b.hpt"
"$HPTC" run "$tmp/b.hpt" --jobs 2 > "$tmp/b.log" 2>&1
table "$tmp/b" | sed "s|$tmp/b|$tmp/a|g" > "$tmp/b.json"
check "--jobs 2 gives the same trial table as --jobs 1, bit for bit" "[ -s $tmp/b.json ] && cmp -s $tmp/a.json $tmp/b.json"

if command -v mpirun > /dev/null 2>&1 && "$HPTC" --version | grep -q '^mpi: Open MPI'; then
    export LSAN_OPTIONS="suppressions=$PWD/tests/lsan-mpi.supp:print_suppressions=0"
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
    spec "$tmp/m" > "$tmp/m.hpt"
    mpirun --allow-run-as-root --oversubscribe -x HPT_DATA -x NO_COLOR -x LSAN_OPTIONS -x ASAN_OPTIONS \
        -np 3 "$HPTC" run "$tmp/m.hpt" --jobs 1 > "$tmp/m.log" 2>&1
    table "$tmp/m" | sed "s|$tmp/m|$tmp/a|g" > "$tmp/m.json"
    check "mpirun -np 3 gives the same trial table" "[ -s $tmp/m.json ] && cmp -s $tmp/a.json $tmp/m.json"
else
    echo "SKIP: tests/cli/asha.sh: mpirun -np 3 (hptc built without MPI, or no mpirun)"
fi

# kill -9 at random points (seeded) until 8 kills have landed; each search's
# table must equal the uninterrupted run's.
kills=0 seed=4242 runs=0 round=0 same=1
while [ $kills -lt 8 ] && [ $round -lt 6 ]; do
    round=$((round + 1))
    spec "$tmp/c" > "$tmp/c.hpt"
    rm -rf "$tmp/c"
    while [ $runs -lt 200 ]; do
        runs=$((runs + 1))
        : > "$tmp/c.log"
        "$HPTC" run "$tmp/c.hpt" --jobs 2 >> "$tmp/c.log" 2>&1 &
        pid=$!
        seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
        wait_lines=$(( seed % 4 + 1 ))
        while kill -0 $pid 2>/dev/null && [ "$(grep -c 'epoch' < "$tmp/c.log")" -lt $wait_lines ]; do sleep 0.005; done
        if kill -9 $pid 2>/dev/null; then
            wait $pid 2>/dev/null
            kills=$((kills + 1))
        else
            wait $pid
            [ $? -eq 0 ] && break
        fi
    done
    table "$tmp/c" | sed "s|$tmp/c|$tmp/a|g" > "$tmp/c.json"
    cmp -s "$tmp/a.json" "$tmp/c.json" || same=0
done
check "the searches survived $kills kill -9 (at least 8) in $round rounds" "[ $kills -ge 8 ]"
check "after the kills and resumes, the trial table equals the uninterrupted run's" "[ $same -eq 1 ]"
