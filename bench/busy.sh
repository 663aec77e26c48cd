#!/bin/sh
# Issue 15 "busy": how busy the seed search (examples/fashion_mlp.hpt,
# Hyperband 10/3, full Fashion-MNIST) keeps the cores, and that its results
# do not depend on how it ran.
#   1. --jobs 2: wall time, user+sys over 2 x wall (the process's own
#      utilisation), the store's core utilisation (hptc summary: busy
#      core-seconds of the work items over slots x wall), best val_accuracy;
#   2. --jobs 1, the peer: the speedup of --jobs 2 over it (ideal 2.00);
#   3. the `trials` and `epochs` tables (results only: no timing columns,
#      numbers at 17 digits) of --jobs 1, --jobs 2, `mpirun -np 3` (--jobs 1
#      per rank) and a run killed KILLS times (SIGKILL after a random 1 to 6
#      more committed epochs, resumed each time): "identical", or the first
#      differing row.
# Environment: HPTC, HPT_DATA (default /usr/share/datasets), KILLS (20),
# LIMIT (rows, for a quick look: --limit), SPEC (default the seed spec).
set -e
cd "$(dirname "$0")/.."
: "${HPTC:=build/hptc}" "${KILLS:=20}" "${HPT_DATA:=/usr/share/datasets}" "${SPEC:=examples/fashion_mlp.hpt}"
export HPT_DATA NO_COLOR=1
HPTC=$(cd "$(dirname "$HPTC")" && pwd)/$(basename "$HPTC")
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$work"' EXIT
limit=${LIMIT:+--limit $LIMIT}
# A copy of the spec per run, each with its own directory.
for r in j1 j2 mpi killed; do
    mkdir -p "$work/$r"
    sed "s|directory = \"[^\"]*\"|directory = \"$work/$r\"|" "$SPEC" > "$work/$r.hpt"
done
project() { ls -d "$work/$1"/*/ | head -1; }
# The results: every trial's row but its start and finish, every epoch's row
# but its seconds, reals at 17 significant digits.
results() {
    sqlite3 "$(project "$1")hptc.db" \
        "SELECT 'trial', id, status, hps, seed, parent, bracket, round, epochs, initial_epoch, printf('%.17g', score),
                best_epoch, reason, data, dtype_policy FROM trials ORDER BY id;
         SELECT 'epoch', trial, execution, epoch, printf('%.17g', loss), printf('%.17g', accuracy),
                printf('%.17g', val_loss), printf('%.17g', val_accuracy), metrics FROM epochs
         ORDER BY trial, execution, epoch;" | sed "s|$work/$1|DIR|g"
}
# "identical", or the first row where b differs from a.
compare() {
    if cmp -s "$work/$1.rows" "$work/$2.rows"; then echo identical; return; fi
    diff "$work/$1.rows" "$work/$2.rows" | grep '^[<>]' | head -2 | tr '\n' ' '
    echo
}
utilisation() { "$HPTC" summary "$(project "$1")" --json | sed -n 's/.*"utilisation": {"value": \([0-9.e+-]*\),.*/\1/p'; }
percent() { awk -v u="$1" 'BEGIN { printf "%.1f%%", 100 * u }'; }
# run NAME ARGS...: wall seconds and user+sys seconds of hptc run (children's rusage).
timed() {
    /usr/bin/python3 - "$@" <<'PY'
import resource, subprocess, sys, time
name, args = sys.argv[1], sys.argv[2:]
t = time.time()
r = subprocess.run(args, stdout=open(name + ".log", "w"), stderr=subprocess.STDOUT)
wall = time.time() - t
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.2f %.2f %d" % (wall, u.ru_utime + u.ru_stime, r.returncode))
PY
}
cd "$work"
set -- $(timed j2 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$HPTC" run j2.hpt --jobs 2 $limit)
w2=$1 cpu2=$2
[ "$3" = 0 ] || { echo "busy: the --jobs 2 run failed"; tail -5 j2.log; exit 1; }
best=$("$HPTC" best "$(project j2)" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["score"])')
u2=$(utilisation j2)
set -- $(timed j1 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$HPTC" run j1.hpt --jobs 1 $limit)
w1=$1 cpu1=$2
results j1 > j1.rows
results j2 > j2.rows
awk -v w1="$w1" -v w2="$w2" -v c2="$cpu2" -v u="$u2" -v b="$best" -v c1="$cpu1" 'BEGIN {
    printf "busy_seed_search --jobs 2: wall %.1f s (target <= 45), user+sys %.1f s = %.1f%% of 2 cores, store utilisation %.1f%% (target >= 95), best val_accuracy %.4f (target >= 0.89)\n", w2, c2, 100 * c2 / (2 * w2), 100 * u, b;
    printf "busy_speedup --jobs 1 wall %.1f s (user+sys %.1f s), --jobs 2 %.1f s: %.2fx (ideal 2.00)\n", w1, c1, w2, w1 / w2 }'
echo "busy_identical --jobs 2 vs --jobs 1: $(compare j1 j2)"
if command -v mpirun > /dev/null 2>&1 && "$HPTC" --version | grep -q '^mpi: Open MPI'; then
    t0=$(date +%s.%N)
    mpirun --allow-run-as-root --oversubscribe -x HPT_DATA -x NO_COLOR -np 3 \
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$HPTC" run mpi.hpt --jobs 1 $limit > mpi.log 2>&1 ||
        { echo "busy: mpirun -np 3 failed"; tail -5 mpi.log; }
    t1=$(date +%s.%N)
    results mpi > mpi.rows
    echo "busy_identical mpirun -np 3 (--jobs 1 per rank, $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, store utilisation $(percent "$(utilisation mpi)")) vs --jobs 1: $(compare j1 mpi)"
else
    echo "busy_identical mpirun -np 3: skipped (hptc built without MPI, or no mpirun)"
fi
# Killed KILLS times at random moments (seeded), resumed each time.
db="$(project j1 | sed "s|$work/j1|$work/killed|")hptc.db"
committed() { sqlite3 "$db" 'SELECT count(*) FROM epochs' 2>/dev/null || echo 0; }
kills=0 runs=0 seed=15
t0=$(date +%s.%N)
while [ $runs -lt $((KILLS + 50)) ]; do
    runs=$((runs + 1))
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$HPTC" run killed.hpt --jobs 2 $limit >> killed.log 2>&1 &
    pid=$!
    if [ $kills -lt "$KILLS" ]; then
        seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
        want=$(( $(committed) + seed % 6 + 1 ))
        while kill -0 $pid 2>/dev/null && [ "$(committed)" -lt $want ]; do sleep 0.02; done
        if kill -9 $pid 2>/dev/null; then
            wait $pid 2>/dev/null || true
            kills=$((kills + 1))
            continue
        fi
    fi
    st=0
    wait $pid || st=$?
    [ $st -eq 0 ] && break
done
pid=
t1=$(date +%s.%N)
results killed > killed.rows
echo "busy_identical killed $kills times and resumed ($runs runs, $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, store utilisation $(percent "$(utilisation killed)")) vs --jobs 1: $(compare j1 killed)"
