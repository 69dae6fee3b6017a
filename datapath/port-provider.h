#ifndef DATAPATH_PORT_PROVIDER_H
#define DATAPATH_PORT_PROVIDER_H 1

#include "eth-addr.h"
#include "port.h"

/* The port classes, one per implementation file, for the registry in
 * port.c.  Nothing else refers to them by name. */
extern const struct port_class port_tap_class;
extern const struct port_class port_system_class;
extern const struct port_class port_vxlan_class;
extern const struct port_class port_pcap_class;

/* Helpers the implementations share. */

/* Sets 'fd' non-blocking and close-on-exec.  Returns 0 or an errno value. */
int port_set_nonblocking(int fd);

/* Brings interface 'name' up (or checks that it exists, if 'up' is false)
 * and reads its index and MTU; either pointer may be NULL.  Returns 0 or an
 * errno value. */
int port_netdev_info(const char *name, bool up, int *ifindex, int *mtu);

/* Reads the Ethernet address of interface 'name'.  Returns 0 or an errno
 * value. */
int port_netdev_mac(const char *name, struct eth_addr *mac);

#endif /* datapath/port-provider.h */
