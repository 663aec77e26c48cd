#!/bin/sh
# `hptc check` against the data and the machine (issue 11): it reads the data
# files' headers (and the labels of small files) through the runtime's probe
# and reports, at the argument or layer at fault: a missing file, a CSV label
# column not in the header (with a did-you-mean), an Input whose size is not
# the samples', a last layer narrower than the labels' classes (over every
# value of its hyperparameters), counts that differ, a test split or
# validation_data shaped differently, and a configuration whose weights,
# gradients and optimizer state exceed the memory (HPTC_MEMORY_LIMIT for
# another machine's).  Every independent error in one run; nothing of a data
# file's header reaches the terminal raw.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"
export OPENBLAS_NUM_THREADS=1
# run NAME ARGS...: hptc's stdout, stderr and status in $tmp/NAME.{out,err,st}
run() { n=$1; shift; "$HPTC" "$@" > "$tmp/$n.out" 2> "$tmp/$n.err"; echo $? > "$tmp/$n.st"; }
st() { cat "$tmp/$1.st"; }
clean() { ! grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/$1.err"; }
has() { grep -q -e "$2" "$tmp/$1.err"; }

# A CSV of 8 features and 3 classes, one of 200 classes.
awk 'BEGIN { print "f1,f2,f3,f4,f5,f6,f7,f8,species"
    for (i = 0; i < 150; i++) { for (j = 0; j < 8; j++) printf "%.2f,", (i * 7 + j * 3) % 10 / 10; print i % 3 } }' > "$tmp/iris.csv"
awk 'BEGIN { print "a,b,c,d,e,f,g,h,label"
    for (i = 0; i < 400; i++) { for (j = 0; j < 8; j++) printf "%d,", (i + j) % 5; print i % 200 } }' > "$tmp/many.csv"

