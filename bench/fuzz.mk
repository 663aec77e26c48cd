# fuzz.mk: the libFuzzer harnesses, run by the top Makefile's `make fuzz`
#   make -s -f bench/fuzz.mk [FUZZ_SECONDS=600] [FUZZ_TARGETS="front data"]
#
# Each harness bench/fuzz_NAME.c is built with clang's fuzzer, ASan and UBSan
# (LeakSanitizer included) into build-fuzz/fuzz_NAME, linked with the sources
# it lists below, and runs for FUZZ_SECONDS (600 by default) with a timeout of
# 10 s per input and 2 GB of memory.  Every harness runs FUZZ_SECONDS, one
# after the other, so `make fuzz` takes FUZZ_SECONDS times the number of
# harnesses; FUZZ_TARGETS picks some (default: all).  A harness works in
# build-fuzz/NAME/: seeds/ (made afresh each run), corpus/ (new interesting
# inputs, kept between runs), fuzz.log, and crash-* / leak-* / timeout-* /
# oom-* for an input that failed.  Each prints its last log lines and
#   fuzz NAME: N executions, M crashes in S s
# then one total line "fuzz: N executions, M crashes"; the exit status is
# non-zero when a run crashed or libFuzzer itself failed.
#
# The harnesses:
#   front  the compiler and stdlib (no runtime); seeds examples/, tests/diag/, tests/ir/
#   data   the data readers (IDX, CSV, .npy, plain and gzip): runtime/data/ (reader.c,
#          idx.c, csv.c, npy.c, data.c)
#   store  the store's checkpoint loader: whole hptc.db files opened read-only and
#          every checkpoint checked against a model, and checkpoint blobs stored
#          and loaded back (runtime/store/store.c, runtime/tune/checkpoint.c)
#
# Adding a harness is one line at the end of the list below,
#   $(eval $(call harness,NAME,SOURCES,LIBS,MAX_LEN))
# for bench/fuzz_NAME.c defining LLVMFuzzerTestOneInput; SOURCES are the .c
# files it links (build-fuzz/... for generated ones), LIBS e.g. -lsqlite3,
# MAX_LEN the largest input in bytes.  Optional: SEEDS_NAME, a shell command
# run from the repository root that writes seed inputs into build-fuzz/NAME/seeds
# (e.g. the harness itself run with HPTC_FUZZ_SEEDS=DIR, as fuzz_data.c does),
# and a dictionary bench/fuzz_NAME.dict (or DICT_NAME to name another file).
FUZZ_SECONDS ?= 600
.DEFAULT_GOAL := run
CLANG  ?= clang
BISON  ?= bison
FLEX   ?= flex
B      := build-fuzz
CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -I. -I$(B) \
          -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
          -Wno-unused-command-line-argument
# The formatter joins the front-end harness once it exists.
ifneq ($(wildcard compiler/fmt.c),)
CFLAGS += -DHPTC_FUZZ_FMT=1
endif
# FUZZ_FMT_STRICT=1: fmt's output must also be a fixed point with the input's IR.
STRICT :=
ifeq ($(FUZZ_FMT_STRICT),1)
CFLAGS += -DHPTC_FUZZ_FMT_STRICT=1
STRICT := _strict
endif

# The objects of a list of sources: build-fuzz/x/y.o for x/y.c, and a
# generated build-fuzz/z.c stays build-fuzz/z.o.
objects = $(patsubst %.c,%.o,$(filter $(B)/%,$(1))) $(patsubst %.c,$(B)/%.o,$(filter-out $(B)/%,$(1)))

HARNESSES :=
define harness
HARNESSES += $(1)
MAXLEN_$(1) := $(4)
DICT_$(1) ?= $$(wildcard bench/fuzz_$(1).dict)
$$(B)/fuzz_$(1)$$(STRICT): bench/fuzz_$(1).c $$(call objects,$(2))
	$$(CLANG) $$(CFLAGS) -Wall -Wextra -Wno-unused-parameter -fsanitize=fuzzer -o $$@ $$^ $(3) -lm
endef

