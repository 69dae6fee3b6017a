#ifndef SWITCHD_FLOW_COMPOSE_H
#define SWITCHD_FLOW_COMPOSE_H 1

struct flow_key;
struct packet;

/* Builds in 'p', which holds no frame, a frame whose extracted key equals
 * 'key' where the key's fields are set, for trace: Ethernet, a VLAN tag
 * if 'key' has one, then IPv4, IPv6 or ARP and TCP, UDP or ICMP headers,
 * with no payload, padded to the 60 bytes of a minimal frame.  Header
 * fields a key does not carry are what a sender would put (IPv4 header
 * length and checksum, TCP data offset).  The key's metadata (input port,
 * tunnel) is not part of a frame. */
void flow_compose(const struct flow_key *key, struct packet *p);

#endif /* switchd/flow-compose.h */
