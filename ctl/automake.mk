# vswitch-ctl: the command-line tool that configures and inspects vswitchd.
bin_PROGRAMS += ctl/vswitch-ctl
ctl_vswitch_ctl_SOURCES = \
	ctl/build.c ctl/build.h \
	ctl/build-flows.c \
	ctl/capture.c ctl/capture.h \
	ctl/client.c ctl/client.h \
	ctl/command.c ctl/command.h \
	ctl/output.c ctl/output.h \
	ctl/print.c ctl/print.h \
	ctl/print-flows.c \
	ctl/vswitch-ctl.c
ctl_vswitch_ctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/proto \
	-I$(top_builddir)/proto $(PROTOBUF_C_CFLAGS) $(PCAP_CFLAGS)
ctl_vswitch_ctl_LDADD = proto/libproto.a $(DATAPATH_LIBS) \
	$(PROTOBUF_C_LIBS)

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
