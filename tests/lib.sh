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

# mlp_spec TUNER [SEARCH]: the small search space the run, cv and mpi tests
# share (units 16..64, an optional Dropout, two learning rates) on the data
# slice, with the tuner call and search(...) line given (default: 2 epochs,
# a 20% validation split).  Tuners name project_name = "p".
mlp_spec() {
    cat <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(units = hp.Int("units", min_value = 16, max_value = 64, step = 16), activation = "relu")
  if hp.Boolean("dropout") {
    Dropout(0.2)
  }
  Dense(10)
}
compile(optimizer = Adam(learning_rate = hp.Choice("learning_rate", [1e-2, 1e-3])),
        loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = $1
${2:-search(epochs = 2, validation_split = 0.2, batch_size = 32)}
SPEC
}

# table DIR: the trial table of DIR/p as JSON, without wall-clock fields and
# with DIR itself written "DIR", so two projects' tables compare with cmp.
table() { "$HPTC" summary "$1/p" --json | sed 's/"started": [0-9.e+]*, "finished": [0-9.e+null]*, //; s/"utilisation": {[^}]*}, //' | sed "s|$1|DIR|g"; }
