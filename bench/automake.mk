# Benchmarks are built by a plain "make" so that they cannot rot.
noinst_PROGRAMS += bench/dp-bench
bench_dp_bench_SOURCES = bench/dp-bench.c bench/bench-acl.c bench/bench-acl.h
bench_dp_bench_LDADD = $(DATAPATH_LIBS)
EXTRA_DIST += bench/README.md bench/setup.sh bench/sysport-bench.sh

noinst_PROGRAMS += bench/mac-table-bench
bench_mac_table_bench_SOURCES = bench/mac-table-bench.c
bench_mac_table_bench_LDADD = $(DATAPATH_LIBS)

noinst_PROGRAMS += bench/capture-bench
bench_capture_bench_SOURCES = bench/capture-bench.c
bench_capture_bench_LDADD = $(DATAPATH_LIBS)

# The traffic programs of e2e-bench.sh.
noinst_PROGRAMS += bench/udpblast bench/udpsink bench/tcp-rr
bench_udpblast_SOURCES = bench/udpblast.c
bench_udpsink_SOURCES = bench/udpsink.c
bench_tcp_rr_SOURCES = bench/tcp-rr.c
EXTRA_DIST += bench/e2e-bench.sh bench/fdb-scale.sh \
	bench/evpn-bench.sh bench/gobgp-api-bench.sh bench/provision-bench.sh

noinst_PROGRAMS += bench/group-bench
bench_group_bench_SOURCES = bench/group-bench.c
bench_group_bench_LDADD = $(DATAPATH_LIBS)
