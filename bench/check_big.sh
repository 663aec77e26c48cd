#!/bin/sh
# check_big.sh: `hptc check` on generated specs of one kind each, to find
# anything worse than linear in the compiler.  Usage:
#   sh bench/check_big.sh [MB] [KIND...]
# MB is each spec's size (default 50); the kinds (default all):
#   constants100k  100,000 constants and a model using the last (target < 1 s)
#   constants      MB of constants, each defined from the one before
#   unused         MB of constants never used (one warning each)
#   layers         MB of Dense layers (past 20,000 the model is refused)
#   hps            MB of layers each with its own hp.Int
#   choice         one hp.Choice of MB worth of values
#   list           one constant list of MB worth of numbers
#   expression     one expression 1 + 1 + ... of MB (refused: nesting)
#   nesting        MB of ifs nested 150 deep, each on its own hp.Boolean
#   loops          MB of for loops
#   errors         MB of misspelt layers (one error each; printing stops at 100)
#   string         one string constant of MB
#   comments       MB of comment lines
# Prints "check_big KIND BYTES MS STATUS  # cpu MS" per kind: wall time, hptc's
# exit status (0 clean, 1 errors reported; a run over 10 s is stopped: 124)
# and user + system CPU time (wall time on a shared machine includes waiting).
# Specs are at most 8 MiB (COMPILE_MAX_SPEC_BYTES): MB = 8 measures each kind
# just under the limit, a larger MB the limit's error.
# Target: every kind under 10 s (or a clear limit error), constants100k < 1 s.
cd "$(dirname "$0")/.." || exit 2
: "${HPTC:=build/hptc}"
export OPENBLAS_NUM_THREADS=1
mb=${1:-50}
[ $# -gt 0 ] && shift
kinds=${*:-"constants100k constants unused layers hps choice list expression nesting loops errors string comments"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bytes=$((mb * 1048576 - 8192))    # room for the lines around the body: 8 is just under the 8 MiB limit

head_lines='data = datasets.fashion_mnist(scale = 1/255)'
tail_lines='compile(optimizer = "adam", loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_accuracy", max_trials = 2)
search(epochs = 1, validation_split = 0.2)'

gen() {     # KIND: the spec on stdout
    case $1 in
    constants100k) awk -v head="$head_lines" -v tail="$tail_lines" 'BEGIN {
        print head; print "c_0 = 16"
        for (i = 1; i < 100000; i++) printf "c_%d = c_%d + %d %% 2\n", i, i - 1, i
        print "model {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(units = c_99999 % 64 + 1)\n  Dense(10)\n}"
        print tail }' ;;
    constants) awk -v head="$head_lines" -v tail="$tail_lines" -v bytes="$bytes" 'BEGIN {
        print head; print "c_0 = 16"; n = 0
        for (i = 1; n < bytes; i++) { s = sprintf("c_%d = c_%d + %d %% 2\n", i, i - 1, i); printf "%s", s; n += length(s) }
        printf "model {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(units = c_%d %% 64 + 1)\n  Dense(10)\n}\n", i - 1
        print tail }' ;;
    unused) awk -v head="$head_lines" -v tail="$tail_lines" -v bytes="$bytes" 'BEGIN {
        print head; n = 0
        for (i = 0; n < bytes; i++) { s = sprintf("unused_%d = %d\n", i, i); printf "%s", s; n += length(s) }
        print "model {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(10)\n}"; print tail }' ;;
    layers) awk -v head="$head_lines" -v tail="$tail_lines" -v bytes="$bytes" 'BEGIN {
        print head; print "model {\n  Input(shape = [28, 28])\n  Flatten()"; n = 0
        while (n < bytes) { s = "  Dense(units = 8, activation = \"relu\")\n"; printf "%s", s; n += length(s) }
        print "  Dense(10)\n}"; print tail }' ;;
    hps) awk -v head="$head_lines" -v tail="$tail_lines" -v bytes="$bytes" 'BEGIN {
        print head; print "model {\n  Input(shape = [28, 28])\n  Flatten()"; n = 0
        for (i = 0; n < bytes; i++) { s = sprintf("  Dense(units = hp.Int(\"u_%d\", 1, 64))\n", i); printf "%s", s; n += length(s) }
        print "  Dense(10)\n}"; print tail }' ;;
    choice) awk -v head="$head_lines" -v tail="$tail_lines" -v bytes="$bytes" 'BEGIN {
        print head; print "model {\n  Input(shape = [28, 28])\n  Flatten()"; printf "  Dense(units = hp.Choice(\"units\", [1"; n = 0
        for (i = 2; n < bytes; i++) { s = sprintf(", %d", i); printf "%s", s; n += length(s) }
        print "]))\n  Dense(10)\n}"; print tail }' ;;
    list) awk -v head="$head_lines" -v tail="$tail_lines" -v bytes="$bytes" 'BEGIN {
        print head; printf "sizes = [1"; n = 0
        for (i = 2; n < bytes; i++) { s = sprintf(", %d", i); printf "%s", s; n += length(s) }
        print "]\nmodel {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(10)\n}"; print tail }' ;;
    expression) awk -v head="$head_lines" -v tail="$tail_lines" -v bytes="$bytes" 'BEGIN {
        print head; printf "width = 1"; n = 0
        while (n < bytes) { printf " + 1"; n += 4 }
        print "\nmodel {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(units = width)\n  Dense(10)\n}"; print tail }' ;;
    nesting) awk -v head="$head_lines" -v tail="$tail_lines" -v bytes="$bytes" 'BEGIN {
        print head; print "model {\n  Input(shape = [28, 28])\n  Flatten()"; n = 0
        for (b = 0; n < bytes; b++) {
            for (d = 0; d < 150; d++) { s = sprintf("if hp.Boolean(\"b_%d_%d\") {\n", b, d); printf "%s", s; n += length(s) }
            print "Dense(8)"
            for (d = 0; d < 150; d++) print "}"
            n += 309
        }
        print "  Dense(10)\n}"; print tail }' ;;
    loops) awk -v head="$head_lines" -v tail="$tail_lines" -v bytes="$bytes" 'BEGIN {
        print head; print "model {\n  Input(shape = [28, 28])\n  Flatten()"; n = 0
        while (n < bytes) { s = "  for i in range(2) { Dense(8) }\n"; printf "%s", s; n += length(s) }
        print "  Dense(10)\n}"; print tail }' ;;
    errors) awk -v head="$head_lines" -v tail="$tail_lines" -v bytes="$bytes" 'BEGIN {
        print head; print "model {\n  Input(shape = [28, 28])\n  Flatten()"; n = 0
        while (n < bytes) { s = "  Dropot(0.2)\n"; printf "%s", s; n += length(s) }
        print "  Dense(10)\n}"; print tail }' ;;
    string) awk -v head="$head_lines" -v tail="$tail_lines" -v bytes="$bytes" 'BEGIN {
        print head; printf "note = \""; n = 0
        while (n < bytes) { printf "abcdefghijklmnopqrstuvwxyz012345"; n += 32 }
        print "\"\nmodel {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(10)\n}"; print tail }' ;;
    comments) awk -v head="$head_lines" -v tail="$tail_lines" -v bytes="$bytes" 'BEGIN {
        print head; n = 0
        while (n < bytes) { s = "# a comment line, kept by the lexer for hptc fmt\n"; printf "%s", s; n += length(s) }
        print "model {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(10)\n}"; print tail }' ;;
    *) echo "check_big: unknown kind $1" >&2; return 2 ;;
    esac
}

status=0
for k in $kinds; do
    gen "$k" > "$tmp/$k.hpt" || { status=2; continue; }
    size=$(wc -c < "$tmp/$k.hpt")
    t0=$(date +%s%N)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%U %S' -o "$tmp/cpu" timeout 10 "$HPTC" check "$tmp/$k.hpt" > /dev/null 2> "$tmp/$k.err"; st=$?
    else
        timeout 10 "$HPTC" check "$tmp/$k.hpt" > /dev/null 2> "$tmp/$k.err"; st=$?; echo "0 0" > "$tmp/cpu"
    fi
    t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000000 ))
    cpu=$(awk 'END { printf "%d", ($1 + $2) * 1000 }' "$tmp/cpu")
    echo "check_big $k $size $ms $st    # cpu ${cpu} ms"
    [ "$st" -eq 124 ] && status=1
    [ "$k" = constants100k ] && [ "$ms" -ge 1000 ] && status=1
    grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/$k.err" && { echo "check_big: $k: sanitizer report" >&2; status=1; }
    [ -n "$CHECK_BIG_SHOW" ] && head -c 2000 "$tmp/$k.err"
    rm -f "$tmp/$k.hpt"
done
exit $status
