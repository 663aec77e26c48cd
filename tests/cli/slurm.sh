#!/bin/sh
# hptc under a real Slurm (docs/distributed.md): the test starts munged,
# slurmctld and slurmd on this machine (one node, 2 CPUs; configuration, munge
# key, state, spool and logs in $tmp; ports free on this host), then
#   - runs `srun -n 2 --mpi=pmix hptc run` (Slurm's PMIx starts the ranks),
#   - submits examples/slurm/search.sbatch unchanged (the spec as its
#     argument, hptc found on PATH, options on sbatch's command line) and
#     requeues it mid-search (scontrol requeue), so that it resumes, and
#   - `salloc -n 2 mpirun hptc run` (Open MPI reads the allocation),
# and checks each run's trial table (scores, hyperparameters, every epoch)
# equals the single-process run's (the batch script and mpirun in the
# optimised build only).  Every process it started (the daemons, their job
# steps, the ranks) is stopped on exit, whatever happens.
# Runs as root or any user.  Skips, with the reason, when the daemons cannot
# start here: Slurm or munge not installed (Debian slurmctld slurmd
# slurm-client munge), hptc built without MPI, no free port, a daemon that
# exits at once (its log's last lines printed).  PASS:/FAIL:/SKIP: lines.
. "$(dirname "$0")/../lib.sh"
skip() { echo "SKIP: tests/cli/slurm.sh: $*"; exit 0; }

# The batch script docs/distributed.md shows is the file run below.
sed -n '/^\[examples\/slurm\/search.sbatch\]/,/^```$/p' docs/distributed.md | sed '1,/^```sh$/d; $d' > "$tmp/doc.sbatch"
check "docs/distributed.md shows examples/slurm/search.sbatch as it is" "cmp -s $tmp/doc.sbatch examples/slurm/search.sbatch"

# The daemons are in /usr/sbin, not on a user's PATH.
PATH=$PATH:/usr/sbin:/sbin
for c in munged mungekey slurmctld slurmd sinfo sbatch srun salloc squeue scontrol scancel; do
    command -v $c > /dev/null 2>&1 ||
        skip "no $c: Slurm and munge are not installed (Debian slurmctld slurmd slurm-client munge)"
done
"$HPTC" --version | grep -q '^mpi: Open MPI' ||
    skip "hptc built without MPI (Debian libopenmpi-dev openmpi-bin)"
command -v mpirun > /dev/null 2>&1 || skip "no mpirun (Debian openmpi-bin)"

HPTC=$(cd "$(dirname "$HPTC")" && pwd)/$(basename "$HPTC")
conf=$tmp/slurm.conf
# The daemons run as this user, root or not: jobs are then this user's only.
user=$(id -un)
as_root=
[ "$(id -u)" = 0 ] && as_root=--allow-run-as-root
node=$(hostname -s)
munged_pid= ctld_pid=
# The processes to stop: munged, and every process whose environment names
# this test's slurm.conf (the daemons, slurmscriptd, each job step's
# slurmstepd and its tasks, a client still waiting), by their ids.
ours() {
    grep -lzxF "SLURM_CONF=$conf" /proc/[0-9]*/environ 2> /dev/null | sed 's|^/proc/\([0-9]*\)/environ$|\1|'
}
stop_all() {
    # Jobs first, through slurmctld while it runs: slurmstepd ignores SIGTERM.
    if [ -n "$ctld_pid" ] && kill -0 $ctld_pid 2> /dev/null; then
        sl timeout 5 scancel --user="$user" 2> /dev/null
        for i in $(seq 1 30); do
            [ -z "$(sl timeout 5 squeue -h 2> /dev/null)" ] && break
            sleep 0.1
        done
    fi
    pids=$(ours)
    [ -n "$pids" ] && kill $pids 2>/dev/null
    for i in $(seq 1 30); do
        [ -z "$(ours)" ] && break
        sleep 0.1
    done
    pids=$(ours)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    [ -n "$munged_pid" ] && kill $munged_pid 2>/dev/null && wait $munged_pid 2>/dev/null
    munged_pid=
}
trap 'stop_all; rm -rf "$tmp"' EXIT
# A signal (^C, timeout's TERM, a reader gone: PIPE) exits through the EXIT trap.
trap 'exit 130' INT TERM HUP PIPE
# sl COMMAND...: a Slurm command (client or daemon) under this test's slurm.conf.
sl() { SLURM_CONF=$conf "$@"; }

# Two TCP ports nobody listens on (/proc/net/tcp*, state 0A = LISTEN).
listening() {
    cat /proc/net/tcp /proc/net/tcp6 2> /dev/null |
        awk -v p="$(printf '%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 3) == p { f = 1 } END { exit !f }'
}
ports=
p=$((20000 + $$ % 20000))
for i in $(seq 1 50); do
    listening $p || ports="$ports $p"
    [ "$(echo $ports | wc -w)" -eq 2 ] && break
    p=$((p + 1))
