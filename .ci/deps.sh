#!/bin/sh
# Install the Debian packages hptc builds, tests and runs with, only those missing.
# Build: make gcc flex bison libopenblas-dev zlib1g-dev libsqlite3-dev liblapacke-dev libgit2-dev.
# Data: dataset-fashion-mnist. Optional features that CI must cover, so they are
# installed too: llvm-16-dev (the JIT backend), libopenmpi-dev openmpi-bin (mpirun).
# Test peers: chromium (headless report test), python3-sklearn (estimator parity),
# git (tests/cli/git.sh makes repositories).
set -e
need=""
for p in make gcc flex bison libopenblas-dev zlib1g-dev libsqlite3-dev liblapacke-dev libgit2-dev dataset-fashion-mnist \
         llvm-16-dev libopenmpi-dev openmpi-bin chromium python3-sklearn git $HPTC_EXTRA_PACKAGES; do
    dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "hptc: missing Debian packages:$need" >&2
    echo "hptc: run as root, or: sudo apt-get install$need" >&2
    exit 1
fi
echo "hptc: installing$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $need >/dev/null
