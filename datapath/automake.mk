# libdatapath: packet processing, no event loop and no sockets.
noinst_LIBRARIES += datapath/libdatapath.a
datapath_libdatapath_a_SOURCES = \
	datapath/byte-order.h \
	datapath/csum.c datapath/csum.h \
	datapath/dp.c datapath/dp.h \
	datapath/eth-addr.c datapath/eth-addr.h \
	datapath/flow.c datapath/flow.h \
	datapath/hash.c datapath/hash.h \
	datapath/headers.h \
	datapath/hmap.c datapath/hmap.h \
	datapath/inet.c datapath/inet.h \
	datapath/list.h \
	datapath/mac-table.c datapath/mac-table.h \
	datapath/packet.c datapath/packet.h \
	datapath/port.c datapath/port.h \
	datapath/util.h \
	datapath/vxlan.c datapath/vxlan.h
