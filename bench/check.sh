#!/bin/sh
# make bench, section "check": the compiler's speed (bench/check_10k.sh), with
# CPython compiling the equivalent Keras Tuner build_model as the peer.
exec sh "$(dirname "$0")/check_10k.sh"
