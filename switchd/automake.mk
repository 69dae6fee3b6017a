# vswitchd: the libuv loop, the control server, the configuration store.
# Everything but main() is a library, so that unit tests can link it.
noinst_LIBRARIES += switchd/libswitchd.a
switchd_libswitchd_a_SOURCES = \
	switchd/bridge.c switchd/bridge.h \
	switchd/capture-buffer.c switchd/capture-buffer.h \
	switchd/capture-filter.c switchd/capture-filter.h \
	switchd/capture-path.c switchd/capture-path.h \
	switchd/config-edit.c switchd/config-edit.h \
	switchd/config-store.c switchd/config-store.h \
	switchd/control.c switchd/control.h \
	switchd/fdb-dump.c switchd/fdb-dump.h \
	switchd/flow-dump.c switchd/flow-dump.h \
	switchd/flow-rpc.c switchd/flow-rpc.h \
	switchd/flow-trace.c switchd/flow-trace.h \
	switchd/flow-store.c switchd/flow-store.h \
	switchd/link-monitor.c switchd/link-monitor.h \
	switchd/live-capture.c switchd/live-capture.h \
	switchd/log.c switchd/log.h \
	switchd/rpc.c switchd/rpc.h \
	switchd/wire-capture.c switchd/wire-capture.h \
	switchd/xmalloc.c switchd/xmalloc.h
switchd_libswitchd_a_CPPFLAGS = $(SWITCHD_CPPFLAGS)

SWITCHD_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)/proto \
	-I$(top_srcdir)/proto -I$(top_srcdir)/switchd $(PROTOBUF_C_CFLAGS) \
	$(LIBUV_CFLAGS) $(LIBMNL_CFLAGS) $(LIBSYSTEMD_CFLAGS)
SWITCHD_LDADD = switchd/libswitchd.a proto/libproto.a $(DATAPATH_LIBS) \
	$(PROTOBUF_C_LIBS) $(LIBUV_LIBS) $(LIBMNL_LIBS) \
	$(LIBSYSTEMD_LIBS)

sbin_PROGRAMS += switchd/vswitchd
switchd_vswitchd_SOURCES = switchd/vswitchd.c
switchd_vswitchd_CPPFLAGS = $(SWITCHD_CPPFLAGS)
switchd_vswitchd_LDADD = $(SWITCHD_LDADD)
