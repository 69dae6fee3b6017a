# Unit tests of the control protocol and the daemon's configuration: they
# link the proto and switchd libraries besides the datapath.
CONTROL_TESTS = \
	tests/check-capture-buffer \
	tests/check-capture-filter \
	tests/check-capture-path \
	tests/check-config-edit \
	tests/check-config-steps \
	tests/check-config-store \
	tests/check-fdb-dump \
	tests/check-flow-rpc \
	tests/check-flow-store \
	tests/check-frame \
	tests/check-link-monitor \
	tests/check-log \
	tests/check-monitor-queue \
	tests/check-port-closer \
	tests/check-request

check_PROGRAMS += $(CONTROL_TESTS)
TESTS += $(CONTROL_TESTS)

tests_check_capture_buffer_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_capture_buffer_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_monitor_queue_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_monitor_queue_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_capture_filter_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_capture_filter_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_capture_path_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_capture_path_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_config_edit_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_config_edit_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_config_steps_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_config_steps_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_config_store_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_config_store_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_fdb_dump_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_fdb_dump_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_flow_rpc_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_flow_rpc_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_flow_store_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_flow_store_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_frame_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_frame_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_link_monitor_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_link_monitor_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_log_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_log_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_port_closer_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_port_closer_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)

tests_check_request_CPPFLAGS = $(SWITCHD_CPPFLAGS)
tests_check_request_LDADD = tests/libfixture.a $(SWITCHD_LDADD) \
	$(CHECK_LIBS) $(PCAP_LIBS)
