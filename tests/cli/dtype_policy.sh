#!/bin/sh
# The dtype policy (Keras's "float32" / "mixed_bfloat16") from the spec to the
# store: compile(dtype_policy = ...) is checked and kept by fmt; --dtype-policy
# on train, eval and run overrides it; every trial's policy is recorded (also
# under --jobs 2, and read as float32 from a store older than the column); a
# resume under another policy is refused naming both; a CPU without bf16
# (ONEDNN_MAX_CPU_ISA=AVX512_CORE makes one of a bf16 CPU) is refused before
# anything trains; summary, best, exported weights show the policy.
# Checks that train under mixed_bfloat16 skip, with a SKIP line, on a CPU
# without bf16.  Numerics of bf16 are not asserted here.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

# Does oneDNN run bf16 here?  `hptc --version` says.
bf16=0
"$HPTC" --version | grep -q '^mixed_bfloat16: yes' && bf16=1
[ $bf16 = 1 ] || echo "SKIP: tests/cli/dtype_policy.sh: this CPU has no bf16 (hptc --version), so nothing trains under mixed_bfloat16; the float32 and refusal checks still run"

# spec DIR POLICY_EXPR [TUNER]: the shared small MLP, compile(dtype_policy = POLICY_EXPR).
spec() {
    mlp_spec "${3:-RandomSearch(objective = \"val_accuracy\", max_trials = 2, directory = \"$1\", project_name = \"p\", seed = 1)}" \
             "search(epochs = 1, validation_split = 0.2, batch_size = 32)" |
        sed "s|metrics = \[\"accuracy\"\])|metrics = [\"accuracy\"], dtype_policy = $2)|"
}
# policies DIR: each trial's dtype_policy in id order, one line.
policies() { "$HPTC" summary "$1/p" --json | sed -n 's/.*"dtype_policy": "\([a-z0-9_]*\)".*/\1/p' | tr '\n' ' '; }
meta() { sqlite3 "$1/p/hptc.db" "SELECT value FROM meta WHERE key = '$2'"; }
choice='hp.Choice("policy", ["float32", "mixed_bfloat16"])'
grid="GridSearch(objective = \"val_accuracy\", directory = \"DIR\", project_name = \"p\", seed = 1)"

# ---- the spec form ----------------------------------------------------------
spec "$tmp/s" '"mixed_bfloat16"' > "$tmp/s.hpt"
"$HPTC" check "$tmp/s.hpt" > "$tmp/check" 2>&1; st=$?
check "compile(dtype_policy = \"mixed_bfloat16\") is accepted" "[ $st -eq 0 ]"
"$HPTC" fmt "$tmp/s.hpt" > "$tmp/fmt" 2>&1
check "hptc fmt keeps dtype_policy" "grep -q 'dtype_policy = \"mixed_bfloat16\")' $tmp/fmt"
"$HPTC" ir "$tmp/s.hpt" > "$tmp/ir" 2>&1
check "the IR's compile call holds it" "grep -q '^compile(.*dtype_policy = \"mixed_bfloat16\")' $tmp/ir"
spec "$tmp/c" "$choice" > "$tmp/c.hpt"
"$HPTC" check "$tmp/c.hpt" > "$tmp/check" 2>&1; st=$?
check "dtype_policy may be a hyperparameter (hp.Choice of the two)" "[ $st -eq 0 ]"

spec "$tmp/b" '"bfloat16"' > "$tmp/bad.hpt"
"$HPTC" check "$tmp/bad.hpt" > "$tmp/bad" 2>&1; st=$?
line=$(grep -n 'dtype_policy = "bfloat16"' "$tmp/bad.hpt" | cut -d: -f1)
check "a wrong value is a located error, with both values and a hint (exit $st)" \
    "[ $st -eq 1 ] && grep -q \"^$tmp/bad.hpt:$line:[0-9]*: error: compile argument 'dtype_policy' must be one of float32|mixed_bfloat16, not \\\"bfloat16\\\"\" $tmp/bad &&
     grep -q '\^~~~' $tmp/bad && grep -q '= hint: .*\"float32\", or \"mixed_bfloat16\"' $tmp/bad"
