#!/bin/sh
# The one test runner: for each build directory given (build, build-san) it runs
#   - every unit binary BUILD/tests/test_*   (lines "PASS: ..." / "FAIL: ...")
#   - every golden diagnostic  tests/diag/NAME.hpt  vs  tests/diag/NAME.expected
#     (stderr of 'hptc check', byte for byte, and exit status 1)
#   - every golden IR          tests/ir/NAME.hpt    vs  tests/ir/NAME.ir
#   - every script test        tests/cli/*.sh  (HPTC=BUILD/hptc; PASS/FAIL lines)
# and closes with "N passed, N failed"; it exits 1 when anything failed.
cd "$(dirname "$0")/.." || exit 2
pass=0 fail=0
out=$(mktemp -d) || exit 2
trap 'rm -rf "$out"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 NO_COLOR=1
export HPT_DATA="$PWD/tests/data"

ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "FAIL: $*"; }

count_lines() {   # $1 = label, $2 = exit status, $3 = output file
    p=$(grep -c '^PASS: ' "$3"); f=$(grep -c '^FAIL: ' "$3")
    pass=$((pass + p)); fail=$((fail + f))
    grep -A3 '^FAIL: ' "$3" | sed "s|^|  [$1] |"
    grep '^SKIP: ' "$3" | sed "s|^|  [$1] |"     # a test that could not run says so
    if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
        bad "$1 exited with status $2 without a FAIL line"; tail -20 "$3" | sed 's/^/    /'
    fi
}

# run_goldens BUILD COMMAND DIR: `BUILD/hptc COMMAND` on every DIR/*.hpt,
# nproc at a time, each file's output in $out/golden/NAME.out (check: its
# stderr, ir: both) and exit status in NAME.st.
run_goldens() {
    rm -rf "$out/golden" && mkdir "$out/golden"
    ls "$3"/*.hpt 2> /dev/null | xargs -r -P "$(nproc)" -I{} sh -c '
        name=$(basename "$1"); o=$2/golden/$name.out
        if [ "$4" = check ]; then timeout 20 "$3/hptc" check "$1" > /dev/null 2> "$o"
        else timeout 20 "$3/hptc" ir "$1" > "$o" 2>&1; fi
        echo $? > "$2/golden/$name.st"' sh {} "$out" "$1" "$2"
}
# golden SRC FILE: SRC's output from run_goldens in FILE, its exit status in
# st (99 when it left none).
golden() {
    cp "$out/golden/$(basename "$1").out" "$2" 2> /dev/null || : > "$2"
    st=$(cat "$out/golden/$(basename "$1").st" 2> /dev/null); st=${st:-99}
}

for b in "$@"; do
    [ -x "$b/hptc" ] || { bad "$b/hptc was not built"; continue; }
    echo "== $b"
    # The unit binaries and the goldens are independent of each other and of
    # time: each group runs on every core at once, then is counted in order.
    rm -rf "$out/unit" && mkdir "$out/unit"
    ls "$b"/tests/test_* 2> /dev/null | xargs -r -P "$(nproc)" -I{} sh -c '
        log=$2/unit/$(basename "$1"); timeout 600 "$1" > "$log" 2>&1; echo $? > "$log.st"' sh {} "$out"
    for t in "$b"/tests/test_*; do
        [ -x "$t" ] || continue
        st=$(cat "$out/unit/$(basename "$t").st" 2> /dev/null)
        count_lines "$b/$(basename "$t")" "${st:-99}" "$out/unit/$(basename "$t")"
    done
    run_goldens "$b" check tests/diag
    for src in tests/diag/*.hpt; do
        [ -f "$src" ] || continue
        exp="${src%.hpt}.expected"
        golden "$src" "$out/diag"
        want_st=1; grep -q 'warning:' "$exp" && ! grep -q 'error:' "$exp" && want_st=0
        if [ $st -ne $want_st ]; then bad "$src: exit status $st, want $want_st"
        elif ! cmp -s "$out/diag" "$exp"; then bad "$src: diagnostics differ"; diff "$exp" "$out/diag" | head -20 | sed 's/^/    /'
        else ok; fi
    done
    run_goldens "$b" ir tests/ir
    for src in tests/ir/*.hpt; do
        [ -f "$src" ] || continue
        golden "$src" "$out/ir"
        if [ $st -ne 0 ]; then bad "$src: hptc ir exited $st"; head "$out/ir" | sed 's/^/    /'
        elif ! cmp -s "$out/ir" "${src%.hpt}.ir"; then bad "$src: IR differs"; diff "${src%.hpt}.ir" "$out/ir" | head -20 | sed 's/^/    /'
        else ok; fi
    done
    for t in tests/cli/*.sh; do
        [ -f "$t" ] || continue
        HPTC="$PWD/$b/hptc" BUILD="$b" timeout 900 sh "$t" > "$out/log" 2>&1; st=$?
        count_lines "$b/$t" $st "$out/log"
    done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
