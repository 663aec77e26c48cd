#!/bin/sh
# Several objectives (issue 15, pareto): a Pareto search stores every
# trial's vector (val_accuracy and the static params), best --json gives
# the non-dominated trials, and RandomSearch, TPE (MOTPE) and NSGAII give
# the same table for --jobs 1 and 2 and after a kill -9 and resume.
# PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"
trap 'kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
pid=

spec() {    # spec DIR TUNER-CALL-HEAD
    mlp_spec "$2 objective = Pareto(\"val_accuracy\", \"params\"), directory = \"$1\", project_name = \"p\", seed = 7)"
}
db() { sqlite3 "$1/p/hptc.db" "$2"; }

for tuner in "RandomSearch(max_trials = 8," "TPE(max_trials = 10, n_startup_trials = 4," \
             "NSGAII(max_trials = 10, population_size = 4,"; do
    name=${tuner%%(*}
    spec "$tmp/$name.1" "$tuner" > "$tmp/$name.1.hpt"
    spec "$tmp/$name.2" "$tuner" > "$tmp/$name.2.hpt"
    "$HPTC" run "$tmp/$name.1.hpt" --jobs 1 --limit 300 > "$tmp/$name.1.log" 2>&1
    check "$name: the Pareto search completes" "[ \$? -eq 0 ]"
    "$HPTC" run "$tmp/$name.2.hpt" --jobs 2 --limit 300 > "$tmp/$name.2.log" 2>&1
    table "$tmp/$name.1" > "$tmp/$name.1.json"
    table "$tmp/$name.2" > "$tmp/$name.2.json"
    check "$name: --jobs 1 and --jobs 2 give the same table, front and hypervolume" \
        "cmp -s $tmp/$name.1.json $tmp/$name.2.json && grep -q '\"hypervolume\"' $tmp/$name.1.json"
    # Every completed trial has both values; params is 795 units + 10 (Dense 784->u, u->10).
    n=$(db "$tmp/$name.1" "SELECT count(*) FROM trials WHERE status = 'completed'")
    nv=$(db "$tmp/$name.1" "SELECT count(*) FROM objective_values")
    bad=$(db "$tmp/$name.1" "SELECT count(*) FROM objective_values v JOIN trials t ON t.id = v.trial
                             WHERE v.k = 1 AND v.value != 795 * json_extract(t.hps, '$.units') + 10")
    check "$name: the store holds both objectives of each of the $n trials, params exact" \
        "[ $n -gt 0 ] && [ $nv -eq $((2 * n)) ] && [ $bad -eq 0 ]"
    # The front in best --json: the trials no other trial dominates, worked out in SQL.
    want=$(db "$tmp/$name.1" "WITH v AS (SELECT trial, max(CASE k WHEN 0 THEN value END) AS acc,
                                                max(CASE k WHEN 1 THEN value END) AS par FROM objective_values GROUP BY trial)
                             SELECT group_concat(trial, ' ') FROM (SELECT a.trial FROM v a WHERE NOT EXISTS
                               (SELECT 1 FROM v b WHERE b.acc >= a.acc AND b.par <= a.par AND (b.acc > a.acc OR b.par < a.par))
                             ORDER BY a.trial)")
    got=$("$HPTC" best "$tmp/$name.1/p" --json | grep -o '{"trial": [0-9]*, "values"' | grep -o '[0-9][0-9]*' | tr '\n' ' ')
    check "$name: best --json gives the front ($want)" "[ -n '$want' ] && [ '$got' = '$want ' ]"
done

# NSGAII after a kill -9 mid-search and a resume: the same table.
spec "$tmp/k" "NSGAII(max_trials = 10, population_size = 4," > "$tmp/k.hpt"
"$HPTC" run "$tmp/k.hpt" --jobs 2 --limit 300 > "$tmp/k.log" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null && [ "$(grep -c 'done:' < "$tmp/k.log")" -lt 5 ]; do sleep 0.01; done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
"$HPTC" run "$tmp/k.hpt" --jobs 1 --limit 300 > "$tmp/k2.log" 2>&1
table "$tmp/k" > "$tmp/k.json"
check "NSGAII: killed and resumed, the same table as without" "cmp -s $tmp/k.json $tmp/NSGAII.1.json"

# summary shows the front and the hypervolume.
"$HPTC" summary "$tmp/NSGAII.1/p" > "$tmp/s.txt"
check "summary prints the front and its hypervolume" \
    "grep -q '^Pareto front of val_accuracy (max), params (min): ' $tmp/s.txt && grep -q '^Hypervolume ' $tmp/s.txt"

# The report draws the front: one point per completed trial, and the hypervolume.
"$HPTC" report "$tmp/NSGAII.1/p" -o "$tmp/r.html" > /dev/null 2>&1
points=$(grep '<section class="card wide" id="pareto">' "$tmp/r.html" | grep -o '<circle' | wc -l)
check "the report's Pareto plot has a point per completed trial ($points) and a hypervolume plot" \
    "[ $points -eq 10 ] && grep -q 'id=\"hypervolume\"' $tmp/r.html"

# Keras Tuner's objective = [...]: one score, the minimised metrics' sum minus
# the maximised ones', at its best epoch (MultiObjective.get_value).
mlp_spec "RandomSearch(objective = [\"val_loss\", Objective(\"val_accuracy\", \"max\")], max_trials = 3,
                       directory = \"$tmp/sum\", project_name = \"p\", seed = 3)" > "$tmp/sum.hpt"
"$HPTC" run "$tmp/sum.hpt" --limit 300 > "$tmp/sum.log" 2>&1
off=$(sqlite3 "$tmp/sum/p/hptc.db" "SELECT count(*) FROM trials t WHERE t.status = 'completed' AND
        abs(t.score - (SELECT min(val_loss - val_accuracy) FROM epochs e WHERE e.trial = t.id)) > 1e-12")
done=$(sqlite3 "$tmp/sum/p/hptc.db" "SELECT count(*) FROM trials WHERE status = 'completed'")
check "a list of objectives scores min(val_loss - val_accuracy) over the epochs ($done trials)" \
    "[ $done -eq 3 ] && [ $off -eq 0 ] && grep -q 'multi_objective(val_loss,-val_accuracy)' $tmp/sum.log"

# latency_ms is measured for each trial: a positive time per sample.
mlp_spec "RandomSearch(objective = Pareto(\"val_accuracy\", \"latency_ms\"), max_trials = 3,
                       directory = \"$tmp/lat\", project_name = \"p\", seed = 3)" > "$tmp/lat.hpt"
"$HPTC" run "$tmp/lat.hpt" --limit 300 > "$tmp/lat.log" 2>&1
pos=$(sqlite3 "$tmp/lat/p/hptc.db" "SELECT count(*) FROM objective_values WHERE k = 1 AND value > 0 AND value < 1000")
check "latency_ms is measured for each of the 3 trials ($pos positive)" "[ $pos -eq 3 ]"
