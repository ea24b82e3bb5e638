# lxcscale — the one Makefile.
#
# Sources are found by folder, so a new file needs no edit here:
#   iforest/*.c  -> $(BUILD)/libiforest.a   (files named *_avx2.c get -mavx2 -mfma)
#   cgroup/*.c   -> $(BUILD)/libcgroup.a
#   user/*/*.c   -> $(BUILD)/libuser.a, except the two mains user/daemon/main.c and user/cli/main.c
#                   (user/README.md: one folder per stage of the data path)
#   api/*.c      -> $(BUILD)/libapi.a
#   ui/*.c + the dashboard's files (UI_ASSETS, embedded by tools/embed.py) -> $(BUILD)/libui.a
#   bpf/*.bpf.c  -> $(BUILD)/bpf/*.bpf.o and $(BUILD)/bpf/*.skel.h (before any C that includes them)
#   tests/unit/test_*.c -> $(BUILD)/tests/test_*   (cmocka; linked with every library)
#   tests/tools/*.c     -> $(BUILD)/tests/tools/*  (helper programs: burners, hogs, ...)
#   bench/*.c           -> $(BUILD)/bench/*
#   tests/fuzz/*.c      -> build/fuzz/*        (libFuzzer targets, `make fuzz` only)
# `make asan` builds the same tree into build/asan with ASan+UBSan.

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
SANITIZE ?= 0
V        ?= 0

CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

PKGS     := libbpf libelf zlib yaml-0.1 json-c libcurl libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
CPPFLAGS += -D_GNU_SOURCE -DLXCSCALE_VERSION='"$(VERSION)"' \
            -Iiforest -Icgroup -Iuser -Iapi -Iui -Ibpf -I$(BUILD)/bpf $(PKG_CFLAGS)
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -fno-strict-aliasing -pthread
LDFLAGS  ?=
# --as-needed: the daemon does not call libcurl (user/base/libcurl.c loads it when needed),
# so it must not be linked against it; the command-line tool and tests that do call it are.
LDFLAGS  += -Wl,--as-needed
LDLIBS   += $(PKG_LIBS) -lpthread -lm

ifeq ($(SANITIZE),1)
  ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS    += -fsanitize=address,undefined
endif

# libFuzzer: clang, coverage on every library object, the fuzzer's main only at link time.
ifeq ($(SANITIZE),fuzz)
  ALL_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
                -fno-sanitize-recover=undefined -DLXCSCALE_FUZZING \
                -Wno-format-nonliteral -Wno-string-concatenation -Wno-unknown-pragmas # clang-only noise; gcc checks the rest
  LDFLAGS    += -fsanitize=fuzzer,address,undefined
endif

ifeq ($(V),0)
  Q := @
  msg = @printf '  %-8s %s\n' $(1) $(2);
else
  Q :=
  msg =
endif