FRONT_SRC := $(wildcard compiler/*.c stdlib/*.c) $(B)/parser.c $(B)/lexer.c
DICT_front  := bench/fuzz.dict
SEEDS_front := cp examples/*.hpt $(B)/front/seeds/ 2>/dev/null; for f in tests/diag/*.hpt tests/ir/*.hpt; do \
               [ -f "$$f" ] && cp "$$f" $(B)/front/seeds/$$(basename $$(dirname $$f))_$$(basename $$f); done; true
SEEDS_data  := HPTC_FUZZ_SEEDS=$(B)/data/seeds $(B)/fuzz_data$(STRICT) >/dev/null

# The reader's input buffer shrunk to 251 bytes: inputs cross its edges too.
$(B)/runtime/data/reader.o: CFLAGS += -DHPTC_RD_BUFFER=251

$(eval $(call harness,front,$(FRONT_SRC),,4096))
DATA_SRC := $(addprefix runtime/data/,reader.c idx.c csv.c npy.c data.c) runtime/err.c
$(eval $(call harness,data,$(DATA_SRC),-lz,16384))
SEEDS_store := HPTC_FUZZ_SEEDS=$(B)/store/seeds $(B)/fuzz_store$(STRICT) >/dev/null
$(eval $(call harness,store,runtime/store/store.c runtime/tune/checkpoint.c runtime/err.c,-lsqlite3 -lz,65536))

FUZZ_TARGETS ?= $(HARNESSES)

# One harness's run: fresh seeds, FUZZ_SECONDS of fuzzing, its line, and a
# line "NAME EXECUTIONS CRASHES STATUS" in build-fuzz/results.  Crashes count
# the failing inputs this run saved (libFuzzer stops at the first).
run_one = d=$(B)/$(1); rm -rf $$d/seeds; mkdir -p $$d/seeds $$d/corpus; touch $$d/fuzz.start; \
    $(or $(SEEDS_$(1)),true); \
    echo "fuzz $(1): $(FUZZ_SECONDS) s over $$(ls $$d/seeds | wc -l) seeds, inputs up to $(MAXLEN_$(1)) bytes"; \
    (cd $$d && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ../fuzz_$(1)$(STRICT) \
        -max_len=$(MAXLEN_$(1)) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
        $(if $(DICT_$(1)),-dict=../../$(DICT_$(1))) -print_final_stats=1 -artifact_prefix=./ \
        corpus seeds > fuzz.log 2>&1; echo $$? > fuzz.status); \
    tail -n 12 $$d/fuzz.log; \
    execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$d/fuzz.log | tail -1); \
    crashes=$$(find $$d -maxdepth 1 -newer $$d/fuzz.start \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l); \
    echo "fuzz $(1): $${execs:-0} executions, $$crashes crashes in $(FUZZ_SECONDS) s (exit status $$(cat $$d/fuzz.status))"; \
    echo "$(1) $${execs:-0} $$crashes $$(cat $$d/fuzz.status)" >> $(B)/results;

.PHONY: run
run: $(foreach h,$(FUZZ_TARGETS),$(B)/fuzz_$(h)$(STRICT))
	@rm -f $(B)/results
	@$(foreach h,$(FUZZ_TARGETS),$(call run_one,$(h))) true
	@awk '{ e += $$2; c += $$3; bad += ($$3 > 0 || $$4 != 0) } \
	     END { printf "fuzz: %d executions, %d crashes (%d harness%s, %s s each)\n", e, c, NR, NR == 1 ? "" : "es", "$(FUZZ_SECONDS)"; exit bad > 0 }' $(B)/results

$(B)/parser.c $(B)/parser.h &: grammar/parser.y
	@mkdir -p $(B)
	$(BISON) -Wall -Werror --defines=$(B)/parser.h -o $(B)/parser.c $<
$(B)/lexer.c $(B)/lexer.h &: grammar/lexer.l $(B)/parser.h
	$(FLEX) --header-file=$(B)/lexer.h -o $(B)/lexer.c $<
# parser.c includes lexer.h (the reentrant scanner's API): both headers first.
$(B)/%.o: $(B)/%.c $(B)/parser.h $(B)/lexer.h
	$(CLANG) $(CFLAGS) -Wno-sign-compare -Wno-unused-function -c -o $@ $<
$(B)/%.o: %.c $(B)/parser.h $(B)/lexer.h
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) -Wall -Wextra -Wno-unused-parameter -c -o $@ $<
