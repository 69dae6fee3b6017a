# libdatapath: packet processing; no event loop, and sockets only inside
# the port implementations.
noinst_LIBRARIES += datapath/libdatapath.a
datapath_libdatapath_a_SOURCES = \
	datapath/actions.c datapath/actions.h \
	datapath/actions-text.c datapath/actions-text.h \
	datapath/byte-order.h \
	datapath/classifier.c datapath/classifier.h \
	datapath/csum.c datapath/csum.h \
	datapath/dp.c datapath/dp.h datapath/dp-private.h \
	datapath/dp-trace.c \
	datapath/dp-evpn.c \
	datapath/dstring.c datapath/dstring.h \
	datapath/eth-addr.c datapath/eth-addr.h \
	datapath/flow.c datapath/flow.h \
	datapath/emc.c datapath/emc.h \
	datapath/flow-exec.c datapath/flow-exec.h \
	datapath/flow-fields.c datapath/flow-fields.h \
	datapath/flow-scan.c datapath/flow-scan.h \
	datapath/flow-table.c datapath/flow-table.h \
	datapath/flow-text.c datapath/flow-text.h \
	datapath/flow-text-format.c \
	datapath/hash.c datapath/hash.h \
	datapath/headers.h \
	datapath/hmap.c datapath/hmap.h \
	datapath/inet.c datapath/inet.h \
	datapath/list.h \
	datapath/match.c datapath/match.h \
	datapath/mac-table.c datapath/mac-table.h \
	datapath/mcast-groups.c datapath/mcast-groups.h \
	datapath/match.c datapath/match.h \
	datapath/packet.c datapath/packet.h \
	datapath/port.c datapath/port.h datapath/port-provider.h \
	datapath/port-offload.c datapath/port-offload.h \
	datapath/port-pcap.c \
	datapath/port-system.c \
	datapath/rx-ring.c datapath/rx-ring.h \
	datapath/port-tap.c \
	datapath/port-vxlan.c \
	datapath/sockopt.c datapath/sockopt.h \
	datapath/udp-gso.c datapath/udp-gso.h \
	datapath/gro.c datapath/gro.h \
	datapath/tso.c datapath/tso.h \
	datapath/tunnel-tap.c datapath/tunnel-tap.h \
	datapath/util.h \
	datapath/vnet-hdr.c datapath/vnet-hdr.h \
	datapath/vxlan-io.c datapath/vxlan-io.h \
	datapath/write-batch.c datapath/write-batch.h \
	datapath/vxlan.c datapath/vxlan.h

# What a program linking the datapath needs (pcap ports use libpcap).
DATAPATH_LIBS = datapath/libdatapath.a $(PCAP_LIBS) $(LIBURING_LIBS)
