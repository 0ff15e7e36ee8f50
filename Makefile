# qosd: the single build file.  Plain GNU make.
#
#   make                  build/qosd and build/collectors/*.so
#   make check            install missing Debian packages, build, run the
#                         unit suites and the integration tests
#   make check-unit       only the Check suites
#   make check-integration  only the integration tests (real servers)
#   make sanitize         the same tests built with ASan and UBSan
#   make fuzz             the libFuzzer harness on the line-protocol parser
#   make bench            measurements beside the tools users run today
#   make check-system     the .deb installed and run under systemd in a
#                         booted Debian 12 container (root; after check)
#   make install DESTDIR= PREFIX=
#   make headers style clean deps

VERSION	:= 0.1.0

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
LIBDIR	?= $(PREFIX)/lib
PLUGINDIR ?= $(LIBDIR)/qosd/collectors
SYSCONFDIR ?= /etc
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/qosd
DATADIR	?= $(PREFIX)/share/qosd
UNITDIR	?= /lib/systemd/system
SYSUSERSDIR ?= $(LIBDIR)/sysusers.d
STATEDIR ?= /var/lib/qosd

CC	?= cc
BUILD	?= build
WERROR	?= 1
OPT	?= -O2 -g -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
SANFLAGS ?=

# Debian packages: what the build needs, and what the tests run against.
BUILD_PKGS := gcc make pkg-config libconfig-dev libcurl4-openssl-dev \
	libiperf-dev libsystemd-dev libjansson-dev check \
	zlib1g-dev
TEST_PKGS := influxdb iperf3 nginx-light iproute2 fping iputils-ping curl \
	openssl \
	clang libclang-rt-14-dev man-db procps psmisc lintian binutils \
	systemd jq
BENCH_PKGS := collectd-core hyperfine rt-tests

PKG_CONFIG ?= pkg-config
pc = $(shell $(PKG_CONFIG) $(1) $(2) 2>/dev/null)

WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wcast-qual -Wformat=2 -Wvla
ifeq ($(WERROR),1)
WARN	+= -Werror
endif

CPPFLAGS_ALL := -D_POSIX_C_SOURCE=200809L -Ischeduler -Icollectors -Isinks \
	-DQOSD_VERSION='"$(VERSION)"' -DPLUGINDIR='"$(PLUGINDIR)"' \
	-DSYSCONFDIR='"$(SYSCONFDIR)"' -DSTATEDIR='"$(STATEDIR)"' \
	-DSHIPPER_SO='"$(LIBDIR)/qosd/shipper.so"' \
	$(call pc,--cflags,libconfig libsystemd libcurl jansson)
CFLAGS_ALL := -std=c11 $(OPT) $(WARN) -fstack-protector-strong -fPIC \
	-MMD -MP $(SANFLAGS) $(CFLAGS)
LDFLAGS_ALL := -Wl,-z,relro,-z,now $(SANFLAGS) $(LDFLAGS)

DAEMON_LIBS := $(call pc,--libs,libconfig libsystemd) -ldl -lm
# Libraries each collector plugin links itself (never the daemon).
LIBS_ping  := -lm
LIBS_tcp   := -lm
LIBS_iperf := -liperf $(call pc,--libs,jansson) -lm
LIBS_http  := $(call pc,--libs,libcurl) -lm
LIBS_exec  :=
# Libraries a sink needs in the daemon or its shipper.
SINK_LIBS  := $(call pc,--libs,libcurl zlib)

