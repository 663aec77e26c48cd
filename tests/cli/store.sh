#!/bin/sh
# The store keeps what it is given (issue 11): one search per project (a
# second run and --overwrite are refused while one is live; a dead one never
# blocks), checkpoints are checked before anything resumes from them, a
# resume on other data is refused, a finished store reads on read-only
# media, and a search in which no trial completes fails.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"
trap 'kill -9 $pid 2>/dev/null; kill -CONT $pid 2>/dev/null; rm -rf "$tmp"' EXIT
pid=

# A small Hyperband search (promotions continue from their parents'
# checkpoints), slow enough that runs started together overlap.
spec() {
    mlp_spec "Hyperband(objective = \"val_accuracy\", max_epochs = 4, factor = 2,
                  directory = \"$1\", project_name = \"p\", seed = 5)" \
             "search(validation_split = 0.2, batch_size = 16)"
}
spec "$tmp/ref" > "$tmp/ref.hpt"
"$HPTC" run "$tmp/ref.hpt" --jobs 1 --limit 300 > "$tmp/ref.log" 2>&1
check "the reference search completes" "[ \$? -eq 0 ] && grep -q '^Results summary' $tmp/ref.log"
table "$tmp/ref" > "$tmp/ref.json"
trials=$(grep -c '"id": ' "$tmp/ref.json")

# ---- one search per project ---------------------------------------------
# Each round starts 4 runs of one project at once, then freezes the one that
# holds the project as soon as it does (SIGSTOP: alive, holding the lock) and
# tries --overwrite against it.  Every run either completes the search or is
# refused naming the holder; the table is the uninterrupted one; nothing is
# lost.  A small random search, as the rounds are many.
tiny() {
    mlp_spec "RandomSearch(objective = \"val_accuracy\", max_trials = 3, directory = \"$1\", project_name = \"p\", seed = 5)"
}
tiny "$tmp/tref" > "$tmp/tref.hpt"
"$HPTC" run "$tmp/tref.hpt" --jobs 1 --limit 200 > /dev/null 2>&1
table "$tmp/tref" > "$tmp/tref.json"
# Rounds go on until --overwrite has met a frozen holder 20 times (a holder
# may finish before it can be frozen, or release the lock just before, the
# note in the lock file staying behind; that round still checks the table).
same=1 refused=0 named=1 overwrite_tried=0 overwrite_refused=0 rounds=20
# holds_lock PID FILE: PID has FILE open with its OFD lock taken (its fdinfo
# lists the lock), i.e. it is the project's holder right now.
holds_lock() {
    for fd in /proc/"$1"/fd/*; do
        [ "$(readlink "$fd" 2>/dev/null)" = "$2" ] && grep -q 'OFDLCK' "/proc/$1/fdinfo/${fd##*/}" 2>/dev/null && return 0
    done
    return 1
}
r=0
while [ $overwrite_tried -lt $rounds ] && [ $r -lt $((2 * rounds)) ]; do
    r=$((r + 1))
    d="$tmp/c$r"
    tiny "$d" > "$d.hpt"
    for k in 1 2 3 4; do "$HPTC" run "$d.hpt" --jobs 1 --limit 200 > "$d.$k.log" 2>&1 & eval "p$k=\$!"; done
    n=0
    while [ $n -lt 1000 ] && [ ! -s "$d/p/hptc.lock" ]; do sleep 0.01; n=$((n + 1)); done
    pid=$(cut -d' ' -f1 "$d/p/hptc.lock" 2>/dev/null)
    if [ -n "$pid" ] && kill -STOP "$pid" 2>/dev/null; then
        if holds_lock "$pid" "$(realpath "$d/p/hptc.lock")"; then
            overwrite_tried=$((overwrite_tried + 1))
            "$HPTC" run "$d.hpt" --overwrite --limit 200 > "$d.ow.log" 2>&1
            st=$?
            if [ $st -eq 1 ] && grep -q "is in use by another hptc run (pid $pid on .*, since " "$d.ow.log"; then
                overwrite_refused=$((overwrite_refused + 1))
            fi
        fi
        kill -CONT "$pid"
    fi
    for k in 1 2 3 4; do
        eval "wait \$p$k"; st=$?
        if [ $st -ne 0 ]; then
            refused=$((refused + 1))
            grep -q 'is in use by another hptc run (pid [0-9]* on .*, since ' "$d.$k.log" || { named=0; sed 's/^/    /' "$d.$k.log"; }
        fi
    done
    pid=
    table "$d" | sed "s|$d|$tmp/tref|g" > "$d.json"
    cmp -s "$tmp/tref.json" "$d.json" || same=0
done
check "a second run of a live project is refused, naming the holder's pid, host and start ($refused refusals in $r rounds of 4 runs)" "[ $refused -ge $r ] && [ $named -eq 1 ]"
check "--overwrite never removes a live project ($overwrite_refused of $overwrite_tried refused, $rounds wanted)" "[ $overwrite_tried -eq $rounds ] && [ $overwrite_refused -eq $rounds ]"
check "after 4 concurrent runs and --overwrite, every table equals the uninterrupted run's ($r rounds)" "[ $same -eq 1 ]"

