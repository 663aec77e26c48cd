#!/bin/sh
# make bench, section "check": the compiler's speed (bench/check_10k.sh), with
# CPython compiling the equivalent Keras Tuner build_model as the peer, then
# specs of 8 MB of each kind, just under the size limit (bench/check_big.sh).
sh "$(dirname "$0")/check_10k.sh" || status=1
sh "$(dirname "$0")/check_big.sh" 8 || status=1
exit ${status:-0}
