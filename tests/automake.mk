# Unit tests: one Check suite per datapath module, named after it.
AM_TESTS_ENVIRONMENT = export top_srcdir='$(abs_top_srcdir)' \
	top_builddir='$(abs_top_builddir)' CK_DEFAULT_TIMEOUT=60;

UNIT_TESTS = \
	tests/check-csum \
	tests/check-dp \
	tests/check-eth-addr \
	tests/check-flow \
	tests/check-hmap \
	tests/check-mac-table \
	tests/check-packet \
	tests/check-vxlan
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

noinst_LIBRARIES += tests/libfixture.a
tests_libfixture_a_SOURCES = tests/fixture.c tests/fixture.h
tests_libfixture_a_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PCAP_CFLAGS)

TEST_LDADD = tests/libfixture.a datapath/libdatapath.a $(CHECK_LIBS) \
	$(PCAP_LIBS)
TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PCAP_CFLAGS)

tests_check_csum_SOURCES = tests/check-csum.c
tests_check_csum_CFLAGS = $(TEST_CFLAGS)
tests_check_csum_LDADD = $(TEST_LDADD)
tests_check_dp_SOURCES = tests/check-dp.c
tests_check_dp_CFLAGS = $(TEST_CFLAGS)
tests_check_dp_LDADD = $(TEST_LDADD)
tests_check_eth_addr_SOURCES = tests/check-eth-addr.c
tests_check_eth_addr_CFLAGS = $(TEST_CFLAGS)
tests_check_eth_addr_LDADD = $(TEST_LDADD)
tests_check_flow_SOURCES = tests/check-flow.c
tests_check_flow_CFLAGS = $(TEST_CFLAGS)
tests_check_flow_LDADD = $(TEST_LDADD)
tests_check_hmap_SOURCES = tests/check-hmap.c
tests_check_hmap_CFLAGS = $(TEST_CFLAGS)
tests_check_hmap_LDADD = $(TEST_LDADD)
tests_check_mac_table_SOURCES = tests/check-mac-table.c
tests_check_mac_table_CFLAGS = $(TEST_CFLAGS)
tests_check_mac_table_LDADD = $(TEST_LDADD)
tests_check_packet_SOURCES = tests/check-packet.c
tests_check_packet_CFLAGS = $(TEST_CFLAGS)
tests_check_packet_LDADD = $(TEST_LDADD)
tests_check_vxlan_SOURCES = tests/check-vxlan.c
tests_check_vxlan_CFLAGS = $(TEST_CFLAGS)
tests_check_vxlan_LDADD = $(TEST_LDADD)

# The style rules of STYLE.md that a machine can check.
TESTS += tests/style.sh
EXTRA_DIST += tests/style.sh tests/summary.sh tests/data

# Fuzz targets: built only by ./configure CC=clang --enable-fuzzing.
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-decap
tests_fuzz_fuzz_decap_SOURCES = tests/fuzz/fuzz-decap.c
tests_fuzz_fuzz_decap_CFLAGS = $(AM_CFLAGS)
tests_fuzz_fuzz_decap_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_decap_LDADD = datapath/libdatapath.a
endif
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/run.sh tests/deps.sh tests/run-all.sh tests/build.sh tests/demo.sh