# ---- sources -------------------------------------------------------------------------------
IFOREST_SRC := $(wildcard iforest/*.c)
CGROUP_SRC  := $(wildcard cgroup/*.c)
USER_MAINS  := user/daemon/main.c user/cli/main.c
USER_SRC    := $(filter-out $(USER_MAINS),$(wildcard user/*/*.c))
API_SRC     := $(wildcard api/*.c)
UI_SRC      := $(wildcard ui/*.c) $(BUILD)/gen/ui_assets.c
BPF_SRC     := $(wildcard bpf/*.bpf.c)
TEST_SRC    := $(wildcard tests/unit/test_*.c)
TOOL_SRC    := $(wildcard tests/tools/*.c)
BENCH_SRC   := $(wildcard bench/*.c)
FUZZ_SRC    := $(wildcard tests/fuzz/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

IFOREST_OBJ := $(call obj,$(IFOREST_SRC))
CGROUP_OBJ  := $(call obj,$(CGROUP_SRC))
USER_OBJ    := $(call obj,$(USER_SRC))
API_OBJ     := $(call obj,$(API_SRC))
UI_OBJ      := $(call obj,$(UI_SRC))
BPF_OBJ     := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRC))
BPF_SKEL    := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRC))
TEST_BIN    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TOOL_BIN    := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))
BENCH_BIN   := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
FUZZ_BIN    := $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(FUZZ_SRC))

LIBS := $(BUILD)/libapi.a $(BUILD)/libuser.a $(BUILD)/libui.a $(BUILD)/libcgroup.a $(BUILD)/libiforest.a

.PHONY: all libs tests tools benches test unit asan vmtest bench deps install uninstall \
        vmlinux clean help readme deb fuzz fuzzers fuzz-bins soak
.DEFAULT_GOAL := all
# Keep objects and skeletons that pattern chains would otherwise delete as intermediates.
.SECONDARY:

all: $(BUILD)/lxcscaled $(BUILD)/lxcscale

help:
	@sed -n 's/^## //p' Makefile

## make            build the daemon and the CLI into build/
## make test       run every test: unit, ASan+UBSan unit, integration, VM (needs root)
## make asan       build everything with ASan+UBSan into build/asan
## make vmtest     run only the real-kernel tests in a qemu VM
## make bench      run the benchmarks and print their figures
## make fuzz       build the libFuzzer targets into build/fuzz and run each (FUZZ_SECONDS=300)
## make soak       the daemon with 500 churning test containers for an hour (SOAK_SECONDS=3600)
## make deps       install the Debian packages the build and tests need (root)
## make install    install into $(DESTDIR)$(PREFIX)
## make deb        build the Debian package into build/deb/ (dpkg-buildpackage)
## make readme     regenerate the README key table and conf/lxcscale.yaml from the schema
## make vmlinux    regenerate vmlinux/$(ARCH)/vmlinux.h from this kernel's BTF

# ---- compile -------------------------------------------------------------------------------
$(BUILD)/obj/%.o: %.c | $(BPF_SKEL)
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%_avx2.o: %_avx2.c | $(BPF_SKEL)
	$(call msg,CC-AVX2,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -mavx2 -mfma -MMD -MP -c $< -o $@

# clang ignores the `#pragma GCC target` in iforest/score_avx512vl.c: give it the target flags
ifeq ($(SANITIZE),fuzz)
$(BUILD)/obj/%_avx512vl.o: %_avx512vl.c | $(BPF_SKEL)
	$(call msg,CC-AVX512,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -mavx2 -mfma -mavx512f -mavx512vl -MMD -MP -c $< -o $@
endif

$(BUILD)/libiforest.a: $(IFOREST_OBJ)
$(BUILD)/libcgroup.a:  $(CGROUP_OBJ)
$(BUILD)/libuser.a:    $(USER_OBJ)
$(BUILD)/libapi.a:     $(API_OBJ)
$(BUILD)/libui.a:      $(UI_OBJ)
$(BUILD)/%.a:
	$(call msg,AR,$@)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

libs: $(LIBS)

$(BUILD)/lxcscaled: $(BUILD)/obj/user/daemon/main.o $(LIBS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS) $(LIBS) $(LDLIBS)

$(BUILD)/lxcscale: $(BUILD)/obj/user/cli/main.o $(LIBS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS) $(LIBS) $(LDLIBS)

# ---- the dashboard's files -----------------------------------------------------------------
# NAME=PATH: served as /ui/NAME (and inlined by `lxcscale replay --html`). uPlot comes from
# npm (ui/package.json, pinned by ui/package-lock.json): `make deps` runs `npm ci` in ui/.
UPLOT_DIST := ui/node_modules/uplot/dist
UI_ASSETS  := index.html=ui/index.html app.js=ui/app.js app.css=ui/app.css \
              report.js=ui/report.js report.css=ui/report.css \
              uplot.js=$(UPLOT_DIST)/uPlot.iife.min.js uplot.css=$(UPLOT_DIST)/uPlot.min.css
UI_FILES   := $(foreach a,$(UI_ASSETS),$(word 2,$(subst =, ,$(a))))

$(BUILD)/gen/ui_assets.c: tools/embed.py $(UI_FILES)
	$(call msg,EMBED,$@)
	@mkdir -p $(@D)
	$(Q)python3 tools/embed.py $@ $(UI_ASSETS)

$(UPLOT_DIST)/%:
	@echo "$@ is missing: run 'make deps' (it runs npm ci in ui/ for uPlot)" >&2; exit 1

# ---- BPF -----------------------------------------------------------------------------------
VMLINUX_H := vmlinux/$(ARCH)/vmlinux.h
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(VMLINUX_H)
	$(call msg,BPF,$<)
	@mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf \
		$(CLANG_BPF_SYS_INCLUDES) -c $< -o $(@:.bpf.o=.tmp.bpf.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.bpf.o=.tmp.bpf.o)

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

vmlinux:
	@mkdir -p vmlinux/$(ARCH)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX_H)

# ---- tests, tools, benches -----------------------------------------------------------------
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBS)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS) $(LIBS) $(LDLIBS) -lcmocka

$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBS)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS) $(LIBS) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBS)
	$(call msg,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS) $(LIBS) $(LDLIBS)

# Only ever built with BUILD=build/fuzz SANITIZE=fuzz (see `fuzzers`): a libFuzzer main.
$(FUZZ_BIN): $(BUILD)/%: $(BUILD)/obj/tests/fuzz/%.o $(LIBS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS) $(LIBS) $(LDLIBS)

tests: $(TEST_BIN) $(TOOL_BIN)
tools: $(TOOL_BIN)
benches: $(BENCH_BIN)

# Everything the test runner needs, in both the normal and the sanitizer build.
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 OPT=-O1 all tests

unit: all tests
	$(Q)tests/run.sh unit $(BUILD)

test: all tests asan fuzzers
	$(Q)tests/run.sh all $(BUILD)

vmtest: all tests
	$(Q)tests/run.sh vm $(BUILD)

bench: all benches tools
	$(Q)bench/run.sh $(BUILD)

FUZZ_SECONDS ?= 300
fuzzers:
	$(Q)$(MAKE) --no-print-directory BUILD=build/fuzz SANITIZE=fuzz CC=clang OPT=-O1 fuzz-bins

fuzz-bins: $(FUZZ_BIN)

fuzz: fuzzers tools
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh build/fuzz

soak: all tools
	$(Q)SOAK_SECONDS=$${SOAK_SECONDS:-3600} BUILD=$(BUILD) LXCSCALE_TOP=$(CURDIR) bash tests/integration/soak.sh

deps:
	$(Q)tools/deps.sh

readme: all
	$(Q)tools/readme.sh $(BUILD)/lxcscaled

# ---- install -------------------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/lxcscale
	install -m 0755 $(BUILD)/lxcscaled $(DESTDIR)$(PREFIX)/sbin/lxcscaled
	install -m 0755 $(BUILD)/lxcscale $(DESTDIR)$(PREFIX)/bin/lxcscale
	test -e $(DESTDIR)/etc/lxcscale/lxcscale.yaml || \
		test -e $(DESTDIR)/etc/lxc_autoscale_ml/lxc_autoscale_ml.yaml || \
		install -m 0644 conf/lxcscale.yaml $(DESTDIR)/etc/lxcscale/lxcscale.yaml
	if [ -f conf/lxcscaled.service ]; then \
		install -d $(DESTDIR)/lib/systemd/system && \
		sed 's|@SBINDIR@|$(PREFIX)/sbin|g' conf/lxcscaled.service \
			> $(DESTDIR)/lib/systemd/system/lxcscaled.service; fi
	install -d $(DESTDIR)$(PREFIX)/lib/tmpfiles.d $(DESTDIR)/etc/logrotate.d \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0644 conf/lxcscale.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/lxcscale.conf
	install -m 0644 conf/lxcscale.logrotate $(DESTDIR)/etc/logrotate.d/lxcscale
	install -m 0644 man/lxcscale.1 $(DESTDIR)$(PREFIX)/share/man/man1/lxcscale.1
	install -m 0644 man/lxcscale.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man5/lxcscale.yaml.5
	install -m 0644 man/lxcscaled.8 $(DESTDIR)$(PREFIX)/share/man/man8/lxcscaled.8
	install -m 0644 conf/lxcscale.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/lxcscale
	ln -sf lxcscale $(DESTDIR)$(PREFIX)/share/bash-completion/completions/lxcscaled
	install -d $(DESTDIR)$(PREFIX)/share/doc/lxcscale/examples
	install -m 0644 conf/lxcscaled-management-routes.conf \
		$(DESTDIR)$(PREFIX)/share/doc/lxcscale/examples/management-routes.conf

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/lxcscaled $(DESTDIR)$(PREFIX)/bin/lxcscale \
	      $(DESTDIR)/lib/systemd/system/lxcscaled.service \
	      $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/lxcscale.conf $(DESTDIR)/etc/logrotate.d/lxcscale \
	      $(DESTDIR)$(PREFIX)/share/man/man1/lxcscale.1 $(DESTDIR)$(PREFIX)/share/man/man5/lxcscale.yaml.5 \
	      $(DESTDIR)$(PREFIX)/share/man/man8/lxcscaled.8 \
	      $(DESTDIR)$(PREFIX)/share/bash-completion/completions/lxcscale \
	      $(DESTDIR)$(PREFIX)/share/bash-completion/completions/lxcscaled \
	      $(DESTDIR)$(PREFIX)/share/doc/lxcscale/examples/management-routes.conf

# The Debian package (debian/, dpkg-buildpackage), built from a clean export of the tree
# into build/deb/: lxcscale_<version>_<arch>.deb and the build log there.
deb:
	$(Q)tools/deb.sh

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
