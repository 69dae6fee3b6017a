# vswitchd: the libuv loop, the control server, the configuration store.
# Everything but main() is a library, so that unit tests can link it.
noinst_LIBRARIES += switchd/libswitchd.a
switchd_libswitchd_a_SOURCES = \
	switchd/bridge.c switchd/bridge.h \
	switchd/capture-buffer.c switchd/capture-buffer.h \
	switchd/capture-filter.c switchd/capture-filter.h \
	switchd/capture-path.c switchd/capture-path.h \
	switchd/config-edit.c switchd/config-edit.h \
	switchd/config-index.c switchd/config-index.h \
	switchd/config-steps.c switchd/config-steps.h \
	switchd/config-store.c switchd/config-store.h \
	switchd/control.c switchd/control.h \
	switchd/evpn-batch.c switchd/evpn-batch.h \
	switchd/fdb-dump.c switchd/fdb-dump.h \
	switchd/flow-dump.c switchd/flow-dump.h \
	switchd/flow-rpc.c switchd/flow-rpc.h \
	switchd/flow-trace.c switchd/flow-trace.h \
	switchd/flow-store.c switchd/flow-store.h \
	switchd/link-monitor.c switchd/link-monitor.h \
	switchd/live-capture.c switchd/live-capture.h \
	switchd/monitor.c switchd/monitor.h \
	switchd/monitor-queue.c switchd/monitor-queue.h \
	switchd/log.c switchd/log.h \
	switchd/loop-watch.c switchd/loop-watch.h \
	switchd/port-closer.c switchd/port-closer.h \
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

# The service: a systemd unit, its options file, the state directories.
# The unit names the installed paths, so make writes it.
EXTRA_DIST += switchd/vswitchd.service.in switchd/vswitchd.default
CLEANFILES += switchd/vswitchd.service
if HAVE_SYSTEMD_UNIT
systemdsystemunit_DATA = switchd/vswitchd.service
endif
switchd/vswitchd.service: switchd/vswitchd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) switchd && sed -e 's|@sbindir[@]|$(sbindir)|g' \
		-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		-e 's|@localstatedir[@]|$(localstatedir)|g' \
		$(srcdir)/switchd/vswitchd.service.in >$@.tmp && mv $@.tmp $@

# An options file already there is the operator's: it stays.
install-data-local:
	$(MKDIR_P) '$(DESTDIR)$(sysconfdir)/default' \
		'$(DESTDIR)$(localstatedir)/lib/vswitch' \
		'$(DESTDIR)$(localstatedir)/log/vswitch'
	test -e '$(DESTDIR)$(sysconfdir)/default/vswitchd' || \
		$(INSTALL_DATA) $(srcdir)/switchd/vswitchd.default \
			'$(DESTDIR)$(sysconfdir)/default/vswitchd'

# The state directories go only if empty: a configuration stays.
uninstall-local:
	rm -f '$(DESTDIR)$(sysconfdir)/default/vswitchd'
	-rmdir '$(DESTDIR)$(localstatedir)/lib/vswitch' \
		'$(DESTDIR)$(localstatedir)/log/vswitch' 2>/dev/null

# distcheck installs as an ordinary user under its own prefix, and runs
# the unit tests only (the system tests need root and take minutes).
AM_DISTCHECK_CONFIGURE_FLAGS = --disable-system-tests \
	--with-systemdsystemunitdir=$${dc_install_base}/lib/systemd/system

# The check of a batch of EVPN commands, against a datapath of its own.
check_PROGRAMS += tests/check-evpn-batch
TESTS += tests/check-evpn-batch
tests_check_evpn_batch_CPPFLAGS = $(SWITCHD_CPPFLAGS) -I$(top_srcdir)/tests
tests_check_evpn_batch_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS)