spec "$tmp/b" 'hp.Choice("policy", ["float32", "mixed_float16"])' > "$tmp/badhp.hpt"
"$HPTC" check "$tmp/badhp.hpt" > "$tmp/bad" 2>&1; st=$?
check "a wrong value among a hyperparameter's is an error naming it" \
    "[ $st -eq 1 ] && grep -q \"not \\\"mixed_float16\\\" when 'policy' = \\\"mixed_float16\\\"\" $tmp/bad"
"$HPTC" run "$tmp/s.hpt" --dtype-policy fp16 > "$tmp/bad" 2>&1; st=$?
check "--dtype-policy takes float32 or mixed_bfloat16 only (usage error)" "[ $st -eq 2 ] && grep -q 'float32|mixed_bfloat16' $tmp/bad"
for cmd in train run; do
    "$HPTC" $cmd --help > "$tmp/help" 2>&1
    check "hptc $cmd --help explains --dtype-policy" "grep -q -- '--dtype-policy float32|mixed_bfloat16' $tmp/help && grep -q 'bfloat16' $tmp/help"
done

# ---- the flag overrides the spec; the store records each trial's -------------
"$HPTC" run "$tmp/s.hpt" --limit 300 --jobs 1 --dtype-policy float32 > "$tmp/run" 2>&1; st=$?
check "--dtype-policy float32 overrides the spec's mixed_bfloat16 for every trial ($(policies "$tmp/s"))" \
    "[ $st -eq 0 ] && [ '$(policies "$tmp/s")' = 'float32 float32 ' ] && [ '$(meta "$tmp/s" dtype_policy)' = float32 ]"
check "the store is schema 5 with a dtype_policy column" \
    "[ '$(meta "$tmp/s" schema_version)' = 5 ] && [ \"\$(sqlite3 $tmp/s/p/hptc.db 'SELECT dtype_policy FROM trials ORDER BY id' | tr '\n' ' ')\" = 'float32 float32 ' ]"
"$HPTC" run "$tmp/s.hpt" --limit 300 --dtype-policy float32 > "$tmp/again" 2>&1; st=$?
check "the same --dtype-policy resumes" "[ $st -eq 0 ]"
"$HPTC" best "$tmp/s/p" --json > "$tmp/best.json"
"$HPTC" best "$tmp/s/p" > "$tmp/best"
"$HPTC" summary "$tmp/s/p" > "$tmp/sum"
check "best and summary show the policy" \
    "grep -q '\"dtype_policy\": \"float32\"}\$' $tmp/best.json && grep -q '^trial [0-9]*: val_accuracy [0-9.]* (dtype_policy float32)\$' $tmp/best &&
     grep -q '^Dtype policy: float32\$' $tmp/sum"
"$HPTC" summary "$tmp/s/p" --csv > "$tmp/sum.csv"
check "summary --csv ends each row with the policy" "head -1 $tmp/sum.csv | grep -q ',reason,dtype_policy\$' && [ \$(grep -c ',float32\$' $tmp/sum.csv) -eq 2 ]"

