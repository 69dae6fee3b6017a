# vswitch-evpn: the BGP EVPN agent that runs beside vswitchd and gobgpd.  A
# Python program (its docstring says why), installed without its suffix,
# with the Python modules of GoBGP's gRPC messages, which protoc makes
# from GoBGP's .proto files, in a directory of its own.
sbin_SCRIPTS = evpn/vswitch-evpn
evpnpydir = $(pkgdatadir)/evpn
EVPN_PB2 = evpn/gobgp_pb2.py evpn/attribute_pb2.py evpn/capability_pb2.py
evpnpy_DATA = $(EVPN_PB2)
CLEANFILES += evpn/vswitch-evpn $(EVPN_PB2)
EXTRA_DIST += evpn/vswitch-evpn.py

evpn/vswitch-evpn: evpn/vswitch-evpn.py $(EVPN_PB2)
	$(MKDIR_P) evpn
	sed -e 's|[@]EVPN_PYTHON[@]|$(EVPN_PYTHON)|' \
	    -e 's|[@]evpnpydir[@]|$(evpnpydir)|' \
	    $(srcdir)/evpn/vswitch-evpn.py >$@.tmp
	chmod +x $@.tmp
	mv $@.tmp $@

# One protoc run makes the three: the first stands for all of them.
evpn/attribute_pb2.py evpn/capability_pb2.py: evpn/gobgp_pb2.py
evpn/gobgp_pb2.py: $(GOBGP_PROTO_DIR)/gobgp.proto \
		$(GOBGP_PROTO_DIR)/attribute.proto \
		$(GOBGP_PROTO_DIR)/capability.proto
	$(MKDIR_P) evpn
	$(PROTOC) -I$(GOBGP_PROTO_DIR) -I$(PROTOBUF_PROTO_DIR) --python_out=evpn \
	    gobgp.proto attribute.proto capability.proto