done
set -- $ports
[ $# -eq 2 ] || skip "no two free TCP ports among 50 from $((20000 + $$ % 20000))"
ctld_port=$1 slurmd_port=$2

# munge: a key of our own, its socket under $tmp (munged wants every
# directory above its socket searchable by all, so $tmp gets o+x).
chmod 711 "$tmp"
mkdir -m 755 "$tmp/munge"
mkdir "$tmp/state" "$tmp/spool" "$tmp/log"
mungekey --create --keyfile="$tmp/munge/munge.key" 2> "$tmp/log/mungekey.err" ||
    skip "mungekey cannot create a key: $(cat "$tmp/log/mungekey.err")"
munged -F --socket="$tmp/munge/socket" --key-file="$tmp/munge/munge.key" --pid-file="$tmp/munge/munged.pid" \
    --seed-file="$tmp/munge/seed" --log-file="$tmp/log/munged.log" > "$tmp/log/munged.out" 2>&1 &
munged_pid=$!
for i in $(seq 1 50); do
    [ -S "$tmp/munge/socket" ] && break
    kill -0 $munged_pid 2> /dev/null || skip "munged exited at once: $(tail -3 "$tmp/log/munged.out" | tr '\n' ' ')"
    sleep 0.1
done
[ -S "$tmp/munge/socket" ] || skip "munged made no socket in 5 s: $(tail -3 "$tmp/log/munged.out" | tr '\n' ' ')"

# One node, this host, 2 CPUs; no cgroups (proctrack/linuxproc, task/none)
# and no accounting, so nothing here needs systemd or slurmdbd.
cat > "$conf" <<EOF
ClusterName=hptc-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
# Slurm's PMIx plugin makes each step's directory as TmpFS/spmix_appdir_UID_JOB.STEP
# by default: /tmp, and job ids restart at 1 here, so a step left by a killed
# run would stop the next run's (pmixp_mkdir: File exists).  Under $tmp instead.
mkdir "$tmp/pmix"
echo "PMIxCliTmpDirBase=$tmp/pmix" > "$tmp/mpi.conf"
start=$(date +%s)
sl slurmctld -D -f "$conf" > "$tmp/log/slurmctld.out" 2>&1 &
ctld_pid=$!
sl slurmd -D -f "$conf" > "$tmp/log/slurmd.out" 2>&1 &
slurmd_pid=$!
state=
for i in $(seq 1 150); do
    for d in slurmctld:$ctld_pid slurmd:$slurmd_pid; do
        kill -0 ${d#*:} 2> /dev/null ||
            skip "${d%:*} exited at once: $(cat "$tmp/log/${d%:*}.out" "$tmp/log/${d%:*}.log" 2> /dev/null | grep -i 'error\|fatal' | tail -3 | tr '\n' ' ')"
    done
    state=$(sl sinfo -h -n "$node" -o %t 2> /dev/null)
    [ "$state" = idle ] && break
    sleep 0.2
done
check "munged, slurmctld and slurmd start; node $node is idle ($(($(date +%s) - start)) s)" "[ '$state' = idle ]"
if [ "$state" != idle ]; then
    tail -5 "$tmp/log/slurmctld.log" "$tmp/log/slurmd.log"
    exit 1
fi
sl srun --mpi=list > "$tmp/mpi-list" 2>&1
grep -qw pmix "$tmp/mpi-list" || skip "this Slurm has no PMIx plugin (srun --mpi=list: $(tr '\n' ' ' < "$tmp/mpi-list"))"

# Under SAN=1, Open MPI's own never-freed allocations are not hptc's leaks
# (tests/cli/mpi.sh says why the slow unwinder).  For the MPI runs only (srun,
# sbatch and salloc pass it on): it doubles a run's time.
mpi_env="LSAN_OPTIONS=suppressions=$PWD/tests/lsan-mpi.supp:print_suppressions=0
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
random='RandomSearch(objective = "val_accuracy", max_trials = 4, directory = "DIR", project_name = "p", seed = 3)'
spec() { mlp_spec "$(echo "$random" | sed "s|DIR|$tmp/$1|")"; }
for run in one srun mpirun; do spec $run > "$tmp/$run.hpt"; done
"$HPTC" run "$tmp/one.hpt" --jobs 1 > "$tmp/one.log" 2>&1
table "$tmp/one" > "$tmp/one.json"
# ran RUN STATUS [REFERENCE]: the run completed on both ranks with the
# single-process run's table (REFERENCE's, default one).
ran() {
    table "$tmp/$1" > "$tmp/$1.json"
    if [ $2 -eq 0 ] && grep -q '^Results summary' "$tmp/$1.log" && grep -q '\[rank 0\]' "$tmp/$1.log" &&
        grep -q '\[rank 1\]' "$tmp/$1.log"; then
        pass "$1: completes, trials on ranks 0 and 1"
    else
        fail "$1: completes, trials on ranks 0 and 1 (status $2; its log's end:)"
        tail -5 "$tmp/$1.log"
    fi
    check "$1: the trial table (scores, hyperparameters, every epoch) equals the single-process run's" \
        "grep -q '\"history\": \[\[1, ' $tmp/${3:-one}.json && cmp -s $tmp/${3:-one}.json $tmp/$1.json"
}

# srun, one rank per task through Slurm's PMIx.
t0=$(date +%s)
sl env $mpi_env timeout 120 srun -n 2 --mpi=pmix "$HPTC" run "$tmp/srun.hpt" --jobs 1 > "$tmp/srun.log" 2>&1
ran srun $?
echo "srun: $(($(date +%s) - t0)) s"

# The batch script and mpirun run the same hptc code as srun; under ASan the
# whole test took 58 s (every check passing), so there srun alone.
if [ "$BUILD" = build ]; then
    # The documented batch script, unchanged: the spec as its argument, hptc
    # on PATH, 2 tasks of 1 CPU on the one node.  Requeued mid-search
    # (scontrol requeue: Slurm stops the job, SIGTERM to each rank, and runs
    # the script again), it resumes and ends with the uninterrupted table.
    # A larger search (8 trials, units up to 512) so that it is mid-search.
    mkdir "$tmp/job"
    mlp_spec "$(echo "$random" | sed "s|DIR|$tmp/sbatch|; s|max_trials = 4|max_trials = 8|")" |
        sed 's/max_value = 64, step = 16/max_value = 512, step = 128/' > "$tmp/job/search.hpt"
    sed "s|$tmp/sbatch|$tmp/one8|" "$tmp/job/search.hpt" > "$tmp/one8.hpt"
    "$HPTC" run "$tmp/one8.hpt" --jobs 2 > "$tmp/one8.log" 2>&1
    table "$tmp/one8" > "$tmp/one8.json"
    t0=$(date +%s)
    job=$(sl env $mpi_env PATH="$(dirname "$HPTC"):$PATH" sbatch --parsable --chdir="$tmp/job" --output="$tmp/sbatch.log" \
        --open-mode=append --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 examples/slurm/search.sbatch search.hpt)
    for i in $(seq 1 1200); do
        n=$(grep -c 'done: ' "$tmp/sbatch.log" 2> /dev/null)
        [ "${n:-0}" -ge 3 ] && break
        sleep 0.1
    done
    sl scontrol requeue "$job" 2> "$tmp/requeue.err"
    requeued=$?
    # Polled here (sbatch --wait checks every 2 s and more).  A requeued job
    # waits cred_expire (120 s) and the next scheduling pass: it may start now.
    for i in $(seq 1 1200); do
        st=$(sl squeue -h -j "$job" -o %T 2> /dev/null)
        [ -z "$st" ] && break
        [ "$st" = PENDING ] && sl scontrol update JobId="$job" StartTime=now 2> /dev/null
        sleep 0.1
    done
    sl scontrol show job "$job" > "$tmp/sbatch.job" 2>&1
    grep -q 'JobState=COMPLETED ' "$tmp/sbatch.job" && grep -q ' ExitCode=0:0' "$tmp/sbatch.job"
    st=$?
    state=$(grep -o 'JobState=[^ ]*\|Restarts=[^ ]*\|ExitCode=[^ ]*' "$tmp/sbatch.job" | tr '\n' ' ')
    check "sbatch: scontrol requeue mid-search stops the job (SIGTERM to each rank) and runs it again" \
        "[ $requeued -eq 0 ] && grep -q 'DUE TO JOB REQUEUE' $tmp/sbatch.log && grep -q '^interrupted: run the same command again' $tmp/sbatch.log && grep -q ' Restarts=1 ' $tmp/sbatch.job"
    check "sbatch: the rerun resumes the finished trials" "grep -q '^resuming .*: [3-7] trials done' $tmp/sbatch.log"
    ran sbatch $st one8
    echo "sbatch job $job: ${state}in $(($(date +%s) - t0)) s"

    # Open MPI's mpirun inside an allocation: it reads the 2 slots from Slurm.
    t0=$(date +%s)
    sl env $mpi_env timeout 120 salloc --quiet -n 2 mpirun $as_root "$HPTC" run "$tmp/mpirun.hpt" --jobs 1 > "$tmp/mpirun.log" 2>&1
    ran mpirun $?
    echo "salloc mpirun: $(($(date +%s) - t0)) s"
else
    echo "SKIP: tests/cli/slurm.sh: sbatch and salloc+mpirun run in the optimised build only (the hptc code srun ran; all three took 58 s under ASan, every check passing)"
fi

check "no job is left in the queue" "[ -z \"\$(sl squeue -h 2>&1)\" ]"
m=$munged_pid
stop_all
check "every process the test started is stopped (munged, slurmctld, slurmd, job steps, ranks)" \
    "[ -z \"\$(ours)\" ] && ! kill -0 $m 2> /dev/null"
