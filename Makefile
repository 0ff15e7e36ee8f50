# qosd: the single build file.  Plain GNU make.
#
#   make                  build/qosd and build/collectors/*.so
#   make check            install missing Debian packages, build, run the
#                         unit suites and the integration tests
#   make check-unit       only the Check suites
#   make check-integration  only the integration tests (real servers)
#   make sanitize         the same tests built with ASan and UBSan
#   make fuzz             the libFuzzer harness on the line-protocol parser
#   make fuzz-config      libFuzzer on the configuration loader and every
#                         collector's configure()
#   make bench            measurements beside the tools users run today
#                         (docs/performance.md)
#   make bench-quick      one row per area in under two minutes
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
	libdeflate-dev zlib1g-dev
TEST_PKGS := influxdb iperf3 nginx-light iproute2 fping iputils-ping curl \
	openssl \
	clang libclang-rt-14-dev man-db procps psmisc lintian binutils \
	systemd jq python3
# Every bench's peers (docs/performance.md names each row's): collectd and
# the liboping its ping plugin loads (footprint), cyclictest (sched), fping
# and ping (ping), nginx, openssl and curl (http, control), influxd
# (influxdb; libdeflate-gzip compresses curl's bodies as the shipper
# does), iperf3 and python3 (iperf), ss (udp, reflector), chrt and
# taskset, nats-server (nats, on main); hyperfine for timing a command by
# hand (no bench runs it).  A bench whose peer is missing fails: a FAIL
# row, and make bench exits 1.
BENCH_PKGS := collectd-core liboping0 rt-tests fping iputils-ping \
	nginx-light openssl curl influxdb libdeflate-tools iperf3 python3 \
	iproute2 util-linux \
	nats-server hyperfine

PKG_CONFIG ?= pkg-config
pc = $(shell $(PKG_CONFIG) $(1) $(2) 2>/dev/null)

WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wcast-qual -Wformat=2 -Wvla
ifeq ($(WERROR),1)
WARN	+= -Werror
endif

CPPFLAGS_ALL := -D_POSIX_C_SOURCE=200809L -I. -Iinclude \
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
LIBS_udp   := -lm
# Libraries the shipper needs (shipper.so: never the daemon).  libdeflate
# compresses the bodies (sinks/shipper/batch.c); the tests' tools inflate
# them with zlib, another implementation.
SHIPPER_LIBS := $(call pc,--libs,libcurl libdeflate) -lm