# sinks/shipper.c is not the daemon's: it is shipper.so, loaded only by a
# sink's shipper process (libcurl and zlib stay out of the daemon).
DAEMON_SRCS := $(sort $(wildcard scheduler/*.c) \
	$(filter-out sinks/shipper.c,$(wildcard sinks/*.c)))
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
SHIPPER_OBJS := $(BUILD)/sinks/shipper.o $(BUILD)/sinks/spool.o \
	$(BUILD)/scheduler/buf.o $(BUILD)/scheduler/complain.o
# Tests and tools link the shipper's logic too.
LIB_OBJS    := $(filter-out $(BUILD)/scheduler/main.o,$(DAEMON_OBJS)) \
	$(BUILD)/sinks/shipper.o
# Helpers linked into some plugins (below), not plugins themselves.
COLL_HELPERS := latstats resolve
COLLECTORS  := $(filter-out $(COLL_HELPERS),\
	$(basename $(notdir $(wildcard collectors/*.c))))
PLUGINS     := $(COLLECTORS:%=$(BUILD)/collectors/%.so)

TPLUG_SRCS  := $(sort $(wildcard tests/plugins/*.c))
TEST_PLUGINS := $(TPLUG_SRCS:%.c=$(BUILD)/%.so)
UNIT_SRCS   := $(sort $(wildcard tests/unit/check_*.c))
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS   := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS   := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
CHECK_LIBS  := $(call pc,--libs,check) $(DAEMON_LIBS) $(SINK_LIBS) \
	$(call pc,--libs,jansson libcurl)
DYNLIST     := scheduler/qosd.dynlist

# Objects are never intermediate files to delete.
.SECONDARY:

.PHONY: all check check-unit check-integration sanitize fuzz bench install \
	clean deps headers style tests demo deb

all: $(BUILD)/qosd $(PLUGINS) $(BUILD)/sinks/shipper.so

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/qosd: $(DAEMON_OBJS) $(DYNLIST)
	$(CC) -pie $(LDFLAGS_ALL) -Wl,--dynamic-list=$(DYNLIST) -o $@ \
		$(DAEMON_OBJS) $(DAEMON_LIBS)

$(BUILD)/sinks/shipper.so: $(SHIPPER_OBJS)
	$(CC) -shared $(LDFLAGS_ALL) -o $@ $(SHIPPER_OBJS) $(SINK_LIBS) -lm

$(BUILD)/collectors/%.so: $(BUILD)/collectors/%.o
	$(CC) -shared $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(LIBS_$*)

# Plugins that link a helper object as well.
$(BUILD)/collectors/ping.so $(BUILD)/collectors/tcp.so: \
	$(BUILD)/collectors/latstats.o $(BUILD)/collectors/resolve.o

# Unit suites: each links tests/unit/main.c and every daemon object but
# main.o (whole, so that plugins loaded by a test find the exported API).
$(BUILD)/tests/check_%: $(BUILD)/tests/unit/check_%.o \
		$(BUILD)/tests/unit/main.o $(LIB_OBJS) $(DYNLIST)
	@mkdir -p $(@D)
	$(CC) -pie $(LDFLAGS_ALL) -Wl,--dynamic-list=$(DYNLIST) -o $@ \
		$(BUILD)/tests/unit/check_$*.o $(BUILD)/tests/unit/main.o \
		$(LIB_OBJS) $(CHECK_LIBS)

# Suites of collector helpers link the helper itself.
$(BUILD)/tests/check_latstats: $(BUILD)/tests/unit/check_latstats.o \
		$(BUILD)/tests/unit/main.o $(BUILD)/collectors/latstats.o \
		$(LIB_OBJS) $(DYNLIST)
	@mkdir -p $(@D)
	$(CC) -pie $(LDFLAGS_ALL) -Wl,--dynamic-list=$(DYNLIST) -o $@ \
		$(filter %.o,$^) $(CHECK_LIBS)

# The collector suites load the plugins they test.
$(BUILD)/tests/check_ping: $(BUILD)/collectors/ping.so
$(BUILD)/tests/check_tcp: $(BUILD)/collectors/tcp.so

# The config suite loads the test plugins.
$(BUILD)/tests/check_config: $(TEST_PLUGINS)

# The iperf suite compiles collectors/iperf.c in, so it links its libraries.
$(BUILD)/tests/check_iperf: CHECK_LIBS += $(LIBS_iperf)

# Collectors for tests only (tests/plugins), loaded with --plugin-dir.
$(BUILD)/tests/plugins/%.so: $(BUILD)/tests/plugins/%.o
	$(CC) -shared $(LDFLAGS_ALL) -o $@ $<

# Test tools (responders, hostile servers, helpers) may use daemon modules.
$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) -pie $(LDFLAGS_ALL) -o $@ $< $(LIB_OBJS) $(CHECK_LIBS)

tests: all $(TEST_PLUGINS) $(UNIT_BINS) $(TOOL_BINS)

# Install what is missing, then build and test in a fresh make so that
# pkg-config sees the packages just installed.
check: deps
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory check-unit
	@$(MAKE) --no-print-directory check-integration

check-unit: tests
	@tests/run-unit $(UNIT_BINS)

check-integration: tests
	@BUILD=$(BUILD) tests/run-integration

deps:
	@tests/tools/install-deps $(BUILD_PKGS) $(TEST_PKGS)

sanitize:
	@$(MAKE) --no-print-directory BUILD=build-san WERROR=1 \
		OPT='-O1 -g -fno-omit-frame-pointer' \
		SANFLAGS='-fsanitize=address,undefined -fno-sanitize-recover=all' \
		check-unit check-integration

FUZZ_SECONDS ?= 60
fuzz: $(BUILD)/fuzz/fuzz_lp
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz_lp -max_total_time=$(FUZZ_SECONDS) \
		-max_len=4096 $(BUILD)/fuzz/corpus tests/fixtures/lp

$(BUILD)/fuzz/fuzz_lp: tests/fuzz/fuzz_lp.c scheduler/lp.c scheduler/buf.c
	@mkdir -p $(@D)
	clang -std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -Ischeduler \
		-fsanitize=fuzzer,address,undefined -o $@ $^

# The main job on real local servers, about a minute, then a table.
demo: deps
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) tests/tools/demo

bench: deps
	@tests/tools/install-deps $(BENCH_PKGS)
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) tests/bench/run

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PLUGINDIR) \
		$(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)
	install -d -m 750 $(DESTDIR)$(SYSCONFDIR)/qosd
	install -m 755 $(BUILD)/qosd $(DESTDIR)$(SBINDIR)/qosd
	install -m 644 $(PLUGINS) $(DESTDIR)$(PLUGINDIR)/
	install -m 644 $(BUILD)/sinks/shipper.so $(DESTDIR)$(LIBDIR)/qosd/
	@# A configuration already in place on this system is kept.
	@c=$(DESTDIR)$(SYSCONFDIR)/qosd/qosd.conf; \
	if [ -z "$(DESTDIR)" ] && [ -e $$c ]; then \
		echo "keeping $$c; the default is $$c.dist"; c=$$c.dist; fi; \
	install -m 640 etc/qosd.conf $$c
	install -m 644 docs/metrics.md docs/grafana.md docs/migration.md \
		docs/influxdb.md $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(DATADIR)/grafana
	install -m 644 etc/grafana/dashboards/qosd.json $(DESTDIR)$(DATADIR)/grafana/
	install -m 644 etc/grafana/provisioning/datasources/qosd.yaml \
		$(DESTDIR)$(DATADIR)/grafana/datasource.yaml
	install -m 644 etc/grafana/provisioning/dashboards/qosd.yaml \
		$(DESTDIR)$(DATADIR)/grafana/dashboards.yaml
	for m in docs/*.5 docs/*.8; do [ -f "$$m" ] || continue; \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/; done
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	sed -e 's|/usr/sbin/qosd|$(SBINDIR)/qosd|g' \
		-e 's|/etc/qosd|$(SYSCONFDIR)/qosd|g' systemd/qosd.service \
		>$(DESTDIR)$(UNITDIR)/qosd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/qosd.service
	install -m 644 systemd/qosd.sysusers $(DESTDIR)$(SYSUSERSDIR)/qosd.conf
	@# On this system (no DESTDIR), as the package's postinst does: the
	@# qosd user, and its group may read the configuration.
	@if [ -z "$(DESTDIR)" ]; then \
		echo systemd-sysusers $(SYSUSERSDIR)/qosd.conf; \
		systemd-sysusers $(SYSUSERSDIR)/qosd.conf && \
		chgrp qosd $(SYSCONFDIR)/qosd $(SYSCONFDIR)/qosd/qosd.conf* && \
		echo chgrp qosd $(SYSCONFDIR)/qosd $(SYSCONFDIR)/qosd/qosd.conf; \
	fi

# The package: its own clean build for PREFIX=/usr in $(DEB_BUILD), so
# that the paths compiled in (plugins, shipper.so) are the package's and
# never a /usr/local build's.  VERSION=... makes another version.
DEB_BUILD ?= $(BUILD)/deb
deb:
	@rm -rf $(DEB_BUILD)
	@$(MAKE) --no-print-directory -s BUILD=$(DEB_BUILD) PREFIX=/usr \
		SYSCONFDIR=/etc all
	@VERSION=$(VERSION) pkg/mkdeb $(DEB_BUILD) \
		$(BUILD)/qosd_$(VERSION)_$$(dpkg --print-architecture).deb

# The package as users run it (tests/system/run): built, installed with
# apt into a Debian 12 root booted under systemd in a container
# (systemd-nspawn -b --private-network), driven with systemctl.  Runs as
# root; the root is cached in /var/cache/qosd-test.
SYSTEM_PKGS := mmdebstrap systemd-container util-linux binutils dpkg jq
.PHONY: check-system
check-system:
	@tests/tools/install-deps $(BUILD_PKGS) $(SYSTEM_PKGS)
	@BUILD=$(BUILD) tests/system/run

headers:
	@for h in scheduler/*.h collectors/*.h sinks/*.h; do \
		printf '#include "%s"\n' $$h | $(CC) $(CPPFLAGS_ALL) -std=c11 \
		$(WARN) -x c -fsyntax-only - || exit 1; done; echo headers ok

style:
	@bad=$$(for f in $(DAEMON_SRCS) sinks/shipper.c collectors/*.c \
	    scheduler/*.h collectors/*.h sinks/*.h; do expand -t8 $$f | \
	    awk -v f=$$f 'length > 80 { print f ":" NR }'; done); \
	if [ -n "$$bad" ]; then echo "over 80 columns:"; echo "$$bad"; \
	    exit 1; fi; echo "style ok"

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