# spec FILE DATA INPUT LAST [FIRST] [SEARCH]: a small network over DATA.
spec() {
    cat > "$tmp/$1.hpt" <<SPEC
data = $2
model {
  Input(shape = [$3])
  Dense(units = ${5:-16}, activation = "relu")
  Dense($4)
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_accuracy", max_trials = 2)
${6:-search(epochs = 1, validation_split = 0.2)}
SPEC
}

spec ok 'csv("iris.csv", label = "species")' 8 3
run ok check "$tmp/ok.hpt"
check "a CSV of 8 features and 3 classes with Input([8]) and Dense(3) checks clean" "[ $(st ok) -eq 0 ] && clean ok && [ ! -s $tmp/ok.err ]"

spec missing 'csv("nofile.csv", label = "species")' 8 3
run missing check "$tmp/missing.hpt"
check "a missing CSV is an error at its path, with where a relative path was looked for" \
    "[ $(st missing) -eq 1 ] && clean missing && has missing '^$tmp/missing.hpt:1:12: error: $tmp/nofile.csv: cannot open: No such file or directory' && has missing 'hint: a relative path is read from the spec.s directory: $tmp/nofile.csv'"

spec label 'csv("iris.csv", label = "specie")' 8 3
run label check "$tmp/label.hpt"
check "a misspelt label column is an error at label = ..., with the columns and a did-you-mean" \
    "[ $(st label) -eq 1 ] && has label \"^$tmp/label.hpt:1:32: error: $tmp/iris.csv: no column 'specie' to take the labels from; the columns are 'f1', \" && has label \"hint: did you mean 'species'?\""

spec input 'csv("iris.csv", label = "species")' 9 3
run input check "$tmp/input.hpt"
check "Input(shape = [9]) over 8 feature columns is an error at the Input" \
    "[ $(st input) -eq 1 ] && has input '^$tmp/input.hpt:3:3: error: the input has 9 values per sample (9), but iris.csv samples have 8 (8 feature columns)' && has input 'Input(shape = \[8\])'"

spec c200 'csv("many.csv")' 8 10
run c200 check "$tmp/c200.hpt"
check "labels 0..199 on a final Dense(10) is an error at that layer" \
    "[ $(st c200) -eq 1 ] && has c200 '^$tmp/c200.hpt:5:3: error: the model outputs 10 values, but the labels in many.csv go up to 199 (200 classes)'"

spec c3 'csv("iris.csv", label = "species")' 8 2
run c3 check "$tmp/c3.hpt"
check "3 classes on Dense(2) is an error at that layer" \
    "[ $(st c3) -eq 1 ] && has c3 'error: the model outputs 2 values, but the labels in iris.csv go up to 2 (3 classes)'"

spec chp 'csv("iris.csv", label = "species")' 8 'units = hp.Choice("out", [2, 3, 4])'
run chp check "$tmp/chp.hpt"
check "... over the whole space: the output's width as a hyperparameter names the value that fails" \
    "[ $(st chp) -eq 1 ] && has chp \"error: the model outputs 2 values, but the labels in iris.csv go up to 2 (3 classes) when 'out' = 2\""

# The model's size: Dense(10000000) after 784 inputs, then Dense(10): 7.95e9
# parameters, with Adam 4 floats each: 118.5 GiB.
spec big 'datasets.fashion_mnist(scale = 1/255)' '784' 10 10000000
run big check "$tmp/big.hpt"
check "Dense(10000000) is an error at the layer: its parameters and bytes against this machine's memory" \
    "[ $(st big) -eq 1 ] && has big '^$tmp/big.hpt:4:3: error: this layer holds 7,850,000,000 of the model.s 7,950,000,010 parameters, whose weights, gradients and optimizer state take 118.5 GiB, more than the'"
HPTC_MEMORY_LIMIT=1T run big1t check "$tmp/big.hpt"
check "... HPTC_MEMORY_LIMIT=1T checks it for a larger machine: clean" "[ $(st big1t) -eq 0 ] && [ ! -s $tmp/big1t.err ]"
spec bighp 'datasets.fashion_mnist(scale = 1/255)' '784' 10 'hp.Int("units", 16, 4096, step = 16)'
HPTC_MEMORY_LIMIT=40M run bighp check "$tmp/bighp.hpt"
check "... a size searched by a hyperparameter names the value that is too large (HPTC_MEMORY_LIMIT=40M)" \
    "[ $(st bighp) -eq 1 ] && has bighp \"more than the 40.0 MiB of memory when 'units' = 4096\""
HPTC_MEMORY_LIMIT=0 run bigoff check "$tmp/big.hpt"
check "... HPTC_MEMORY_LIMIT=0 turns the check off" "[ $(st bigoff) -eq 0 ]"

# Every independent error in one run: a missing file, a metric, validation
# data and a Flatten (each took a run of its own).
cat > "$tmp/all.hpt" <<'SPEC'
data = csv("nofile.csv")
model {
  Input(shape = [28, 28])
  Dense(units = 64, activation = "relu")
  Dense(10)
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy")
tuner = RandomSearch(objective = "val_accuracy", max_trials = 2)
search(epochs = 1)
SPEC
run all check "$tmp/all.hpt"
check "a missing file, no metrics, no validation data and no Flatten: four errors in one run" \
    "[ $(st all) -eq 1 ] && has all 'nofile.csv: cannot open' && has all \"objective 'val_accuracy' is never computed\" && has all \"objective 'val_accuracy' needs validation data\" && has all 'Dense needs a flat input, but the input has shape (28, 28)' && has all '^4 errors generated.'"

# Paths are relative to the spec's directory, for the probe as for the loader.
mkdir -p "$tmp/sub"
cp "$tmp/iris.csv" "$tmp/sub/local.csv"
spec sub/rel 'csv("local.csv", label = "species")' 8 3
(cd / && "$HPTC" check "$tmp/sub/rel.hpt") > /dev/null 2> "$tmp/rel.err"; echo $? > "$tmp/rel.st"
check "a relative path is found beside the spec from any working directory" "[ $(st rel) -eq 0 ] && [ ! -s $tmp/rel.err ]"

# validation_data and a CSV's test split are probed too.
{ echo "f1,f2,f3,f4,f5,f6,f7,species"; sed -n '2,30p' "$tmp/iris.csv" | cut -d, -f1-7,9; } > "$tmp/seven.csv"
spec val 'csv("iris.csv", label = "species")' 8 3 16 'search(epochs = 1, validation_data = csv("seven.csv", label = "species"))'
run val check "$tmp/val.hpt"
check "validation_data with 7 feature columns is an error at validation_data" \
    "[ $(st val) -eq 1 ] && has val \"^$tmp/val.hpt:9:38: error: validation_data samples have 7 values (7 feature columns, in seven.csv), but the model's input has 8\""
spec test 'csv("iris.csv", label = "species", test = "seven.csv")' 8 3
run test check "$tmp/test.hpt"
check "a test CSV with other columns is an error at test = ..." \
    "[ $(st test) -eq 1 ] && has test '^$tmp/test.hpt:1:50: error: the test samples in seven.csv are not shaped as the training samples in iris.csv'"

# IDX (the test slice) and .npy headers.
D="$PWD/tests/data/fashion-mnist"
spec idx "idx(train_images = \"$D/train-images-idx3-ubyte.gz\", train_labels = \"$D/t10k-labels-idx1-ubyte.gz\")" '784' 10
run idx check "$tmp/idx.hpt"
check "IDX images and labels of different counts: an error at train_labels" \
    "[ $(st idx) -eq 1 ] && has idx 'train-images-idx3-ubyte.gz has 1000 samples but .*t10k-labels-idx1-ubyte.gz has 300 labels'"
spec idx8 "idx(train_images = \"$D/train-images-idx3-ubyte.gz\", train_labels = \"$D/train-labels-idx1-ubyte.gz\")" '784' 8
run idx8 check "$tmp/idx8.hpt"
check "... and their labels are counted: 10 classes on Dense(8) is an error" \
    "[ $(st idx8) -eq 1 ] && has idx8 'the model outputs 8 values, but the labels in .*train-labels-idx1-ubyte.gz go up to 9 (10 classes)'"
# npy(x: (6, 4) <f4, y: (6,) <i8 with labels 0..4, and a y of 5 labels).
npy() {     # FILE DESCR SHAPE BYTES...: a version 1.0 .npy file, the header padded to 64
    d="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
    pad=$(( 64 - (10 + ${#d} + 1) % 64 )); [ $pad -eq 64 ] && pad=0
    len=$(( ${#d} + pad + 1 ))
    { printf '\223NUMPY\001\000'; printf "\\$(printf %03o $((len % 256)))\\$(printf %03o $((len / 256)))"
      printf '%s' "$d"; printf "%${pad}s\n" ''; shift 3; printf "$*"; } > "$tmp/$1"
}
npy x.npy '<f4' '(6, 4)' "$(awk 'BEGIN { for (i = 0; i < 24; i++) printf "\\000\\000\\200\\077" }')"
npy y.npy '<i8' '(6,)' "$(awk 'BEGIN { for (i = 0; i < 6; i++) printf "\\%03o\\000\\000\\000\\000\\000\\000\\000", i % 5 }')"
npy y5.npy '<i8' '(5,)' "$(awk 'BEGIN { for (i = 0; i < 5; i++) printf "\\000\\000\\000\\000\\000\\000\\000\\000" }')"
spec npyok 'npy(x = "x.npy", y = "y.npy")' 4 5
run npyok check "$tmp/npyok.hpt"
check ".npy samples (6, 4) with labels 0..4 on Dense(5): clean" "[ $(st npyok) -eq 0 ] && [ ! -s $tmp/npyok.err ]"
spec npy4 'npy(x = "x.npy", y = "y.npy")' 4 4
run npy4 check "$tmp/npy4.hpt"
check "... on Dense(4): an error (5 classes)" "[ $(st npy4) -eq 1 ] && has npy4 'the labels in y.npy go up to 4 (5 classes)'"
spec npyn 'npy(x = "x.npy", y = "y5.npy", test_x = "none.npy", test_y = "y.npy")' 4 5
run npyn check "$tmp/npyn.hpt"
check "... 6 samples and 5 labels, and a missing test_x: both errors, each at its argument" \
    "[ $(st npyn) -eq 1 ] && has npyn '^$tmp/npyn.hpt:1:29: error: x.npy has 6 samples but y5.npy has 5 labels' && has npyn '^$tmp/npyn.hpt:1:48: error: .*none.npy: cannot open'"

# A CSV over DATA_PROBE_READ (64 MiB): its header is read, its labels are not
# counted (so 200 classes on Dense(10) go unsaid), and the check stays fast.
{ echo "a,b,c,d,e,f,g,h,label"; yes '0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,199' | head -n 1950000; } > "$tmp/huge.csv"
spec huge 'csv("huge.csv")' 8 10
t0=$(date +%s%N); run huge check "$tmp/huge.hpt"; t1=$(date +%s%N)
check "a 70 MB CSV: the header checked, the labels not counted ($(( (t1 - t0) / 1000000 )) ms)" \
    "[ $(st huge) -eq 0 ] && [ ! -s $tmp/huge.err ] && [ $(( (t1 - t0) / 1000000 )) -lt 5000 ]"
# What check does not count, the run still refuses: every trial fails
# naming the labels its output cannot produce (not "loss became NaN"), and
# the search, with no trial completed, exits 1.
sed "s|RandomSearch(objective = \"val_accuracy\", max_trials = 2)|RandomSearch(objective = \"val_accuracy\", max_trials = 2, directory = \"$tmp\", project_name = \"huge\")|" \
    "$tmp/huge.hpt" > "$tmp/hugerun.hpt"
run hugerun run "$tmp/hugerun.hpt" --limit 100
check "... and hptc run fails each trial naming the labels it cannot produce, then exits 1" \
    "[ $(st hugerun) -eq 1 ] && grep -q 'trial 0 failed: .*huge.csv: labels go up to 199, but the model has 10 outputs' $tmp/hugerun.out && ! grep -q NaN $tmp/hugerun.out && has hugerun 'no trial completed: the only one failed'"
rm -f "$tmp/huge.csv"

# A data file's header is quoted in messages: its control bytes are escaped.
printf 'f1,f\033]0;owned\007,species\n1,2,0\n3,4,1\n' > "$tmp/esc.csv"
spec esc 'csv("esc.csv", label = "specie")' 2 2
run esc check "$tmp/esc.hpt"
check "control bytes of a CSV's header are escaped in the message that lists its columns" \
    "[ $(st esc) -eq 1 ] && ! grep -q \"\$(printf '[\\001-\\010\\013-\\037\\177]')\" $tmp/esc.err && has esc \"'f\\\\\\\\x1b\\]0;owned\\\\\\\\x07'\""

# The commands that compile check the data too: run stops before it starts.
run runmissing run "$tmp/missing.hpt"
check "hptc run on a missing file stops at the check, before a project is made" \
    "[ $(st runmissing) -eq 1 ] && has runmissing '^$tmp/missing.hpt:1:12: error: .*nofile.csv: cannot open' && [ ! -e $tmp/untitled_project ] && [ ! -e untitled_project ]"