# A lock held by a dead process never blocks: kill -9 the holder, run again.
spec "$tmp/k" > "$tmp/k.hpt"
"$HPTC" run "$tmp/k.hpt" --jobs 1 --limit 300 > "$tmp/k.log" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null && ! grep -q 'epoch 2/' "$tmp/k.log"; do sleep 0.01; done
kill -9 $pid; wait $pid 2>/dev/null
"$HPTC" run "$tmp/k.hpt" --limit 300 > "$tmp/k2.log" 2>&1
check "a project whose holder was killed resumes at once" "[ \$? -eq 0 ] && grep -q '^resuming ' $tmp/k2.log"
pid=

# ---- damaged checkpoints -------------------------------------------------
# Interrupt a search mid-trial, damage the running trial's checkpoint in
# several ways (CRC intact or recomputed, so each check is reached), resume:
# the damage is named and the execution trains again from its start, which
# gives the uninterrupted table, never fresh weights or a forged epoch.
damage() {   # $1 = store, $2 = what
    /usr/bin/python3 - "$1" "$2" <<'PY'
import sqlite3, struct, sys, zlib
db = sqlite3.connect(sys.argv[1]); what = sys.argv[2]
row = db.execute("SELECT trial, execution, weights, optimizer, state FROM checkpoints WHERE kind = 'last' "
                 "ORDER BY trial LIMIT 1").fetchone()
if row is None: sys.exit(3)
trial, ex, w, o, s = row
if what == "bitflip":            # the CRC no longer matches
    w = bytearray(w); w[len(w) // 2] ^= 1; w = bytes(w)
elif what == "short":            # a weights blob of the wrong size, CRC recomputed
    w = w[:-4]
elif what == "epoch":            # the state says epoch -999, CRC recomputed
    s = struct.pack("i", -999) + s[4:]
crc = zlib.crc32(w + o + s) if what != "bitflip" else None
if crc is None:
    db.execute("UPDATE checkpoints SET weights = ? WHERE trial = ? AND execution = ? AND kind = 'last'", (w, trial, ex))
else:
    db.execute("UPDATE checkpoints SET weights = ?, state = ?, crc = ? WHERE trial = ? AND execution = ? AND kind = 'last'",
               (w, s, crc, trial, ex))
db.commit()
print(trial)
PY
}
# The full slice here, so that a trial lasts long enough to be caught part-way.
spec "$tmp/full" > "$tmp/full.hpt"
"$HPTC" run "$tmp/full.hpt" --jobs 1 > /dev/null 2>&1
table "$tmp/full" > "$tmp/full.json"
for what in bitflip short epoch; do
    d="$tmp/x_$what"
    spec "$d" > "$d.hpt"
    # Kill once a 4-epoch trial is part-way; should it end just before the
    # kill (no checkpoint left to damage), carry on and kill it again.
    victim= tries=0
    while [ -z "$victim" ] && [ $tries -lt 10 ]; do
        tries=$((tries + 1))
        "$HPTC" run "$d.hpt" --jobs 1 > "$d.1.log" 2>&1 &
        pid=$!
        while kill -0 $pid 2>/dev/null && ! grep -q 'epoch [1-3]/4' "$d.1.log"; do sleep 0.01; done
        kill -9 $pid; wait $pid 2>/dev/null; pid=
        victim=$(damage "$d/p/hptc.db" $what)
    done
    "$HPTC" run "$d.hpt" --jobs 1 > "$d.2.log" 2>&1
    st=$?
    case $what in
        bitflip) why="CRC-32 does not match" ;;
        short) why="weights blob holds [0-9]* bytes; the model has [0-9]* weights" ;;
        epoch) why="training state says epoch -999/" ;;
    esac
    check "a damaged checkpoint ($what) is named: trial, cause" "[ $st -eq 0 ] && grep -q \"trial $victim.*$why\" $d.2.log"
    check "... and its trial trains again from its start, giving the uninterrupted table ($what)" \
        "grep -q 'training trial $victim again from epoch' $d.2.log && table $d | sed 's|$d|$tmp/full|g' | cmp -s - $tmp/full.json"
done

