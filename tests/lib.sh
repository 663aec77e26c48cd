# tests/lib.sh: the start every tests/cli script shares (sourced, not run):
# work from the repository root, $HPTC (tests/run.sh sets it per build), the
# committed Fashion-MNIST slice as the data, a scratch directory $tmp removed
# on exit, and the PASS:/FAIL: lines tests/run.sh counts.
cd "$(dirname "$0")/../.." || exit 2
: "${HPTC:=build/hptc}"
export HPT_DATA="$PWD/tests/data" NO_COLOR=1
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
# check DESCRIPTION 'shell condition'
check() { if eval "$2"; then pass "$1"; else fail "$1"; fi; }
