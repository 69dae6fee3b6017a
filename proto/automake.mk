# The control protocol: generated protobuf-c code, framing, and the request
# checks that vswitch-ctl and vswitchd share.
noinst_LIBRARIES += proto/libproto.a
proto_libproto_a_SOURCES = \
	proto/frame.c proto/frame.h \
	proto/request.c proto/request.h
nodist_proto_libproto_a_SOURCES = proto/vswitch.pb-c.c proto/vswitch.pb-c.h
proto_libproto_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)/proto -I$(top_srcdir)/proto \
	$(PROTOBUF_C_CFLAGS)
BUILT_SOURCES += proto/vswitch.pb-c.c proto/vswitch.pb-c.h
CLEANFILES += proto/vswitch.pb-c.c proto/vswitch.pb-c.h
EXTRA_DIST += proto/vswitch.proto

# protoc-c names its outputs after the input's path relative to --proto_path.
proto/vswitch.pb-c.c proto/vswitch.pb-c.h: proto/vswitch.proto
	$(AM_V_GEN)$(MKDIR_P) proto && \
	$(PROTOC_C) --proto_path=$(top_srcdir)/proto \
		--c_out=$(top_builddir)/proto $(top_srcdir)/proto/vswitch.proto
