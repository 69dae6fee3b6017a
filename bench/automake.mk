# Benchmarks are built by a plain "make" so that they cannot rot.
noinst_PROGRAMS += bench/dp-bench
bench_dp_bench_SOURCES = bench/dp-bench.c bench/bench-acl.c bench/bench-acl.h
bench_dp_bench_LDADD = $(DATAPATH_LIBS)
EXTRA_DIST += bench/README.md bench/sysport-bench.sh

noinst_PROGRAMS += bench/capture-bench
bench_capture_bench_SOURCES = bench/capture-bench.c
bench_capture_bench_LDADD = $(DATAPATH_LIBS)
