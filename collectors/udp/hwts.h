/*
 * hwts.h: hardware timestamps for the udp collector: whether a network
 * interface delivers them (SO_TIMESTAMPING with SOF_TIMESTAMPING_RAW_
 * HARDWARE then carries the card's receive and transmit times), read
 * with ETHTOOL_GET_TS_INFO and SIOCGHWTSTAMP, and turned on with
 * SIOCSHWTSTAMP when asked.  Loopback and veth have none: software
 * timestamps are used there.
 */
#ifndef COLLECTORS_UDP_HWTS_H
#define COLLECTORS_UDP_HWTS_H

/*
 * Whether device (or, NULL, any interface of this host) timestamps every
 * packet in hardware now (transmit on, every received packet): 1 or 0.
 * With enable, an interface that can but has hardware timestamps off
 * (and only off: another program's filter is left alone) is turned on
 * first, which needs CAP_NET_ADMIN.  job names the run in log lines.
 */
int	udp_hwts_ready(const char *device, int enable, const char *job);

#endif /* COLLECTORS_UDP_HWTS_H */