# ---- a changed policy on resume is refused ------------------------------------
if [ $bf16 = 1 ]; then
    "$HPTC" run "$tmp/s.hpt" --limit 300 > "$tmp/resume" 2>&1; st=$?
    check "resuming without the flag (the spec's mixed_bfloat16) is refused, naming both (exit $st)" \
        "[ $st -eq 1 ] && grep -q 'trial 0 trained under dtype_policy float32 (--dtype-policy float32), but this run would train it under mixed_bfloat16' $tmp/resume &&
         grep -q 'Resume with --dtype-policy float32, or run with --overwrite' $tmp/resume"
    "$HPTC" run "$tmp/s.hpt" --limit 300 --dtype-policy mixed_bfloat16 > "$tmp/resume" 2>&1; st=$?
    check "resuming with --dtype-policy mixed_bfloat16 is refused too (exit $st)" \
        "[ $st -eq 1 ] && grep -q 'this run would train it under mixed_bfloat16 (--dtype-policy mixed_bfloat16)' $tmp/resume"
    check "a refused resume leaves the store's trials and meta as they were" \
        "[ '$(policies "$tmp/s")' = 'float32 float32 ' ] && [ \"\$(sqlite3 $tmp/s/p/hptc.db \"SELECT value FROM meta WHERE key = 'dtype_policy'\")\" = float32 ]"
    "$HPTC" run "$tmp/s.hpt" --limit 300 --overwrite > "$tmp/over" 2>&1; st=$?
    check "--overwrite starts afresh under the spec's mixed_bfloat16 ($(policies "$tmp/s"))" \
        "[ $st -eq 0 ] && [ '$(policies "$tmp/s")' = 'mixed_bfloat16 mixed_bfloat16 ' ] && [ '$(meta "$tmp/s" dtype_policy)' = spec ]"
    "$HPTC" export "$tmp/s/p" -o "$tmp/e.bin" > /dev/null 2>&1
    check "export writes the policy into the weights' header" "head -c 200 $tmp/e.bin | grep -aq '^dtype_policy mixed_bfloat16\$'"
    "$HPTC" eval "$tmp/s.hpt" --weights "$tmp/e.bin" --limit 300 > "$tmp/eval" 2>&1; st=$?
    check "eval reads those weights" "[ $st -eq 0 ] && grep -q '^test_accuracy\|test_accuracy: ' $tmp/eval"

    # A hyperparameter chooses each trial's policy; --jobs 2 keeps them.
    spec "$tmp/g" "$choice" "$(echo "$grid" | sed "s|DIR|$tmp/g|")" > "$tmp/g.hpt"
    "$HPTC" run "$tmp/g.hpt" --limit 300 --jobs 2 > "$tmp/g.log" 2>&1
    "$HPTC" summary "$tmp/g/p" --json > "$tmp/g.json"
    agree=$(/usr/bin/python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["trials"]
print(len(t), sum(x["dtype_policy"] == x["hyperparameters"]["policy"] for x in t), len({x["dtype_policy"] for x in t}))' "$tmp/g.json")
    check "--jobs 2: each trial records its hyperparameter's policy ($agree: trials, agreeing, policies)" \
        "[ '$agree' = '32 32 2' ]"
    "$HPTC" summary "$tmp/g/p" > "$tmp/g.sum"
    check "summary names each trial's policy when they differ" "grep -q '^Dtype policy: mixed_bfloat16\$' $tmp/g.sum && grep -q '^Dtype policy: float32\$' $tmp/g.sum"
    spec "$tmp/j" "$choice" "$(echo "$grid" | sed "s|DIR|$tmp/j|")" > "$tmp/j.hpt"
    "$HPTC" run "$tmp/j.hpt" --limit 300 --jobs 2 --dtype-policy mixed_bfloat16 > "$tmp/j.log" 2>&1; st=$?
    check "--jobs 2 --dtype-policy mixed_bfloat16: every one of the 32 trials records it" \
        "[ $st -eq 0 ] && [ \$(\"$HPTC\" summary $tmp/j/p --csv | grep -c ',mixed_bfloat16\$') -eq 32 ]"
fi
spec "$tmp/f" "$choice" "$(echo "$grid" | sed "s|DIR|$tmp/f|")" > "$tmp/f.hpt"
"$HPTC" run "$tmp/f.hpt" --limit 300 --jobs 2 --dtype-policy float32 > "$tmp/f.log" 2>&1; st=$?
check "--jobs 2 --dtype-policy float32 over hp.Choice(\"policy\"): every one of the 32 trials records float32" \
    "[ $st -eq 0 ] && [ \$(\"$HPTC\" summary $tmp/f/p --csv | grep -c ',float32\$') -eq 32 ]"

# ---- a store from before the column reads as float32 -------------------------
/usr/bin/python3 - "$tmp/f/p/hptc.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("ALTER TABLE trials DROP COLUMN dtype_policy")
db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
db.execute("DELETE FROM meta WHERE key = 'dtype_policy'")
db.commit()
PY
check "a schema 2 store's trials read as float32" "[ \$(\"$HPTC\" summary $tmp/f/p --csv | grep -c ',float32\$') -eq 32 ]"
"$HPTC" run "$tmp/f.hpt" --limit 300 --dtype-policy float32 > "$tmp/up" 2>&1; st=$?
check "resuming it under float32 upgrades it to schema 5, its trials float32" \
    "[ $st -eq 0 ] && [ '$(meta "$tmp/f" schema_version)' = 5 ] && [ \"\$(sqlite3 $tmp/f/p/hptc.db 'SELECT count(*) FROM trials WHERE dtype_policy IS NULL OR dtype_policy = \"float32\"')\" = 32 ] &&
     [ \$(\"$HPTC\" summary $tmp/f/p --csv | grep -c ',float32\$') -eq 32 ]"

# ---- hptc train ----------------------------------------------------------------
spec "$tmp/t" '"float32"' > "$tmp/t.hpt"
"$HPTC" train "$tmp/t.hpt" --limit 300 --epochs 1 --save "$tmp/t.bin" > "$tmp/train" 2>&1; st=$?
check "train says the policy it trains in, and saves it in the weights" \
    "[ $st -eq 0 ] && grep -q '^training on .* 1 epochs in float32\$' $tmp/train && head -c 200 $tmp/t.bin | grep -aq '^dtype_policy float32\$'"
if [ $bf16 = 1 ]; then
    "$HPTC" train "$tmp/t.hpt" --limit 300 --epochs 1 --dtype-policy mixed_bfloat16 > "$tmp/train" 2>&1; st=$?
    check "train --dtype-policy mixed_bfloat16 overrides the spec's float32" "[ $st -eq 0 ] && grep -q '^training on .* in mixed_bfloat16\$' $tmp/train"
fi

# ---- no bf16: refused before anything trains -------------------------------------
ONEDNN_MAX_CPU_ISA=AVX512_CORE "$HPTC" train "$tmp/t.hpt" --limit 300 --epochs 1 --dtype-policy mixed_bfloat16 > "$tmp/no.out" 2> "$tmp/no.err"; st=$?
check "ONEDNN_MAX_CPU_ISA=AVX512_CORE train --dtype-policy mixed_bfloat16 fails naming avx512_bf16, the file and the trial (exit $st)" \
    "[ $st -ne 0 ] && grep -q 'avx512_bf16' $tmp/no.err && grep -q \"^hptc: $tmp/t.hpt: trial (units=16, dropout=False, learning_rate=0.01): dtype_policy mixed_bfloat16 (from --dtype-policy): mixed_bfloat16 needs\" $tmp/no.err"
check "... and trains nothing" "! grep -q '^Epoch' $tmp/no.out && ! grep -q '^training on' $tmp/no.out"
spec "$tmp/n" '"float32"' > "$tmp/n.hpt"
ONEDNN_MAX_CPU_ISA=AVX512_CORE "$HPTC" run "$tmp/n.hpt" --limit 300 --dtype-policy mixed_bfloat16 > "$tmp/no.out" 2> "$tmp/no.err"; st=$?
check "... run too: exit $st, the file, the flag and avx512_bf16 named, no store made" \
    "[ $st -ne 0 ] && grep -q \"^hptc: $tmp/n.hpt: --dtype-policy mixed_bfloat16: .*avx512_bf16.*no trial trained\" $tmp/no.err && [ ! -e $tmp/n/p/hptc.db ]"
ONEDNN_MAX_CPU_ISA=AVX512_CORE "$HPTC" run "$tmp/c.hpt" --limit 300 > "$tmp/no.out" 2> "$tmp/no.err"; st=$?
check "... and a hyperparameter that can be mixed_bfloat16 is named (exit $st)" \
    "[ $st -ne 0 ] && grep -q \"compile(dtype_policy) = hyperparameter 'policy', which can be mixed_bfloat16: .*avx512_bf16\" $tmp/no.err"
ONEDNN_MAX_CPU_ISA=AVX512_CORE "$HPTC" run "$tmp/c.hpt" --limit 300 --dtype-policy float32 > "$tmp/no.out" 2>&1; st=$?
check "... while --dtype-policy float32 runs that search there" "[ $st -eq 0 ] && [ '$(policies "$tmp/c")' = 'float32 float32 ' ]"

# ---- MPI: rank 0 resolves each trial's policy; a rank without bf16 is named -------
if command -v mpirun > /dev/null 2>&1 && "$HPTC" --version | grep -q '^mpi: Open MPI'; then
    # As tests/cli/mpi.sh: Open MPI's own allocations are not hptc's leaks.
    export LSAN_OPTIONS="suppressions=$PWD/tests/lsan-mpi.supp:print_suppressions=0"
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
    mpi="mpirun --allow-run-as-root --oversubscribe -x HPT_DATA -x NO_COLOR -x LSAN_OPTIONS -x ASAN_OPTIONS"
    spec "$tmp/m" "$choice" "$(echo "$grid" | sed "s|DIR|$tmp/m|")" > "$tmp/m.hpt"
    if [ $bf16 = 1 ]; then
        $mpi -np 2 "$HPTC" run "$tmp/m.hpt" --limit 300 --jobs 1 > "$tmp/m.log" 2>&1; st=$?
        agree=$("$HPTC" summary "$tmp/m/p" --json | /usr/bin/python3 -c '
import json, sys
t = json.load(sys.stdin)["trials"]
print(len(t), sum(x["dtype_policy"] == x["hyperparameters"]["policy"] for x in t))')
        check "mpirun -np 2: each of the 32 trials records its hyperparameter's policy (exit $st; $agree)" "[ $st -eq 0 ] && [ '$agree' = '32 32' ]"
        rm -rf "$tmp/m"
        $mpi -np 1 "$HPTC" run "$tmp/m.hpt" --limit 300 --jobs 1 --dtype-policy mixed_bfloat16 : \
             -np 1 -x ONEDNN_MAX_CPU_ISA=AVX512_CORE "$HPTC" run "$tmp/m.hpt" --limit 300 --jobs 1 --dtype-policy mixed_bfloat16 \
             > "$tmp/m.log" 2>&1; st=$?
        check "mpirun with rank 1 held to AVX512_CORE: refused naming rank 1 and avx512_bf16, no store made (exit $st)" \
            "[ $st -ne 0 ] && grep -q 'rank 1 of 2 cannot start on .*--dtype-policy mixed_bfloat16: .*avx512_bf16.*no trial trained' $tmp/m.log && [ ! -e $tmp/m/p/hptc.db ]"
    else
        $mpi -np 2 "$HPTC" run "$tmp/m.hpt" --limit 300 --jobs 1 --dtype-policy float32 > "$tmp/m.log" 2>&1; st=$?
        check "mpirun -np 2 --dtype-policy float32: all 32 trials record float32 (exit $st)" \
            "[ $st -eq 0 ] && [ \$(\"$HPTC\" summary $tmp/m/p --csv | grep -c ',float32\$') -eq 32 ]"
    fi
else
    echo "SKIP: tests/cli/dtype_policy.sh: MPI checks (hptc built without MPI, or no mpirun)"
fi
