# fuzz.mk: libFuzzer over the front end, invoked by the top Makefile's `make fuzz`
#   make -s -f bench/fuzz.mk FUZZ_SECONDS=600
# Builds the compiler and stdlib (no runtime: the front end needs none of it)
# with clang's fuzzer, ASan and UBSan into build-fuzz/, seeds the corpus with
# examples/ and tests/diag/, runs for FUZZ_SECONDS with inputs up to 4 KiB, and
# ends with a line "fuzz: N executions, M crashes".  Crashing inputs are kept as
# build-fuzz/crash-*; new interesting inputs in build-fuzz/corpus/.
FUZZ_SECONDS ?= 600
FUZZ_JOBS    ?= 1
CLANG  ?= clang
BISON  ?= bison
FLEX   ?= flex
B      := build-fuzz
CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -I. -I$(B) \
          -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
          -Wno-unused-command-line-argument
# The formatter joins the harness once it exists.
ifneq ($(wildcard compiler/fmt.c),)
CFLAGS += -DHPTC_FUZZ_FMT=1
endif
# FUZZ_FMT_STRICT=1: fmt's output must also be a fixed point with the input's IR.
STRICT :=
ifeq ($(FUZZ_FMT_STRICT),1)
CFLAGS += -DHPTC_FUZZ_FMT_STRICT=1
STRICT := _strict
endif
SRC := $(wildcard compiler/*.c stdlib/*.c)
OBJ := $(patsubst %.c,$(B)/%.o,$(SRC)) $(B)/parser.o $(B)/lexer.o

.PHONY: run
run: $(B)/fuzz_front$(STRICT)
	@mkdir -p $(B)/corpus $(B)/seeds
	@cp examples/*.hpt $(B)/seeds/ 2>/dev/null; for f in tests/diag/*.hpt tests/ir/*.hpt; do \
	    [ -f "$$f" ] && cp "$$f" $(B)/seeds/$$(basename $$(dirname $$f))_$$(basename $$f); done; true
	@echo "fuzz: $(FUZZ_SECONDS) s over $$(ls $(B)/seeds | wc -l) seeds, inputs up to 4096 bytes"
	@cd $(B) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./fuzz_front$(STRICT) \
	    -max_len=4096 -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -dict=../bench/fuzz.dict -print_final_stats=1 -artifact_prefix=./ \
	    corpus seeds > fuzz.log 2>&1; echo $$? > fuzz.status
	@tail -n 25 $(B)/fuzz.log
	@execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(B)/fuzz.log | tail -1); \
	 crashes=$$(ls $(B) | grep -c -E '^(crash|leak|timeout|oom)-'); \
	 echo "fuzz: $${execs:-0} executions, $$crashes crashes (exit status $$(cat $(B)/fuzz.status))"; \
	 [ "$$crashes" -eq 0 ]

$(B)/fuzz_front$(STRICT): bench/fuzz_front.c $(OBJ)
	$(CLANG) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ -lm

$(B)/parser.c $(B)/parser.h: grammar/parser.y
	@mkdir -p $(B)
	$(BISON) -Wall -Werror --defines=$(B)/parser.h -o $(B)/parser.c $<
$(B)/lexer.c $(B)/lexer.h: grammar/lexer.l $(B)/parser.h
	$(FLEX) --header-file=$(B)/lexer.h -o $(B)/lexer.c $<
$(B)/%.o: $(B)/%.c
	$(CLANG) $(CFLAGS) -Wno-sign-compare -Wno-unused-function -c -o $@ $<
$(B)/%.o: %.c $(B)/parser.h $(B)/lexer.h
	@mkdir -p $(dir $@)
	$(CLANG) $(CFLAGS) -Wall -Wextra -Wno-unused-parameter -c -o $@ $<
