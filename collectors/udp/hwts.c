/*
 * hwts.c: hardware timestamps: what an interface can do and does.
 * Linux: SIOCETHTOOL, SIOCGHWTSTAMP, SIOCSHWTSTAMP.
 */
#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collectors/udp/hwts.h"
#include "qosd/log.h"

#define HW_WANT	(SOF_TIMESTAMPING_TX_HARDWARE | \
	    SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE)

/* Whether the card of name can stamp every packet both ways. */
static int
capable(int fd, const char *name)
{
	struct ethtool_ts_info	info;
	struct ifreq		ifr;

	memset(&info, 0, sizeof(info));
	memset(&ifr, 0, sizeof(ifr));
	info.cmd = ETHTOOL_GET_TS_INFO;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&info;
	return ioctl(fd, SIOCETHTOOL, &ifr) == 0 &&
	    (info.so_timestamping & HW_WANT) == HW_WANT &&
	    (info.tx_types & (1U << HWTSTAMP_TX_ON)) != 0 &&
	    (info.rx_filters & (1U << HWTSTAMP_FILTER_ALL)) != 0;
}

static int
iface_ready(int fd, const char *name, int enable, const char *job)
{
	struct hwtstamp_config	hc;
	struct ifreq		ifr;

	if (!capable(fd, name))
		return 0;
	memset(&hc, 0, sizeof(hc));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&hc;
	if (ioctl(fd, SIOCGHWTSTAMP, &ifr) == -1)
		return 0;
	if (hc.tx_type == HWTSTAMP_TX_ON && hc.rx_filter == HWTSTAMP_FILTER_ALL)
		return 1;
	if (!enable)
		return 0;
	if (hc.tx_type != HWTSTAMP_TX_OFF ||
	    hc.rx_filter != HWTSTAMP_FILTER_NONE) {
		log_debug("udp[%s]: %s: hardware timestamps are set up for "
		    "another use (transmit %d, receive filter %d): left alone",
		    job, name, hc.tx_type, hc.rx_filter);
		return 0;
	}
	hc.tx_type = HWTSTAMP_TX_ON;
	hc.rx_filter = HWTSTAMP_FILTER_ALL;
	if (ioctl(fd, SIOCSHWTSTAMP, &ifr) == -1) {
		log_warning("udp[%s]: %s: cannot turn hardware timestamps on: "
		    "%m (CAP_NET_ADMIN is needed; or hwstamp_ctl -i %s -t 1 "
		    "-r 1): software timestamps", job, name, name);
		return 0;
	}
	log_notice("udp[%s]: %s: hardware timestamps turned on", job, name);
	return hc.tx_type == HWTSTAMP_TX_ON &&
	    hc.rx_filter == HWTSTAMP_FILTER_ALL;
}

int
udp_hwts_ready(const char *device, int enable, const char *job)
{
	struct if_nameindex	*ifs, *i;
	int			 fd, any = 0;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	if (device != NULL)
		any = iface_ready(fd, device, enable, job);
	else if ((ifs = if_nameindex()) != NULL) {
		for (i = ifs; i->if_index != 0; i++)
			any |= iface_ready(fd, i->if_name, enable, job);
		if_freenameindex(ifs);
	}
	close(fd);
	return any;
}