# ---- the data a search trained on ----------------------------------------
spec "$tmp/f" > "$tmp/f.hpt"
"$HPTC" run "$tmp/f.hpt" --limit 600 > "$tmp/f1.log" 2>&1
"$HPTC" summary "$tmp/f/p" --json > "$tmp/f1.json"
check "every trial records the fingerprint of its data" "grep -c '\"data\": \"crc32 [0-9a-f]*, 480+120 rows of 784 values\"' $tmp/f1.json | grep -qx $trials"
"$HPTC" run "$tmp/f.hpt" --limit 500 > "$tmp/f2.log" 2>&1
check "a resume with other rows (--limit) is refused, saying how to go on" "[ \$? -eq 1 ] && grep -q 'was searched on other data (480 training and 120 validation rows' $tmp/f2.log && grep -q -- '--overwrite to start a new study' $tmp/f2.log"
mkdir -p "$tmp/data/fashion-mnist"
cp tests/data/fashion-mnist/* "$tmp/data/fashion-mnist/"
/usr/bin/python3 - "$tmp/data/fashion-mnist/train-labels-idx1-ubyte.gz" <<'PY'
import gzip, sys
b = bytearray(gzip.open(sys.argv[1]).read()); b[8 + 7] = (b[8 + 7] + 1) % 10
gzip.open(sys.argv[1], "wb").write(bytes(b))
PY
HPT_DATA="$tmp/data" "$HPTC" run "$tmp/f.hpt" --limit 600 > "$tmp/f3.log" 2>&1
check "a resume with edited data (HPT_DATA, one label changed) is refused" "[ \$? -eq 1 ] && grep -q 'was searched on other data' $tmp/f3.log"
"$HPTC" run "$tmp/f.hpt" --limit 600 > "$tmp/f4.log" 2>&1
check "the same data resumes" "[ \$? -eq 0 ] && grep -q '^resuming ' $tmp/f4.log"

# ---- a finished store on read-only media -----------------------------------
# A read-only bind mount in a private mount namespace (as root, chmod alone
# would not stop a write), over a store no reader has opened since its search
# ended (a reader leaves a -shm index behind, which hides the problem) and
# over one that a reader has opened.
spec "$tmp/ro" > "$tmp/ro.hpt"
"$HPTC" run "$tmp/ro.hpt" --limit 300 > /dev/null 2>&1
cp -r "$tmp/ro" "$tmp/ro_read" && "$HPTC" summary "$tmp/ro_read/p" > /dev/null
if unshare -m sh -c "mount --bind -o ro '$tmp/ref' '$tmp/ref' && touch '$tmp/ref/p/x'" 2>/dev/null; then
    echo "SKIP: read-only store: a read-only bind mount still accepts writes here"
elif unshare -m true 2>/dev/null; then
    for d in ro ro_read; do
        unshare -m sh -c "mount --bind -o ro '$tmp/$d' '$tmp/$d' &&
            '$HPTC' summary '$tmp/$d/p' > '$tmp/$d.sum' 2>&1 && '$HPTC' best '$tmp/$d/p' > '$tmp/$d.best' 2>&1 &&
            '$HPTC' report '$tmp/$d/p' -o '$tmp/$d.html' > '$tmp/$d.rep' 2>&1 &&
            '$HPTC' export '$tmp/$d/p' -o '$tmp/$d.w' > '$tmp/$d.exp' 2>&1"
        check "summary, best, report and export read a finished store on read-only media ($d)" "[ \$? -eq 0 ] && grep -q '^Trial [0-9]* summary' $tmp/$d.sum && grep -q '^units = ' $tmp/$d.best && [ -s $tmp/$d.html ] && [ -s $tmp/$d.w ]"
    done
else
    echo "SKIP: read-only store: this machine allows no private mount namespace (unshare -m)"
fi

# ---- when no trial completes ---------------------------------------------
# Every trial diverges (mse with a huge learning rate): the search fails,
# and a rerun goes on counting failures in a row rather than starting at 0.
cat > "$tmp/n.hpt" <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(units = hp.Int("units", 16, 64, step = 16), activation = "relu")
  Dense(10)
}
compile(optimizer = SGD(learning_rate = 1e3), loss = "mse", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_loss", max_trials = 2, directory = "$tmp/n", project_name = "p", seed = 1)
search(epochs = 2, validation_split = 0.2)
SPEC
"$HPTC" run "$tmp/n.hpt" > "$tmp/n.log" 2>&1
check "a search in which every trial fails exits 1, saying so" "[ \$? -eq 1 ] && grep -q 'no trial completed: all 2 failed' $tmp/n.log"
sed "s/max_trials = 2,/max_trials = 9, max_consecutive_failed_trials = 3,/; s|\"$tmp/n\"|\"$tmp/n3\"|" "$tmp/n.hpt" > "$tmp/n3.hpt"
"$HPTC" run "$tmp/n3.hpt" --jobs 1 > "$tmp/n3.log" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null && [ "$(grep -c '^trial [0-9]* failed' "$tmp/n3.log")" -lt 2 ]; do sleep 0.01; done
kill -9 $pid; wait $pid 2>/dev/null; pid=
before=$(grep -c '^trial [0-9]* failed' "$tmp/n3.log")
"$HPTC" run "$tmp/n3.hpt" --jobs 1 > "$tmp/n3b.log" 2>&1
st=$?
after=$(grep -c '^trial [0-9]* failed' "$tmp/n3b.log")
check "a rerun continues the count of failures in a row ($before before the kill, $after after)" "[ $st -eq 1 ] && [ \$(($before + $after)) -eq 3 ] && grep -q '3 trials failed in a row' $tmp/n3b.log"
