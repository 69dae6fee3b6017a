# Unit tests: one Check suite per datapath module, named after it.
AM_TESTS_ENVIRONMENT = export top_srcdir='$(abs_top_srcdir)' \
	top_builddir='$(abs_top_builddir)' CK_DEFAULT_TIMEOUT=60;

UNIT_TESTS = \
	tests/check-actions \
	tests/check-classifier \
	tests/check-csum \
	tests/check-dp \
	tests/check-dstring \
	tests/check-emc \
	tests/check-eth-addr \
	tests/check-flow \
	tests/check-flow-exec \
	tests/check-flow-table \
	tests/check-flow-text \
	tests/check-hmap \
	tests/check-inet \
	tests/check-mac-table \
	tests/check-match \
	tests/check-mcast-groups \
	tests/check-packet \
	tests/check-port \
	tests/check-port-pcap \
	tests/check-port-system \
	tests/check-port-tap \
	tests/check-port-vxlan \
	tests/check-rx-ring \
	tests/check-tunnel-tap \
	tests/check-sockopt \
	tests/check-gro \
	tests/check-tso \
	tests/check-udp-gso \
	tests/check-vnet-hdr \
	tests/check-vxlan-io \
	tests/check-write-batch \
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

# The linear scan that check-classifier and fuzz-classifier compare with.
EXTRA_DIST += tests/classifier-ref.h

# Fuzz targets: built only by ./configure CC=clang --enable-fuzzing.
# Helpers the targets share: the datapath the frame targets feed, and the
# temporary file for those that read one.
if ENABLE_FUZZING
noinst_LIBRARIES += tests/fuzz/libfuzz.a
tests_fuzz_libfuzz_a_SOURCES = tests/fuzz/fuzz-dp.c tests/fuzz/fuzz-dp.h \
	tests/fuzz/fuzz-file.c tests/fuzz/fuzz-file.h
FUZZER_LINK_FLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
FUZZER_DP_LIBS = tests/fuzz/libfuzz.a $(DATAPATH_LIBS)

noinst_PROGRAMS += tests/fuzz/fuzz-decap
tests_fuzz_fuzz_decap_SOURCES = tests/fuzz/fuzz-decap.c
tests_fuzz_fuzz_decap_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_decap_LDADD = $(FUZZER_DP_LIBS)

noinst_PROGRAMS += tests/fuzz/fuzz-offload
tests_fuzz_fuzz_offload_SOURCES = tests/fuzz/fuzz-offload.c
tests_fuzz_fuzz_offload_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_offload_LDADD = $(FUZZER_DP_LIBS)

noinst_PROGRAMS += tests/fuzz/fuzz-request
tests_fuzz_fuzz_request_SOURCES = tests/fuzz/fuzz-request.c
tests_fuzz_fuzz_request_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_fuzz_fuzz_request_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_request_LDADD = proto/libproto.a $(DATAPATH_LIBS) \
	$(PROTOBUF_C_LIBS)

noinst_PROGRAMS += tests/fuzz/fuzz-pcap
tests_fuzz_fuzz_pcap_SOURCES = tests/fuzz/fuzz-pcap.c
tests_fuzz_fuzz_pcap_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_pcap_LDADD = $(FUZZER_DP_LIBS)

noinst_PROGRAMS += tests/fuzz/fuzz-config
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz-config.c
tests_fuzz_fuzz_config_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_fuzz_fuzz_config_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_config_LDADD = tests/fuzz/libfuzz.a $(SWITCHD_LDADD)

noinst_PROGRAMS += tests/fuzz/fuzz-flow-store
tests_fuzz_fuzz_flow_store_SOURCES = tests/fuzz/fuzz-flow-store.c
tests_fuzz_fuzz_flow_store_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_fuzz_fuzz_flow_store_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_flow_store_LDADD = $(SWITCHD_LDADD)

noinst_PROGRAMS += tests/fuzz/fuzz-flows
tests_fuzz_fuzz_flows_SOURCES = tests/fuzz/fuzz-flows.c
tests_fuzz_fuzz_flows_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_flows_LDADD = $(FUZZER_DP_LIBS)

noinst_PROGRAMS += tests/fuzz/fuzz-classifier
tests_fuzz_fuzz_classifier_SOURCES = tests/fuzz/fuzz-classifier.c
tests_fuzz_fuzz_classifier_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests
tests_fuzz_fuzz_classifier_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_classifier_LDADD = $(DATAPATH_LIBS)

noinst_PROGRAMS += tests/fuzz/fuzz-flow-text
tests_fuzz_fuzz_flow_text_SOURCES = tests/fuzz/fuzz-flow-text.c
tests_fuzz_fuzz_flow_text_LDFLAGS = $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_flow_text_LDADD = $(DATAPATH_LIBS)

# Writes the seed corpora that are not plain frames (see its comment).
noinst_PROGRAMS += tests/fuzz/make-seeds
# The command table, with every builder it names (ctl/automake.mk).
tests_fuzz_make_seeds_SOURCES = tests/fuzz/make-seeds.c $(CTL_TABLE_SOURCES)
tests_fuzz_make_seeds_CPPFLAGS = $(SWITCHD_CPPFLAGS) -I$(top_srcdir)/ctl \
	-I$(top_srcdir)/tests
tests_fuzz_make_seeds_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS)
endif
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/run.sh tests/deps.sh tests/run-all.sh tests/build.sh tests/demo.sh

# A shell test that hangs fails after 20 minutes instead of holding up the
# whole run (the system tests' trap cleans up on SIGTERM).
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = timeout --kill-after=30 1200 bash

# System tests: shell scripts that run vswitchd and vswitch-ctl (and, for
# traffic, network namespaces of their own).  They need root.
SYSTEM_TESTS = \
	tests/system/batch.sh \
	tests/system/batch-scale.sh \
	tests/system/bench-tools.sh \
	tests/system/capture.sh \
	tests/system/completion.sh \
	tests/system/control.sh \
	tests/system/journal.sh \
	tests/system/control-load.sh \
	tests/system/control-save.sh \
	tests/system/daemon-files.sh \
	tests/system/flows.sh \
	tests/system/flows-acl.sh \
	tests/system/flows-tunnel.sh \
	tests/system/groups.sh \
	tests/system/monitor.sh \
	tests/system/evpn.sh \
	tests/system/evpn-vni.sh \
	tests/system/evpn-frr.sh \
	tests/system/her.sh \
	tests/system/kernel-interop.sh \
	tests/system/learning.sh \
	tests/system/lifecycle.sh \
	tests/system/max-macs.sh \
	tests/system/mtu.sh \
	tests/system/pcap.sh \
	tests/system/pcap-files.sh \
	tests/system/src-ports.sh \
	tests/system/three-hosts.sh \
	tests/system/tunnel-gso.sh \
	tests/system/two-hosts.sh \
	tests/system/underlay.sh \
	tests/system/uso.sh
if !ENABLE_SANITIZERS
SYSTEM_TESTS += tests/system/vm-lifecycle.sh
# The install tree, and the Debian package as a service in a container.
SYSTEM_TESTS += tests/system/install.sh tests/system/service.sh
endif
if ENABLE_SYSTEM_TESTS
TESTS += $(SYSTEM_TESTS)
endif
EXTRA_DIST += $(SYSTEM_TESTS) tests/system/lib.sh tests/system/netns.sh \
	tests/system/evpn-hosts.sh \
	tests/system/guest.sh tests/system/vm-lifecycle.sh \
	tests/system/install.sh tests/system/service.sh \
	tests/system/hold-connections.py tests/system/xfer.py \
	tests/system/uso.py tests/system/readline.py
