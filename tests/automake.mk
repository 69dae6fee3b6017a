# Unit tests: one Check suite per datapath module, named after it.
AM_TESTS_ENVIRONMENT = export top_srcdir='$(abs_top_srcdir)' \
	top_builddir='$(abs_top_builddir)' CK_DEFAULT_TIMEOUT=60;

UNIT_TESTS = \
	tests/check-csum \
	tests/check-dp \
	tests/check-eth-addr \
	tests/check-flow \
	tests/check-hmap \
	tests/check-inet \
	tests/check-mac-table \
	tests/check-packet \
	tests/check-port \
	tests/check-port-pcap \
	tests/check-port-system \
	tests/check-port-tap \
	tests/check-port-vxlan \
	tests/check-sockopt \
	tests/check-tcp-gro \
	tests/check-tso \
	tests/check-udp-gso \
	tests/check-vnet-hdr \
	tests/check-vxlan
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

noinst_LIBRARIES += tests/libfixture.a
tests_libfixture_a_SOURCES = tests/fixture.c tests/fixture.h

# Each check-NAME program is built from tests/check-NAME.c alone; programs
# elsewhere name their own LDADD.
LDADD = tests/libfixture.a $(DATAPATH_LIBS) $(CHECK_LIBS)

# The style rules of STYLE.md that a machine can check.
TESTS += tests/style.sh
EXTRA_DIST += tests/style.sh tests/summary.sh tests/data

# Fuzz targets: built only by ./configure CC=clang --enable-fuzzing.
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-decap
tests_fuzz_fuzz_decap_SOURCES = tests/fuzz/fuzz-decap.c

tests_fuzz_fuzz_decap_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_decap_LDADD = $(DATAPATH_LIBS)
endif
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/run.sh tests/deps.sh tests/run-all.sh tests/build.sh tests/demo.sh

# System tests: shell scripts that run vswitchd and vswitch-ctl (and, for
# traffic, network namespaces of their own).  They need root.
SYSTEM_TESTS = \
	tests/system/control.sh \
	tests/system/control-load.sh \
	tests/system/control-save.sh \
	tests/system/her.sh \
	tests/system/kernel-interop.sh \
	tests/system/mtu.sh \
	tests/system/pcap.sh \
	tests/system/three-hosts.sh \
	tests/system/two-hosts.sh
TESTS += $(SYSTEM_TESTS)
EXTRA_DIST += $(SYSTEM_TESTS) tests/system/lib.sh tests/system/netns.sh
