# capgate — `make` builds, `make test` runs every test, `make run` serves.
# Fresh machine: test/run/bench first install missing Debian packages (mk/deps.sh).

BUILD   ?= build
CC      ?= cc
PKGS     = jansson yaml-0.1 libmicrohttpd openssl gnutls
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wvla -Wpointer-arith -Wundef
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection -fPIE
OPT     ?= -O2 -g
SAN     ?=
CPPFLAGS_ALL = -D_GNU_SOURCE -I.
CFLAGS_ALL   = -std=c11 $(WARN) $(OPT) $(SAN) $(HARDEN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS_ALL  = -pie -Wl,-z,relro,-z,now,-z,noexecstack $(SAN)
LIBS         = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

# Every module's .c is found by its folder; cli/main.c is the only entry point.
LIB_SRC  = $(sort $(wildcard common/*.c json/*.c yaml/*.c policy/*.c certs/*.c server/*.c admission/*.c cli/*.c))
LIB_SRC := $(filter-out cli/main.c,$(LIB_SRC))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/policy/default_policy.o
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test check-tests e2e run bench asan fuzz soak format format-check lint clean \
        admission-policy-long
all: $(BUILD)/capgate $(BUILD)/capgate-ambient

deps:
	@sh mk/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/policy/default_policy.o: policy/default_policy.S policy/default.yaml
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

$(BUILD)/libcapgate.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/capgate: $(BUILD)/cli/main.o $(BUILD)/libcapgate.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

# The capability table both the engine (policy/caps.c) and the wrapper use,
# generated from one list; checked in, so builds without the list's tools
# (fuzz/Makefile, the image) take it as is.
common/caps_table.h: common/caps.list mk/caps-table.sh
	sh mk/caps-table.sh common/caps.list >$@.tmp && mv $@.tmp $@

# The ambient wrapper: static, libc only, built with its own small rule so it
# can be copied into any image. Its only header of ours is the capability
# table (macros only).
$(BUILD)/capgate-ambient: ambient/capgate-ambient.c common/caps_table.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -I. $(WARN) -Os -g0 $(SAN) -D_FORTIFY_SOURCE=2 \
	  -fstack-protector-strong -fstack-clash-protection \
	  $(if $(SAN),,-static-pie -fPIE) -Wl,-z,relro,-z,now,-z,noexecstack -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libcapgate.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -Wno-missing-prototypes $(LDFLAGS_ALL) -o $@ $< \
	  $(BUILD)/libcapgate.a $(LIBS) -lcmocka

# `make test`: install what is missing, build, run every suite.
test: deps
	@$(MAKE) --no-print-directory check-tests

# The differential test's bridge to the engine (tests/admission-policy).
$(BUILD)/tests/admission-driver: tests/admission-policy/driver.c $(BUILD)/libcapgate.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(BUILD)/libcapgate.a $(LIBS)

check-tests: all $(UNIT_BIN) $(BUILD)/tests/admission-driver
	@BUILD=$(BUILD) CAPGATE=$(abspath $(BUILD)/capgate) \
	  CAPGATE_AMBIENT=$(abspath $(BUILD)/capgate-ambient) sh tests/run-suites.sh $(UNIT_BIN)

# `make e2e`: only tests/e2e (also part of `make test` wherever it can run),
# capgate's output through a private containerd's CRI; it installs the
# Debian packages it needs (mk/deps.sh --e2e), and here, not being able to
# run is a failure rather than a skip. See tests/e2e/README.md.
e2e: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) CAPGATE=$(abspath $(BUILD)/capgate) \
	  CAPGATE_AMBIENT=$(abspath $(BUILD)/capgate-ambient) E2E_REQUIRED=1 SUITES=e2e \
	  sh tests/run-suites.sh

# Same suites under AddressSanitizer + UndefinedBehaviorSanitizer. gcc's
# -Wformat-truncation guesses differ at -O1; the -O2 build keeps them.
# A finding stops the process (ASan always, UBSan by -fno-sanitize-recover,
# LeakSanitizer at exit), but a test sees that only where it checks the exit
# status: a server killed at cleanup, a client expected to fail, a process
# in the background would hide it. So every report is also written to
# build-asan/sanitizer/ (mode 1777: the kernel suite runs the wrapper as
# another uid) and any file there fails the target, printed. gcc's libubsan,
# loaded next to libasan, ignores log_path and writes to stderr; so a UBSan
# finding aborts (SIGABRT, status 134, which no test expects) rather than
# exiting 1 like an ordinary error.
SAN_LOGS = $(abspath build-asan/sanitizer)
asan: deps
	@rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS) && chmod 1777 $(SAN_LOGS)
	@rc=0; \
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:log_path=$(SAN_LOGS)/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1 \
	  $(MAKE) --no-print-directory BUILD=build-asan \
	  OPT="-O1 -g -fno-omit-frame-pointer -Wno-format-truncation" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" check-tests || rc=$$?; \
	if [ -n "$$(ls -A $(SAN_LOGS))" ]; then \
	  for f in $(SAN_LOGS)/*; do echo "asan: sanitizer report $$f:"; head -n 60 "$$f"; done; \
	  echo "asan: FAILED: $$(ls $(SAN_LOGS) | wc -l) sanitizer reports in $(SAN_LOGS)"; rc=1; \
	else echo "asan: no sanitizer report"; fi; \
	exit $$rc

# libFuzzer harnesses built with clang, FUZZ_SECONDS each (default 60);
# see fuzz/Makefile.
fuzz: deps
	@sh mk/deps.sh clang libclang-rt-14-dev
	@$(MAKE) --no-print-directory -f fuzz/Makefile run

run: deps
	@$(MAKE) --no-print-directory all
	@sh mk/run.sh $(BUILD)/capgate

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench-engine
	@sh bench/run.sh

# `make soak`: SOAK_SECONDS (default 600) of mixed reviews at 32 connections,
# policy and certificate replaced meanwhile, then SIGTERM under load.
soak: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash bench/soak.sh

# The admission-policy differential test with a large generated part
# (ADMISSION_GENERATED requests, default 100000, within ADMISSION_SECONDS,
# default 1800; ADMISSION_SEED replays a run).
admission-policy-long: deps
	@$(MAKE) --no-print-directory all $(BUILD)/tests/admission-driver
	@BUILD=$(BUILD) CAPGATE=$(abspath $(BUILD)/capgate) \
	  ADMISSION_GENERATED=$${ADMISSION_GENERATED:-100000} ADMISSION_SECONDS=$${ADMISSION_SECONDS:-1800} \
	  sh tests/admission-policy/run.sh

$(BUILD)/bench-engine: bench/bench_engine.c $(BUILD)/libcapgate.a
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -Wno-missing-prototypes $(LDFLAGS_ALL) -o $@ $< \
	  $(BUILD)/libcapgate.a $(LIBS)

# Every tracked C file and header. Nothing is excluded: no tracked C file is
# generated or vendored (policy/default_policy.S is assembly, not C). The
# formatting is that of Debian bookworm's clang-format (14), which mk/deps.sh
# installs; another major version may disagree on a few lines.
FORMAT_FILES = $(shell git ls-files '*.c' '*.h')

format:
	@sh mk/deps.sh clang-format
	clang-format -i $(FORMAT_FILES)

# `make format-check`: fails, naming each line, on a file clang-format would
# change; and on an empty list (no git checkout), as a check of nothing.
format-check:
	@sh mk/deps.sh clang-format
	@test -n "$(FORMAT_FILES)" || { echo "format-check: no C file found (not a git checkout?)" >&2; exit 1; }
	@clang-format --dry-run -Werror $(FORMAT_FILES)
	@echo "format-check: $(words $(FORMAT_FILES)) C files formatted as .clang-format says"

# `make lint`: shellcheck on every tracked shell script (mk/lint.sh).
lint:
	@sh mk/deps.sh shellcheck
	@sh mk/lint.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
