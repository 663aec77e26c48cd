#!/bin/sh
# The compiler from the command line: check on every example, stdin, --help and
# --version, unknown commands, inputs no golden file holds (1 MB specs, 1 MB of
# '(' or '-', NUL bytes, random bytes and token soup from a fixed seed, 2000
# hyperparameters, 150 nested ifs), and `hptc space` sizes counted by hand.
# Under the sanitizer build any ASan/UBSan report fails the test.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"
export NO_COLOR=1 OPENBLAS_NUM_THREADS=1
# run NAME ARGS...: hptc's stdout, stderr and status in $tmp/NAME.{out,err,st}
run() { n=$1; shift; "$HPTC" "$@" > "$tmp/$n.out" 2> "$tmp/$n.err"; echo $? > "$tmp/$n.st"; }
st() { cat "$tmp/$1.st"; }
clean() { ! grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/$1.err"; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- the examples, stdin, help
for f in examples/*.hpt; do
    run ex check "$f"
    check "check $f exits 0" "[ $(st ex) -eq 0 ] && clean ex"
    # The examples are written as Keras Tuner's users write them: nothing to warn about.
    check "check $f prints nothing (no warning on an example)" "[ ! -s $tmp/ex.err ]"
done
"$HPTC" check - < examples/fashion_mlp.hpt > /dev/null 2> "$tmp/in.err"; s=$?
check "check - reads the spec from stdin" "[ $s -eq 0 ]"
printf 'model {\n' | "$HPTC" check - > /dev/null 2> "$tmp/in2.err"; s=$?
check "errors on stdin are reported as <stdin>:LINE:COL" "[ $s -eq 1 ] && grep -q '^<stdin>:1:8: error: unexpected end of file' $tmp/in2.err"
run help --help
check "--help exits 0 and lists the commands" "[ $(st help) -eq 0 ] && grep -q '^usage: hptc COMMAND' $tmp/help.out && grep -q '^  check ' $tmp/help.out"
for c in check ir fmt space train run; do
    run chelp "$c" --help
    check "$c --help exits 0 with its usage" "[ $(st chelp) -eq 0 ] && grep -q '^usage: hptc $c' $tmp/chelp.out"
done
run version --version
check "--version exits 0 and names the IR version" "[ $(st version) -eq 0 ] && grep -q '^hptc [0-9.]* (IR version 2)' $tmp/version.out"
run unknown chek examples/fashion_mlp.hpt
check "an unknown command exits 2 with a suggestion" "[ $(st unknown) -eq 2 ] && grep -q \"did you mean 'check'\" $tmp/unknown.err"
run noarg check
check "check without a file is a usage error (2)" "[ $(st noarg) -eq 2 ] && grep -q '^usage: hptc check' $tmp/noarg.err"
run missing check "$tmp/no-such-file.hpt"
check "a missing file exits 1 with the reason" "[ $(st missing) -eq 1 ] && grep -q 'cannot open' $tmp/missing.err"

# ---- big and hostile inputs
awk 'BEGIN {
    pad = "# padding padding padding padding padding padding padding padding padding padding padding"
    print "data = datasets.fashion_mnist(scale = 1/255)"
    for (i = 0; i < 3000; i++) printf "w_%d = %d * 2 + %d %% 3    %s\n", i, 8 + i % 56, i, pad
    print "model {\n  Input(shape = [28, 28])\n  Flatten()"
    for (i = 0; i < 3000; i++) {
        printf "  Dense(units = w_%d, activation = \"relu\")    %s %s\n", i, pad, pad
        if (i % 100 == 0) printf "  if hp.Boolean(\"drop_%d\") {\n    Dropout(rate = hp.Float(\"rate_%d\", 0.0, 0.5, step = 0.1))\n  }\n", i, i
        if (i % 250 == 0) printf "  for k in range(hp.Int(\"extra_%d\", 0, 2)) {\n    Dense(units = 8 * (k + 1))\n  }\n", i
    }
    print "  Dense(10)\n}"
    print "compile(optimizer = Adam(learning_rate = hp.Float(\"lr\", 1e-4, 1e-2, sampling = \"log\")),"
    print "        loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])"
}' > "$tmp/big.hpt"
size=$(wc -c < "$tmp/big.hpt")
t0=$(ms); run big check "$tmp/big.hpt"; t1=$(ms)
check "a generated $size-byte spec (3057 layers, 73 hyperparameters) checks clean in $((t1 - t0)) ms" \
    "[ $size -ge 1000000 ] && [ $(st big) -eq 0 ] && [ ! -s $tmp/big.err ] && [ $((t1 - t0)) -lt 10000 ]"
run bigir ir "$tmp/big.hpt"
check "its IR has every layer" "[ $(st bigir) -eq 0 ] && grep -q '^; spec [0-9a-f]*, 73 hyperparameters, 3057 layers' $tmp/bigir.out"

head -c 1048576 /dev/zero | tr '\0' '(' > "$tmp/paren.hpt"
{ printf 'x = '; cat "$tmp/paren.hpt"; } > "$tmp/paren2.hpt"
head -c 1048576 /dev/zero | tr '\0' '-' > "$tmp/minus.hpt"
{ printf 'x = '; cat "$tmp/minus.hpt"; printf '1\n'; } > "$tmp/minus2.hpt"
for f in paren paren2 minus minus2; do
    run "$f" check "$tmp/$f.hpt"
    case $f in paren) what="1 MB of '('";; paren2) what="x = and 1 MB of '('";;
               minus) what="1 MB of '-'";; minus2) what="x = 1 MB of '-' then 1";; esac
    check "$what fails cleanly with exit 1" \
        "[ $(st $f) -eq 1 ] && clean $f && grep -q 'error generated\|errors generated' $tmp/$f.err"
done
check "... and nesting is said in the user's terms" \
    "grep -q 'nested more than 200 deep' $tmp/paren2.err && grep -q 'expression nested too deeply' $tmp/minus2.err"

# No diagnostic writes a raw control byte: not from the source line, a string or the file's name.
esc=$(printf '\033')
printf 'data = datasets.fashion_mnist(scale = 1/255)\nmodel {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(10, activation = "\033]0;owned\007relu")  # \033[2J\n}\n' > "$tmp/ctl${esc}[31m.hpt"
run ctl check "$tmp/ctl${esc}[31m.hpt"
check "control bytes in the source, a string and the file name are escaped in diagnostics" \
    "[ $(st ctl) -eq 1 ] && ! grep -q \"\$(printf '[\\001-\\010\\013-\\037\\177]')\" $tmp/ctl.err && grep -q 'ctl\\\\x1b\\[31m.hpt:5:27: error: control character 0x1B in a string' $tmp/ctl.err && grep -q '# \\\\x1b\\[2J' $tmp/ctl.err"

printf 'data = datasets.fashion_mnist(scale = 1/255)\nmodel {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(10)\000\000\n}\n' > "$tmp/nul.hpt"
run nul check "$tmp/nul.hpt"
check "NUL bytes are reported (once per byte, position exact)" \
    "[ $(st nul) -eq 1 ] && clean nul && [ \$(grep -c '^$tmp/nul.hpt:5:1[23]: error: unexpected byte 0x00' $tmp/nul.err) -eq 2 ]"

# Random bytes from a linear congruential generator (x = 75x + 74 mod 65537),
# so every run, every awk and every machine sees the same files.
lcg_bytes() {   # seed count
    awk -v seed="$1" -v n="$2" 'BEGIN { x = seed; for (i = 0; i < n; i++) { x = (x * 75 + 74) % 65537; printf "\\%03o", x % 256 } }'
}
bad=0
for seed in 1 2 3 4 5 6 7 8; do
    printf "$(lcg_bytes $seed 8192)" > "$tmp/random$seed.hpt"
    run rnd check "$tmp/random$seed.hpt"
    [ "$(st rnd)" -eq 1 ] && clean rnd || { bad=$((bad + 1)); echo "  random$seed: status $(st rnd)"; tail -3 "$tmp/rnd.err"; }
done
check "8 files of 8 KiB of random bytes (fixed seeds) each fail cleanly with exit 1" "[ $bad -eq 0 ] && [ \$(wc -c < $tmp/random1.hpt) -eq 8192 ]"

# Token soup: the language's own tokens in random order, which gets much
# further into the parser and sema than random bytes do.
bad=0
for seed in 11 12 13 14 15 16 17 18; do
    awk -v seed="$seed" 'BEGIN {
        n = split("model { } ( ) [ ] , = == < >= + - * / // % ** . : for in if elif else and or not True None " \
                  "hp.Int hp.Float hp.Choice hp.Boolean hp.Fixed range Dense Conv2D Flatten Input Dropout " \
                  "MaxPooling2D compile search tuner data Hyperband units shape \"relu\" \"x\" f\"u_{i}\" i " \
                  "0 1 2 3 28 0.5 1e-3 10 \"val_loss\" datasets.fashion_mnist # \n", tok, " ")
        x = seed
        for (i = 0; i < 2000; i++) { x = (x * 75 + 74) % 65537; printf "%s ", tok[1 + x % n]; if (x % 7 == 0) printf "\n" }
    }' > "$tmp/soup$seed.hpt"
    run soup check "$tmp/soup$seed.hpt"
    s=$(st soup)
    { [ "$s" -eq 0 ] || [ "$s" -eq 1 ]; } && clean soup || { bad=$((bad + 1)); echo "  soup$seed: status $s"; tail -3 "$tmp/soup.err"; }
done
check "8 token soups (fixed seeds) are checked without a crash" "[ $bad -eq 0 ]"

# A layer that could not be lowered beside a constant's hyperparameter that is
# never used: dropping the unused one walked the broken layer's arguments
# (a null dereference found by bench/fuzz_front.c).
cat > "$tmp/broken.hpt" <<'SPEC'
data = datasets.fashion_mnist(scale = 1/255)
width = hp.Int("width", 32, 128, step = 32)
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(10True)
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
SPEC
run broken check "$tmp/broken.hpt"
check "a broken layer beside an unused hyperparameter: its error, no crash" \
    "[ $(st broken) -eq 1 ] && clean broken && grep -q \"6:9: error: bad number '10True'\" $tmp/broken.err"

# A 100 KB line of UTF-8 continuation bytes with the error at its end: the
# echoed line is cut to a window around the caret (was a buffer overflow
# found by bench/fuzz_front.c).
{ printf 'x = 1\n  Flatten'; printf "$(awk 'BEGIN { for (i = 0; i < 3000; i++) printf "\\200" }')"; printf ' $\n'; } > "$tmp/cont.hpt"
run cont check "$tmp/cont.hpt"
check "a long line of stray UTF-8 bytes is echoed as a window" \
    "[ $(st cont) -eq 1 ] && clean cont && [ \$(awk 'length > 200' $tmp/cont.err | wc -l) -eq 0 ]"

awk 'BEGIN {
    print "data = datasets.fashion_mnist(scale = 1/255)\nmodel {\n  Input(shape = [28, 28])\n  Flatten()"
    for (i = 0; i < 1000; i++)
        printf "  Dense(units = hp.Int(\"units_%d\", 16, 64, step = 16), activation = hp.Choice(\"act_%d\", [\"relu\", \"tanh\"]))\n", i, i
    print "  Dense(10)\n}"
    print "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])"
}' > "$tmp/hps.hpt"
t0=$(ms); run hps check "$tmp/hps.hpt"; t1=$(ms)
check "2000 hyperparameters check clean in $((t1 - t0)) ms" "[ $(st hps) -eq 0 ] && [ ! -s $tmp/hps.err ] && [ $((t1 - t0)) -lt 10000 ]"
run hpsir ir "$tmp/hps.hpt"
check "... and all 2000 are in the IR" "grep -q '^; spec [0-9a-f]*, 2000 hyperparameters, 1003 layers' $tmp/hpsir.out"
run hpsspace space "$tmp/hps.hpt"
check "... and the space has 4^1000 x 2^1000 configurations" "grep -q '^size: more than 1e18 configurations' $tmp/hpsspace.out"

awk 'BEGIN {
    print "data = datasets.fashion_mnist(scale = 1/255)\nmodel {\n  Input(shape = [28, 28])\n  Flatten()"
    for (i = 1; i <= 150; i++) printf "  if hp.Boolean(\"b%d\") {\n  Dense(units = hp.Int(\"u%d\", 16, 64, step = 16))\n", i, i
    for (i = 1; i <= 150; i++) printf "  }\n"
    printf "  Dense(units = "
    for (i = 1; i <= 150; i++) printf "("
    printf "10"
    for (i = 1; i <= 150; i++) printf ")"
    print ")\n}"
    print "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])"
}' > "$tmp/deep.hpt"
t0=$(ms); run deep check "$tmp/deep.hpt"; t1=$(ms)
check "150 nested ifs and 150 nested parentheses check clean in $((t1 - t0)) ms" \
    "[ $(st deep) -eq 0 ] && [ ! -s $tmp/deep.err ] && [ $((t1 - t0)) -lt 20000 ]"
run deepspace space "$tmp/deep.hpt"
check "... and its space (1 + 4(1 + 4(1 + ...)) configurations) is counted" \
    "[ $(st deepspace) -eq 0 ] && grep -q '^size: more than 1e18 configurations' $tmp/deepspace.out"

# ---- sizes of spaces, counted by hand
run seed space examples/fashion_mlp.hpt
check "space on the seed: 32 units x 3 learning rates = 96 configurations" "grep -q '^size: 96 configurations$' $tmp/seed.out"
check "space on the seed: Hyperband's plan, 30 trials and 120 epochs" \
    "grep -q '30 trials, 120 epochs in all' $tmp/seed.out && grep -q 'bracket 2: 12 trials x 2 epochs -> 4 trials x 4 epochs -> 2 trials x 10 epochs' $tmp/seed.out"
run nas space examples/nas.hpt
check "space on nas.hpt: a continuous learning rate makes it infinite" "grep -q '^size: infinite' $tmp/nas.out"
check "space on nas.hpt: units_2 only when num_layers > 2" "grep -q 'units_2 .*; only when num_layers > 2$' $tmp/nas.out"
run cnn space examples/fashion_cnn.hpt
check "space on fashion_cnn.hpt: 2 x 2 x 4 x 2 = 32 configurations" "grep -q '^size: 32 configurations$' $tmp/cnn.out"
# Each tuner's plan (its oracle prints it), byte for byte: BOHB from its own
# arguments, repeated brackets, executions per trial, a grid cut by
# max_trials, a space smaller than max_trials.
# plan NAME EXAMPLE SED: hptc space on EXAMPLE edited by SED, from the tuner line on.
plan() { sed "$3" "examples/$2" > "$tmp/$1.hpt"; run "$1" space "$tmp/$1.hpt"; sed -n '/^tuner /,$p' "$tmp/$1.out" > "$tmp/$1.plan"; }
plan bohbplan bohb.hpt 's/tuner = BOHB(/tuner = BOHB(hyperband_iterations = 2, executions_per_trial = 3, /'
cat > "$tmp/bohbplan.want" <<'PLAN'
tuner BOHB, objective val_accuracy
  bracket 2: 9 trials x 1 epoch -> 3 trials x 3 epochs -> 1 trial x 9 epochs
  bracket 1: 5 trials x 3 epochs -> 2 trials x 9 epochs
  bracket 0: 3 trials x 9 epochs
  46 trials, 150 epochs in all (promoted trials continue from their parent's weights)
  the brackets above run 2 times
  under BOHB the tuner, not search(epochs), sets each trial's epochs, as in Keras Tuner
  each trial trains 3 times; its score is the mean
PLAN
check "space: BOHB's plan, 2 iterations of its brackets, 3 executions per trial" "cmp -s $tmp/bohbplan.plan $tmp/bohbplan.want"
plan hbplan fashion_mlp.hpt 's/max_epochs = 10, factor = 3,/max_epochs = 27, factor = 2, hyperband_iterations = 3,/'
cat > "$tmp/hbplan.want" <<'PLAN'
tuner Hyperband, objective val_accuracy
  bracket 4: 20 trials x 2 epochs -> 10 trials x 4 epochs -> 5 trials x 7 epochs -> 3 trials x 14 epochs -> 2 trials x 27 epochs
  bracket 3: 12 trials x 4 epochs -> 6 trials x 7 epochs -> 3 trials x 14 epochs -> 2 trials x 27 epochs
  bracket 2: 8 trials x 7 epochs -> 4 trials x 14 epochs -> 2 trials x 27 epochs
  bracket 1: 6 trials x 14 epochs -> 3 trials x 27 epochs
  bracket 0: 6 trials x 27 epochs
  276 trials, 1890 epochs in all (promoted trials continue from their parent's weights)
  the brackets above run 3 times
  under Hyperband the tuner, not search(epochs), sets each trial's epochs, as in Keras Tuner
PLAN
check "space: Hyperband's plan with max_epochs 27, factor 2, 3 iterations" "cmp -s $tmp/hbplan.plan $tmp/hbplan.want"
plan gridplan grid.hpt 's/tuner = GridSearch(/tuner = GridSearch(max_trials = 3, executions_per_trial = 2, /'
printf 'tuner GridSearch, objective val_accuracy\n  12 grid points, at most 3 trials, 3 epochs each\n  each trial trains 2 times; its score is the mean\n' > "$tmp/gridplan.want"
check "space: GridSearch's plan, cut by max_trials" "cmp -s $tmp/gridplan.plan $tmp/gridplan.want"
plan bayesplan fashion_cnn.hpt 's/max_trials = 8,/max_trials = 1000000,/'
printf 'tuner BayesianOptimization, objective val_accuracy\n  32 trials of up to 10 epochs each (the space has only 32 configurations)\n' > "$tmp/bayesplan.want"
check "space: BayesianOptimization's plan, no more trials than configurations" "cmp -s $tmp/bayesplan.plan $tmp/bayesplan.want"
plan tpeplan tpe.hpt 's/max_trials = 30,/max_trials = 2,/'
printf 'tuner TPE, objective val_accuracy\n  2 trials of up to 5 epochs each\n' > "$tmp/tpeplan.want"
check "space: TPE's plan" "cmp -s $tmp/tpeplan.plan $tmp/tpeplan.want"
cat > "$tmp/cond.hpt" <<'SPEC'
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  for i in range(hp.Int("num_layers", 1, 3)) {
    Dense(units = hp.Choice(f"units_{i}", [16, 32]), activation = "relu")
  }
  if hp.Boolean("dropout") {
    Dropout(0.25)
  }
  Dense(10)
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = GridSearch(objective = "val_loss")
search(validation_split = 0.2)
SPEC
run cond space "$tmp/cond.hpt"
check "a conditional space: (2 + 4 + 8) x 2 = 28 configurations" "grep -q '^size: 28 configurations$' $tmp/cond.out"
check "... which GridSearch walks in full" "grep -q '28 grid points' $tmp/cond.out"
cat > "$tmp/cond2.hpt" <<'SPEC'
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  if hp.Choice("arch", ["a", "b", "c"]) == "a" {
    for i in range(hp.Int("n", 1, 2)) {
      Dense(units = hp.Choice(f"u{i}", [16, 32, 64]))
      if hp.Boolean(f"d{i}") {
        Dropout(hp.Choice(f"r{i}", [0.1, 0.2]))
      }
    }
  } elif hp.Choice("arch", ["a", "b", "c"]) == "b" {
    Dense(hp.Int("w", 8, 64, step = 8))
  }
  Dense(10)
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
SPEC
run cond2 space "$tmp/cond2.hpt"
check "nested conditions: a: 9 + 9^2, b: 8, c: 1, so 99 configurations" "grep -q '^size: 99 configurations$' $tmp/cond2.out"
awk 'BEGIN {
    print "data = datasets.fashion_mnist(scale = 1/255)\nmodel {\n  Input(shape = [28, 28])\n  Flatten()"
    for (i = 0; i < 40; i++) printf "  if hp.Boolean(\"b%d\") {\n    Dense(hp.Choice(\"u%d\", [8, 16]))\n  }\n", i, i
    print "  Dense(10)\n}"
    print "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\")"
}' > "$tmp/indep.hpt"
run indep space "$tmp/indep.hpt"
check "40 independent optional layers: 3^40 = 12157665459056928801 > 1e18, counted at once" \
    "grep -q '^size: more than 1e18 configurations' $tmp/indep.out"
awk 'BEGIN {
    print "data = datasets.fashion_mnist(scale = 1/255)\nmodel {\n  Input(shape = [28, 28])\n  Flatten()"
    for (i = 0; i < 30; i++) printf "  if hp.Boolean(\"b%d\") {\n    Dense(hp.Choice(\"u%d\", [8, 16]))\n  }\n", i, i
    print "  Dense(10)\n}"
    print "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\")"
}' > "$tmp/indep30.hpt"
run indep30 space "$tmp/indep30.hpt"
check "30 independent optional layers: 3^30 = 205891132094649 configurations" \
    "grep -q '^size: 205891132094649 configurations$' $tmp/indep30.out"

# One hyperparameter used in 140 unrolled layers under 140 different guards:
# later iterations' guards imply the first's, so its condition stays "c > 0"
# (it was an ever-growing disjunction, quadratic: a fuzzer timeout).
guards() {  # a_max b_max c_max
    cat <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  for a in range(hp.Int("a", 1, $1)) {
    for b in range(hp.Int("b", 1, $2)) {
      for c in range(hp.Int("c", 0, $3)) {
        Dense(units = hp.Int("u", 8, 64, step = 8))
      }
    }
  }
  Dense(10)
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
SPEC
}
guards 5 4 7 > "$tmp/guards.hpt"
t0=$(ms); run guards space "$tmp/guards.hpt"; t1=$(ms)
check "a hyperparameter reused under 140 loop guards is active when c > 0 ($((t1 - t0)) ms)" \
    "[ $(st guards) -eq 0 ] && grep -q '^  u  .*; only when c > 0$' $tmp/guards.out && [ $((t1 - t0)) -lt 10000 ]"
check "... and the space is 5 x 4 x (1 + 7 x 8) = 1140 configurations" "grep -q '^size: 1140 configurations$' $tmp/guards.out"
run guardsc check "$tmp/guards.hpt"
check "... and its shapes are checked in full, without a warning" "[ $(st guardsc) -eq 0 ] && [ ! -s $tmp/guardsc.err ]"
# With 1000 layers and 8800 combinations of the four hyperparameters that
# decide them, checking every shape takes ~9 million steps: the check stops
# at a million, says so, and has checked the default trial first.
guards 10 10 10 > "$tmp/guards2.hpt"
t0=$(ms); run guards2 check "$tmp/guards2.hpt"; t1=$(ms)
check "a space too big to walk in full is checked in part, with a warning ($((t1 - t0)) ms)" \
    "[ $(st guards2) -eq 0 ] && clean guards2 && grep -q 'warning: shapes were checked on part of the search space only, the default trial included' $tmp/guards2.err"

# ---- hp.Int at the ends of int64: exact values, no overflow (the oracles'
# draws are tested in tests/unit/test_oracle.c)
cat > "$tmp/int64.hpt" <<'SPEC'
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  if hp.Int("x", -9223372036854775807, 9223372036854775807, step = 9223372036854775807) > 0 {
    Dense(16)
  }
  Dense(10)
}
compile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = GridSearch(objective = "val_accuracy")
search(epochs = 1, validation_split = 0.2)
SPEC
run int64 check "$tmp/int64.hpt"
check "x in -M .. M step M: its condition x > 0 holds for x = M (no 'never true' warning)" "[ $(st int64) -eq 0 ] && clean int64 && [ ! -s $tmp/int64.err ]"
run int64s space "$tmp/int64.hpt"
check "... and hptc space counts its 3 values" "[ $(st int64s) -eq 0 ] && clean int64s && grep -q '^  x .*, 3 values; default -9223372036854775807$' $tmp/int64s.out && grep -q '^size: 3 configurations$' $tmp/int64s.out"

# ---- nothing worse than linear (bench/check_big.sh times every kind): each
# of these took minutes before (constants in a list searched by name, a
# Choice's repeats found pairwise, line numbers counted from the file's start)
awk 'BEGIN { print "data = datasets.fashion_mnist(scale = 1/255)"; print "c_0 = 16"
    for (i = 1; i < 100000; i++) printf "c_%d = c_%d + %d %% 2\n", i, i - 1, i
    print "model {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(units = c_99999 % 64 + 1)\n  Dense(10)\n}"
    print "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])" }' > "$tmp/c100k.hpt"
t0=$(ms); run c100k check "$tmp/c100k.hpt"; t1=$(ms)
check "100,000 constants check clean in $((t1 - t0)) ms (target 1 s on an idle machine, optimised build)" \
    "[ $(st c100k) -eq 0 ] && clean c100k && [ ! -s $tmp/c100k.err ] && [ $((t1 - t0)) -lt 10000 ]"
awk 'BEGIN { print "data = datasets.fashion_mnist(scale = 1/255)"; for (i = 0; i < 100000; i++) printf "unused_%d = %d\n", i, i
    print "model {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(10)\n}"
    print "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])" }' > "$tmp/unused.hpt"
t0=$(ms); run unused check "$tmp/unused.hpt"; t1=$(ms)
check "100,000 unused constants: 100 warnings shown, then one line says the rest are not ($((t1 - t0)) ms)" \
    "[ $(st unused) -eq 0 ] && clean unused && [ \$(grep -c 'warning: .unused_[0-9]*. is assigned but never used' $tmp/unused.err) -eq 100 ] && grep -q 'too many warnings; not showing more' $tmp/unused.err && [ $((t1 - t0)) -lt 10000 ]"
awk 'BEGIN { print "data = datasets.fashion_mnist(scale = 1/255)\nmodel {\n  Input(shape = [28, 28])\n  Flatten()"
    for (i = 0; i < 200000; i++) print "  Dropot(0.2)"
    print "  Dense(10)\n}" }' > "$tmp/errors.hpt"
t0=$(ms); run errors check "$tmp/errors.hpt"; t1=$(ms)
check "200,000 misspelt layers: 100 errors, then the check stops ($((t1 - t0)) ms)" \
    "[ $(st errors) -eq 1 ] && clean errors && [ \$(grep -c 'error: unknown layer' $tmp/errors.err) -eq 100 ] && grep -q 'too many errors; stopping here' $tmp/errors.err && [ $((t1 - t0)) -lt 10000 ]"
awk 'BEGIN { print "data = datasets.fashion_mnist(scale = 1/255)\nmodel {\n  Input(shape = [28, 28])\n  Flatten()"
    printf "  Dense(units = hp.Choice(\"units\", [1"; for (i = 2; i <= 300000; i++) printf ", %d", i; print "]))\n  Dense(10)\n}"
    print "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])" }' > "$tmp/choice.hpt"
t0=$(ms); run choice check "$tmp/choice.hpt"; t1=$(ms)
check "an hp.Choice of 300,000 values checks clean in $((t1 - t0)) ms" "[ $(st choice) -eq 0 ] && clean choice && [ $((t1 - t0)) -lt 10000 ]"
head -c 9000000 /dev/zero | tr '\0' '#' > "$tmp/huge.hpt"
run huge check "$tmp/huge.hpt"
check "a spec over 8 MiB is refused with the limit said" \
    "[ $(st huge) -eq 1 ] && clean huge && grep -q 'error: the spec is 8.6 MiB, more than the 8 MiB a spec may be' $tmp/huge.err"
