# vswitch-ctl: the command-line tool that configures and inspects vswitchd.
bin_PROGRAMS += ctl/vswitch-ctl
ctl_vswitch_ctl_SOURCES = \
	ctl/batch.c ctl/batch.h \
	ctl/build.c ctl/build.h \
	ctl/build-flows.c \
	ctl/capture.c ctl/capture.h \
	ctl/client.c ctl/client.h \
	ctl/command.c ctl/command.h \
	ctl/complete.c ctl/complete.h ctl/complete-daemon.c \
	ctl/monitor.c ctl/monitor.h \
	ctl/output.c ctl/output.h \
	ctl/print.c ctl/print.h \
	ctl/print-flows.c \
	ctl/usage.c ctl/usage.h \
	ctl/vswitch-ctl.c
ctl_vswitch_ctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proto \
	-I$(top_builddir)/proto $(PROTOBUF_C_CFLAGS) $(PCAP_CFLAGS)
ctl_vswitch_ctl_LDADD = proto/libproto.a $(DATAPATH_LIBS) \
	$(PROTOBUF_C_LIBS)

# The bash completion, installed under the command's name, which is how
# bash-completion finds it (see configure.ac for where).
bashcompletiondir = $(BASH_COMPLETION_DIR)
if INSTALL_BASH_COMPLETION
bashcompletion_DATA = ctl/completion/vswitch-ctl
endif
noinst_DATA = ctl/completion/vswitch-ctl
CLEANFILES += ctl/completion/vswitch-ctl
EXTRA_DIST += ctl/vswitch-ctl.bash
ctl/completion/vswitch-ctl: $(srcdir)/ctl/vswitch-ctl.bash
	$(AM_V_GEN)$(MKDIR_P) ctl/completion \
	&& cp $(srcdir)/ctl/vswitch-ctl.bash $@

# Completion and the usage texts it reads, against the real command
# table and a daemon played by the test.
CTL_TABLE_SOURCES = ctl/batch.c ctl/batch.h \
	ctl/build.c ctl/build.h ctl/build-flows.c \
	ctl/capture.c ctl/capture.h ctl/client.c ctl/client.h \
	ctl/command.c ctl/command.h ctl/monitor.c ctl/monitor.h \
	ctl/output.c ctl/output.h ctl/print.c \
	ctl/print.h ctl/print-flows.c ctl/usage.c ctl/usage.h
check_PROGRAMS += tests/check-usage tests/check-complete tests/check-monitor
TESTS += tests/check-usage tests/check-complete tests/check-monitor
tests_check_usage_SOURCES = tests/check-usage.c $(CTL_TABLE_SOURCES)
tests_check_usage_CPPFLAGS = $(ctl_vswitch_ctl_CPPFLAGS) -I$(top_srcdir)/ctl
tests_check_usage_LDADD = tests/libfixture.a proto/libproto.a \
	$(DATAPATH_LIBS) $(PROTOBUF_C_LIBS) $(CHECK_LIBS) $(PCAP_LIBS)
tests_check_complete_SOURCES = tests/check-complete.c \
	ctl/complete.c ctl/complete.h $(CTL_TABLE_SOURCES)
tests_check_complete_CPPFLAGS = $(tests_check_usage_CPPFLAGS)
tests_check_complete_LDADD = $(tests_check_usage_LDADD)
tests_check_monitor_SOURCES = tests/check-monitor.c $(CTL_TABLE_SOURCES)
tests_check_monitor_CPPFLAGS = $(tests_check_usage_CPPFLAGS)
tests_check_monitor_LDADD = $(tests_check_usage_LDADD)

# The batch form: its parser and the building of each line.
check_PROGRAMS += tests/check-batch
TESTS += tests/check-batch
tests_check_batch_SOURCES = tests/check-batch.c $(CTL_TABLE_SOURCES)
tests_check_batch_CPPFLAGS = $(tests_check_usage_CPPFLAGS)
tests_check_batch_LDADD = $(tests_check_usage_LDADD)

# The printer is tested on its own: it knows nothing of the protocol.
check_PROGRAMS += tests/check-output
TESTS += tests/check-output
tests_check_output_SOURCES = tests/check-output.c ctl/output.c ctl/output.h
tests_check_output_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ctl
tests_check_output_LDADD = tests/libfixture.a $(DATAPATH_LIBS) \
	$(CHECK_LIBS) $(PCAP_LIBS)

# The flow commands' builders and printers, with the request code they
# need.
check_PROGRAMS += tests/check-build-flows
TESTS += tests/check-build-flows
tests_check_build_flows_SOURCES = tests/check-build-flows.c \
	ctl/build.c ctl/build.h ctl/build-flows.c ctl/output.c ctl/output.h \
	ctl/print.h ctl/print-flows.c
tests_check_build_flows_CPPFLAGS = $(ctl_vswitch_ctl_CPPFLAGS) \
	-I$(top_srcdir)/ctl
tests_check_build_flows_LDADD = tests/libfixture.a proto/libproto.a \
	$(DATAPATH_LIBS) $(PROTOBUF_C_LIBS) $(CHECK_LIBS) $(PCAP_LIBS)