# The layout (docs/architecture.md): include/qosd/ is the plugin
# interface; lib/ the library every process uses (libqosd.a, no daemon
# state); collectors/ one plugin per file (collectors/NAME.c, its private
# modules in collectors/NAME/), collectors/probe/ the probe code
# ping and tcp share (libprobe.a); sinks/ the sinks, sinks/shipper/ the
# shipper process (shipper.so); scheduler/ the daemon, scheduler/spawner/
# the spawner and its runs.  tests/tools/check-layout checks that every
# include points one way.
LIB_SRCS    := $(sort $(wildcard lib/*.c))
LIB_OBJS    := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB_A       := $(BUILD)/lib/libqosd.a
PROBE_SRCS  := $(sort $(wildcard collectors/probe/*.c))
PROBE_OBJS  := $(PROBE_SRCS:%.c=$(BUILD)/%.o)
PROBE_A     := $(BUILD)/collectors/probe/libprobe.a
DAEMON_SRCS := $(sort $(wildcard scheduler/*.c scheduler/*/*.c) \
	$(wildcard sinks/*.c sinks/writer/*.c))
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
SHIPPER_SRCS := $(sort $(wildcard sinks/shipper/*.c)) sinks/spool.c
SHIPPER_OBJS := $(SHIPPER_SRCS:%.c=$(BUILD)/%.o)
COLLECTORS  := $(basename $(notdir $(wildcard collectors/*.c)))
PLUGINS     := $(COLLECTORS:%=$(BUILD)/collectors/%.so)
# The objects of collector NAME's private modules (collectors/NAME/*.c).
mod_objs     = $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard collectors/$(1)/*.c)))
# What the daemon exports to plugins: every function of include/qosd/.
PUBLIC_HDRS := $(sort $(wildcard include/qosd/*.h))
DYNLIST     := $(BUILD)/qosd.dynlist

# Tests and tools link the daemon's objects (but main.o) and the
# shipper's logic.
CORE_OBJS   := $(filter-out $(BUILD)/scheduler/main.o,$(DAEMON_OBJS)) \
	$(filter-out $(BUILD)/sinks/spool.o,$(SHIPPER_OBJS))
WHOLE_LIB   := -Wl,--whole-archive $(LIB_A) -Wl,--no-whole-archive

TPLUG_SRCS  := $(sort $(wildcard tests/plugins/*.c))
TEST_PLUGINS := $(TPLUG_SRCS:%.c=$(BUILD)/%.so)
UNIT_SRCS   := $(sort $(wildcard tests/unit/check_*.c))
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS   := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS   := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
CHECK_LIBS  := $(call pc,--libs,check zlib) $(DAEMON_LIBS) $(SHIPPER_LIBS) \
	$(call pc,--libs,jansson libcurl)

# --- control (issue 17): the control API on a Unix socket and the
# prometheus sink (lib/httpd.c on libmicrohttpd, JSON with jansson, in
# the daemon); qosctl, its client (ctl/, libcurl and jansson).  ctl/ may
# include qosd/, lib/ and ctl/ (tests/tools/check-layout).
BUILD_PKGS += libmicrohttpd-dev
TEST_PKGS += prometheus
CPPFLAGS_ALL += $(call pc,--cflags,libmicrohttpd)
# libmicrohttpd is not linked: lib/httpd.c loads it (dlopen) at the first
# connection, so that an agent whose API nobody asks never maps GnuTLS.
DAEMON_LIBS += $(call pc,--libs,jansson) -ldl
CHECK_LIBS += $(call pc,--libs,libmicrohttpd)
SRC_TREE_CTL := ctl
CTL_SRCS    := $(sort $(wildcard ctl/*.c))
CTL_OBJS    := $(CTL_SRCS:%.c=$(BUILD)/%.o)
CTL_LIBS    := $(call pc,--libs,libcurl jansson)
all: $(BUILD)/qosctl
tests: $(BUILD)/qosctl
$(BUILD)/qosctl: $(CTL_OBJS) $(LIB_A)
	$(CC) -pie $(LDFLAGS_ALL) -o $@ $(CTL_OBJS) $(LIB_A) $(CTL_LIBS)
BINDIR	?= $(PREFIX)/bin
.PHONY: install-control
install: install-control
install-control: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR)
	install -m 755 $(BUILD)/qosctl $(DESTDIR)$(BINDIR)/qosctl
	install -m 644 docs/api.md docs/prometheus.md $(DESTDIR)$(DOCDIR)/
# --- end control

# --- mqtt (issue 18): the mqtt sink.  sinks/mqtt*.c run in the daemon
# (settings, the spool through a writer, the topic template's check);
# sinks/mqttship/ is the process that publishes the spool, its code
# mqttship.so: only it links libmosquitto, loaded in that process only
# (forked by sinks/shipctl.c as the influxdb shipper is).
BUILD_PKGS += libmosquitto-dev
TEST_PKGS += mosquitto mosquitto-clients
CPPFLAGS_ALL += -DMQTTSHIP_SO='"$(LIBDIR)/qosd/mqttship.so"' \
	$(call pc,--cflags,libmosquitto)
MQTTSHIP_SRCS := $(sort $(wildcard sinks/mqttship/*.c)) sinks/spool.c \
	sinks/mqtt_topic.c
MQTTSHIP_OBJS := $(MQTTSHIP_SRCS:%.c=$(BUILD)/%.o)
MQTTSHIP_LIBS := $(call pc,--libs,libmosquitto) -lm
all: $(BUILD)/sinks/mqttship.so
$(BUILD)/sinks/mqttship/%.o: CFLAGS_ALL += -fvisibility=hidden
$(BUILD)/sinks/mqttship.so: EXPORT := { global: qosd_mqttship_main; local: *; };
$(BUILD)/sinks/mqttship.so: $(MQTTSHIP_OBJS) $(LIB_A) \
		$(BUILD)/sinks/mqttship.ver
	$(CC) -shared $(LDFLAGS_ALL) \
		-Wl,--version-script=$(BUILD)/sinks/mqttship.ver -o $@ \
		$(filter %.o,$^) $(LIB_A) $(MQTTSHIP_LIBS)
# The suite of the topic template and the JSON payload links the payload
# module (no libmosquitto in it).
EXTRA_mqtt := $(BUILD)/sinks/mqttship/payload.o
$(BUILD)/tests/check_mqtt: $(EXTRA_mqtt)
.PHONY: install-mqtt
install: install-mqtt
install-mqtt: all
	install -d $(DESTDIR)$(LIBDIR)/qosd $(DESTDIR)$(DOCDIR)
	install -m 644 $(BUILD)/sinks/mqttship.so $(DESTDIR)$(LIBDIR)/qosd/
	install -m 644 docs/mqtt.md $(DESTDIR)$(DOCDIR)/
# --- end mqtt

# --- nats (issue 18): the bus process (bus/, bus.so, libnats: loaded
# only in it, never in the daemon) and qosctl --nats.  bus/ may include
# qosd/, lib/ and bus/; scheduler/ may include bus/bus.h, the channel's
# messages and settings, which names nothing of libnats
# (tests/tools/check-layout).
BUILD_PKGS += libnats-dev
TEST_PKGS += nats-server
SRC_TREE_BUS := bus
BUS_SRCS    := $(sort $(wildcard bus/*.c))
BUS_OBJS    := $(BUS_SRCS:%.c=$(BUILD)/%.o)
BUS_LIBS    := $(call pc,--libs,libnats jansson) -lpthread
CPPFLAGS_ALL += -DBUS_SO='"$(LIBDIR)/qosd/bus.so"'
CTL_LIBS    += $(call pc,--libs,libnats)
all: $(BUILD)/bus/bus.so
$(BUILD)/bus/%.o: CFLAGS_ALL += -fvisibility=hidden
$(BUILD)/bus/bus.so: EXPORT := { global: qosd_bus_main; local: *; };
$(BUILD)/bus/bus.so: $(BUS_OBJS) $(LIB_A) $(BUILD)/bus/bus.ver
	$(CC) -shared $(LDFLAGS_ALL) \
		-Wl,--version-script=$(BUILD)/bus/bus.ver -o $@ \
		$(BUS_OBJS) $(LIB_A) $(BUS_LIBS)
.PHONY: install-bus
install: install-bus
install-bus: all
	install -d $(DESTDIR)$(LIBDIR)/qosd $(DESTDIR)$(DOCDIR)
	install -m 644 $(BUILD)/bus/bus.so $(DESTDIR)$(LIBDIR)/qosd/
	install -m 644 docs/nats.md $(DESTDIR)$(DOCDIR)/
# The bench's client of both ways in (tests/bench/nats.sh).
$(BUILD)/tools/nats_rtt $(BUILD)/tools/nats_sub: CHECK_LIBS += \
	$(call pc,--libs,libnats)
# --- end nats

# Objects are never intermediate files to delete.
.SECONDARY:

.PHONY: all check check-unit check-integration check-layout sanitize fuzz \
	fuzz-config \
	bench bench-quick install clean deps headers style tests demo deb

all: $(BUILD)/qosd $(PLUGINS) $(BUILD)/sinks/shipper.so

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS_ALL) -c -o $@ $<

# Plugins and the shipper export one symbol each: hidden by default, and
# a version script keeps what the static archives bring local.
$(BUILD)/collectors/%.o $(BUILD)/sinks/shipper/%.o: \
	CFLAGS_ALL += -fvisibility=hidden
$(BUILD)/collectors/%.so $(BUILD)/tests/plugins/%.so: \
	EXPORT := { global: qosd_collector; local: *; };
$(BUILD)/sinks/shipper.so: EXPORT := { global: qosd_shipper_main; local: *; };

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(PROBE_A): $(PROBE_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(DYNLIST): $(PUBLIC_HDRS) tests/tools/exports
	@mkdir -p $(@D)
	tests/tools/exports $(PUBLIC_HDRS) >$@

$(BUILD)/qosd: $(DAEMON_OBJS) $(LIB_A) $(DYNLIST)
	$(CC) -pie $(LDFLAGS_ALL) -Wl,--dynamic-list=$(DYNLIST) -o $@ \
		$(DAEMON_OBJS) $(WHOLE_LIB) $(DAEMON_LIBS)

$(BUILD)/%.ver:
	@mkdir -p $(@D)
	@echo '$(EXPORT)' >$@

$(BUILD)/sinks/shipper.so: $(SHIPPER_OBJS) $(LIB_A) $(BUILD)/sinks/shipper.ver
	$(CC) -shared $(LDFLAGS_ALL) \
		-Wl,--version-script=$(BUILD)/sinks/shipper.ver -o $@ \
		$(SHIPPER_OBJS) $(LIB_A) $(SHIPPER_LIBS)

$(BUILD)/collectors/%.so: $(BUILD)/collectors/%.o $(BUILD)/collectors/%.ver
	$(CC) -shared $(LDFLAGS_ALL) \
		-Wl,--version-script=$(BUILD)/collectors/$*.ver -o $@ \
		$(filter %.o,$^) $(filter %.a,$^) $(LIBS_$*)

# A plugin links its private modules, collectors/NAME/*.c.
$(foreach c,$(COLLECTORS),$(eval \
	$(BUILD)/collectors/$(c).so: $(call mod_objs,$(c))))

# Collectors that use the shared probe code.
$(BUILD)/collectors/ping.so $(BUILD)/collectors/tcp.so \
	$(BUILD)/collectors/exec.so $(BUILD)/collectors/http.so: $(PROBE_A)

# Unit suites: each links tests/unit/main.c, the daemon's objects and the
# whole library (so that plugins loaded by a test find the exported API).
$(BUILD)/tests/check_%: $(BUILD)/tests/unit/check_%.o \
		$(BUILD)/tests/unit/main.o $(CORE_OBJS) $(LIB_A) $(DYNLIST)
	@mkdir -p $(@D)
	$(CC) -pie $(LDFLAGS_ALL) -Wl,--dynamic-list=$(DYNLIST) -o $@ \
		$(BUILD)/tests/unit/check_$*.o $(BUILD)/tests/unit/main.o \
		$(CORE_OBJS) $(EXTRA_$*) $(WHOLE_LIB) $(CHECK_LIBS)

# Suites that use the link-time stand-ins of tests/stubs/ (a log that
# keeps messages, a settable clock) link them before the library, and the
# library not whole: the stubs' functions stand in for lib/log.o.
STUB_OBJS   := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard tests/stubs/*.c)))
STUB_SUITES := sched super
$(STUB_SUITES:%=$(BUILD)/tests/check_%): $(BUILD)/tests/check_%: \
		$(BUILD)/tests/unit/check_%.o $(BUILD)/tests/unit/main.o \
		$(STUB_OBJS) $(CORE_OBJS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) -pie $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(LIB_A) $(CHECK_LIBS)

# The probe code's suite links it.
EXTRA_latstats := $(PROBE_A)
$(BUILD)/tests/check_latstats: $(PROBE_A)

# The collector suites load the plugins they test, and link the private
# modules they test through their headers.
$(BUILD)/tests/check_ping: $(BUILD)/collectors/ping.so
$(BUILD)/tests/check_tcp: $(BUILD)/collectors/tcp.so
$(BUILD)/tests/check_http: $(BUILD)/collectors/http.so
$(BUILD)/tests/check_iperf: $(BUILD)/collectors/iperf.so
EXTRA_http := $(call mod_objs,http) $(PROBE_A)
EXTRA_iperf := $(call mod_objs,iperf)
$(BUILD)/tests/check_http: $(EXTRA_http)
$(BUILD)/tests/check_iperf: $(EXTRA_iperf)

# The config suite loads the test plugins.
$(BUILD)/tests/check_config: $(TEST_PLUGINS)

# The iperf suite links iperf's modules, so it links their libraries.
$(BUILD)/tests/check_iperf: CHECK_LIBS += $(LIBS_iperf)

# Collectors for tests only (tests/plugins), loaded with --plugin-dir.
$(BUILD)/tests/plugins/%.so: $(BUILD)/tests/plugins/%.o \
		$(BUILD)/tests/plugins/%.ver
	$(CC) -shared $(LDFLAGS_ALL) \
		-Wl,--version-script=$(BUILD)/tests/plugins/$*.ver -o $@ $<

# Test tools (responders, hostile servers, helpers) may use daemon modules.
$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(CORE_OBJS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) -pie $(LDFLAGS_ALL) -o $@ $< $(CORE_OBJS) $(LIB_A) $(CHECK_LIBS)

# The bench's floor for a process per run: nothing linked but libc.
$(BUILD)/tools/forkcost: $(BUILD)/tests/tools/forkcost.o
	@mkdir -p $(@D)
	$(CC) -pie $(LDFLAGS_ALL) -o $@ $<

# --- STAMP (issue 16): proto/ wire formats, qosd-reflector -------------
# proto/ holds wire formats a collector and its far end share (STAMP);
# libproto.a is position independent and hidden, for a plugin to link as
# well as the reflector.  reflector/ is qosd-reflector, a daemon of its
# own on lib/ and proto/.
PROTO_SRCS  := $(sort $(wildcard proto/*.c))
PROTO_OBJS  := $(PROTO_SRCS:%.c=$(BUILD)/%.o)
PROTO_A     := $(BUILD)/proto/libproto.a
REFL_SRCS   := $(sort $(wildcard reflector/*.c))
REFL_OBJS   := $(REFL_SRCS:%.c=$(BUILD)/%.o)
REFLECTOR   := $(BUILD)/qosd-reflector
REFL_LIBS   := $(call pc,--libs,libsystemd) -lm

$(BUILD)/proto/%.o: CFLAGS_ALL += -fvisibility=hidden

$(PROTO_A): $(PROTO_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

all: $(PROTO_A) $(REFLECTOR)

$(REFLECTOR): $(REFL_OBJS) $(PROTO_A) $(LIB_A)
	$(CC) -pie $(LDFLAGS_ALL) -o $@ $(REFL_OBJS) $(PROTO_A) $(LIB_A) \
		$(REFL_LIBS)

# The suites of the wire formats and of the reflector's modules, and the
# test tools that speak STAMP.
EXTRA_stamp := $(PROTO_A)
$(BUILD)/tests/check_stamp: $(PROTO_A)
EXTRA_acl := $(BUILD)/reflector/acl.o
$(BUILD)/tests/check_acl: $(BUILD)/reflector/acl.o
EXTRA_limit := $(BUILD)/reflector/limit.o $(BUILD)/reflector/table.o
$(BUILD)/tests/check_limit: $(EXTRA_limit)
$(BUILD)/tools/stamp_client: $(PROTO_A)

# The udp collector (the STAMP Session-Sender) links the probe code and
# the wire formats; its suite links its modules too.
$(BUILD)/collectors/udp.so: $(PROBE_A) $(PROTO_A)
EXTRA_udp := $(call mod_objs,udp) $(PROBE_A) $(PROTO_A)
$(BUILD)/tests/check_udp: $(BUILD)/collectors/udp.so $(EXTRA_udp)
$(BUILD)/tests/check_udp: CHECK_LIBS += -lm
$(BUILD)/tools/stamp_client: CHECK_LIBS += $(PROTO_A) -lm

# The binary, its unit and /etc/default file (the man page goes with the
# others).
install: install-reflector
.PHONY: install-reflector
install-reflector: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/default
	install -m 755 $(REFLECTOR) $(DESTDIR)$(SBINDIR)/qosd-reflector
	install -m 644 etc/qosd-reflector.default \
		$(DESTDIR)$(SYSCONFDIR)/default/qosd-reflector
	sed -e 's|/usr/sbin/qosd-reflector|$(SBINDIR)/qosd-reflector|g' \
		-e 's|/etc/default|$(SYSCONFDIR)/default|g' \
		systemd/qosd-reflector.service \
		>$(DESTDIR)$(UNITDIR)/qosd-reflector.service
	chmod 644 $(DESTDIR)$(UNITDIR)/qosd-reflector.service

# The reflector's unit test traces its system calls.
TEST_PKGS += strace
# --- end of STAMP --------------------------------------------------------

tests: all $(TEST_PLUGINS) $(UNIT_BINS) $(TOOL_BINS)

# Install what is missing, then build and test in a fresh make so that
# pkg-config sees the packages just installed.
check: deps
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory check-unit
	@$(MAKE) --no-print-directory check-integration

check-unit: tests check-layout
	@tests/run-unit $(UNIT_BINS)

# Every include points one way (lib <- collectors, sinks <- scheduler).
check-layout:
	@tests/tools/check-layout
	@tests/tools/check-size

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

$(BUILD)/fuzz/fuzz_lp: tests/fuzz/fuzz_lp.c lib/lp.c lib/lp_enc.c \
		lib/lp_parse.c lib/buf.c
	@mkdir -p $(@D)
	clang -std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -I. -Iinclude \
		-fsanitize=fuzzer,address,undefined -o $@ $^

# The configuration loader and every collector's configure(), fuzzed with
# the real plugins: everything built instrumented in build-fuzz/.
FUZZ_CFLAGS := -fsanitize=fuzzer-no-link,address,undefined
fuzz-config:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
		OPT='-O1 -g -fno-omit-frame-pointer' SANFLAGS='$(FUZZ_CFLAGS)' \
		build-fuzz/fuzz/fuzz_config
	@mkdir -p build-fuzz/fuzz/config-corpus build-fuzz/fuzz/crashes
	LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp \
	build-fuzz/fuzz/fuzz_config -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=build-fuzz/fuzz/crashes/ \
		-max_len=16384 -dict=tests/fuzz/config.dict \
		build-fuzz/fuzz/config-corpus tests/fixtures/config/good \
		tests/fixtures/config/bad etc

$(BUILD)/fuzz/fuzz_config: tests/fuzz/fuzz_config.c $(CORE_OBJS) $(LIB_A) \
		$(DYNLIST) $(PLUGINS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-Wl,--dynamic-list=$(DYNLIST) -o $@ tests/fuzz/fuzz_config.c \
		$(CORE_OBJS) $(WHOLE_LIB) $(CHECK_LIBS)

# The main job on real local servers, about a minute, then a table.
demo: deps
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) tests/tools/demo

bench: deps
	@tests/tools/install-deps $(BENCH_PKGS)
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) tests/bench/run

# One row per area in under two minutes (tests/bench/quick).
bench-quick: deps
	@tests/tools/install-deps $(BENCH_PKGS)
	@$(MAKE) --no-print-directory tests
	@BUILD=$(BUILD) tests/bench/run --quick

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
		-e 's|/usr/bin/qosctl|$(BINDIR)/qosctl|g' \
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

SRC_TREE := include lib collectors sinks scheduler proto reflector \
	$(SRC_TREE_CTL) $(SRC_TREE_BUS)

headers:
	@for h in $$(find $(SRC_TREE) -name '*.h' | sort); do \
		printf '#include "%s"\n' $$h | $(CC) $(CPPFLAGS_ALL) -std=c11 \
		$(WARN) -x c -fsyntax-only - || exit 1; done; echo headers ok

style:
	@bad=$$(for f in $$(find $(SRC_TREE) -name '*.[ch]' | sort); do \
	    expand -t8 $$f | \
	    awk -v f=$$f 'length > 80 { print f ":" NR }'; done); \
	if [ -n "$$bad" ]; then echo "over 80 columns:"; echo "$$bad"; \
	    exit 1; fi; echo "style ok"

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
