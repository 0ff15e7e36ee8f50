/*
 * acct.h: the udp collector's account of one target's probes: what each
 * probe's send and its answer carried (timestamps at three layers, and
 * the reflector's own), and the figures of a run made from them: the RTT
 * seen by the application and by the kernel, the host's stack time, the
 * reflector's residence, one-way delays and their RFC 3550 jitter, loss
 * per direction, reordering and duplicates.
 *
 * No I/O and no clock: collectors/udp.c and collectors/udp/sock.c feed it
 * what they read, and the unit suite feeds it synthetic answers.  Times
 * are nanoseconds: CLOCK_MONOTONIC for the application's send and
 * receive, CLOCK_REALTIME for T1 (the probe's send time, in the packet),
 * the kernel's software timestamps and the reflector's T2 and T3, and the
 * network card's clock for hardware timestamps (only ever subtracted from
 * one another).
 */
#ifndef COLLECTORS_UDP_ACCT_H
#define COLLECTORS_UDP_ACCT_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/probe/latstats.h"

/* The layers a timestamp comes from, worst to best. */
enum udp_layer {
	UDP_TS_APP,		/* the application's clock around send/recv */
	UDP_TS_SW,		/* the kernel's software timestamps */
	UDP_TS_HW		/* the network card's */
};

/* What the reflector is: stateless copies our numbers (RFC 8762 sec. 4). */
enum udp_refl {
	UDP_REFL_AUTO,		/* stateful once its numbers show it */
	UDP_REFL_STATEFUL,
	UDP_REFL_STATELESS
};

enum udp_pstate {
	UDP_P_UNSENT,
	UDP_P_SENT,		/* waiting, or lost */
	UDP_P_ANSWERED,		/* in time */
	UDP_P_LATE,		/* answered after its timeout: lost */
	UDP_P_ERROR		/* an ICMP error came back instead */
};

/* One probe. */
struct udp_probe {
	uint64_t	 tx_mono;	/* application send */
	int64_t		 t1;		/* T1, application send (real) */
	uint64_t	 t1_wire;	/* T1 as written in the packet */
	int64_t		 t1_sw, t1_hw;	/* kernel send; 0: none */
	uint64_t	 rx_mono;	/* application receive */
	int64_t		 t4;		/* application receive (real) */
	int64_t		 t4_sw, t4_hw;	/* kernel receive; 0: none */
	int64_t		 t2, t3;	/* the reflector's; 0: none (echo) */
	uint32_t	 rseq;		/* the reflector's number */
	uint32_t	 arrival;	/* its answer came as the n-th */
	uint16_t	 ree;		/* the reflector's error estimate */
	int16_t		 fwd_ttl;	/* as the reflector saw it, -1 none */
	int16_t		 ttl, tos;	/* of the answer here, -1 none */
	uint8_t		 state;		/* enum udp_pstate */
};

/* What an answer carried, as read; the probe it answers is sseq. */
struct udp_reply {
	uint32_t	 sseq;
	int		 stamp;		/* the STAMP fields below are set */
	uint32_t	 rseq;
	uint64_t	 sender_ts;	/* T1 as the reflector sent it back */
	int64_t		 t2, t3;	/* CLOCK_REALTIME ns */
	uint16_t	 ree;
	int		 fwd_ttl;	/* -1 none */
	uint64_t	 rx_mono;
	int64_t		 rx_real;
	int64_t		 t4_sw, t4_hw;	/* 0: none */
	int		 ttl, tos;	/* -1 none */
};

/* One target's account over a run. */
struct udp_acct {
	struct udp_probe	*p;		/* count probes, borrowed */
	uint32_t		 count;
	uint64_t		 timeout_ns;	/* of each probe */
	uint32_t		 sent, received, late, errors;
	uint32_t		 duplicates;	/* extra copies of answers */
	uint32_t		 fwd_dups;	/* copies numbered anew */
	uint32_t		 reordered;	/* RFC 4737, in arrival order */
	uint32_t		 max_sseq;	/* of the answers so far */
	int			 stateful;	/* numbers unlike ours seen */
	int64_t			 max_rseq;	/* -1: none */
	uint32_t		 max_rseq_sseq;	/* the probe that carried it */
	uint64_t		 closing_wire;	/* T1 of the closing packet */
	int64_t			 closing_rseq;	/* its answer's number, -1 */
};

/* A run's figures for one target, from udp_acct_figures(). */
struct udp_figures {
	int		 layer;		/* enum udp_layer of rtt_kernel */
	struct latstats	 app;		/* RTT at the application */
	struct latstats	 kern;		/* at layer; received 0 with APP */
	struct latstats	*best;		/* kern, or app without kernel */
	size_t		 nstack;	/* probes with stack and net RTT */
	double		 stack_avg, stack_max;
	size_t		 nhalves;	/* with both software timestamps */
	double		 stack_tx_avg;	/* T1 to the kernel's send */
	double		 stack_rx_avg;	/* the kernel's receive to read */
	size_t		 nrefl;		/* answers with T2 and T3 */
	double		 refl_avg, refl_max;
	double		 net_avg, net_min;
	double		 fwd_avg, fwd_min, fwd_max;
	double		 bwd_avg, bwd_min, bwd_max;
	int		 has_jitter;	/* 2 answers with T2 and T3 */
	double		 fwd_jitter, bwd_jitter;
	int		 synced;	/* both clocks say so (S bits) */
	double		 clock_err_ms;	/* both error estimates */
	int		 has_split;	/* forward and backward loss known */
	uint32_t	 fwd_lost, bwd_lost;
	int		 fwd_ttl, ttl, dscp;	/* of the last answer; -1 */
};

/*
 * Start the account of a target of count probes (p, borrowed, zeroed
 * here) whose answers count when they come within timeout_ns.
 */
void	udp_acct_init(struct udp_acct *a, struct udp_probe *p,
	    uint32_t count, uint64_t timeout_ns);

/*
 * Record an answer to probe r->sseq.  Returns 0 when it is the probe's
 * first answer in time, 1 for a copy of an answer already counted, 2 for
 * an answer after the probe's timeout (a loss; its reflector number still
 * counts), 3 for the first answer to the closing packet, -1 when it
 * answers no probe of ours (an unknown number, a probe not sent, or a
 * sender timestamp that is not the one we sent).
 */
int	udp_acct_reply(struct udp_acct *a, const struct udp_reply *r);

/*
 * The figures of a's run into f.  mode says what the reflector is (the
 * split of the loss needs a stateful one), our_ee is the error estimate
 * our packets carried.  scratch holds 3 * a->count doubles.
 */
void	udp_acct_figures(const struct udp_acct *a, int mode, uint16_t our_ee,
	    double *scratch, struct udp_figures *f);

/* One answered probe's own figures (ms), for a sample point. */
struct udp_sample {
	double		 rtt_app;
	int		 has_kernel;	/* rtt_kernel and stack */
	double		 rtt_kernel, stack;
	int		 has_halves;	/* stack_tx and stack_rx */
	double		 stack_tx, stack_rx;
	int		 has_stamp;	/* the reflector's and one-way */
	double		 refl, fwd, bwd;
};

/*
 * Probe k's figures, its kernel RTT at layer (as udp_acct_figures()
 * picked it).  0, or -1 when k was not answered in time.
 */
int	udp_acct_sample(const struct udp_acct *a, uint32_t k, int layer,
	    struct udp_sample *s);

/*
 * RFC 3550 section 6.4.1 interarrival jitter over n transit times (each
 * a receive time less its send time), in the order the packets arrived:
 * J += (|D| - J) / 16 for each successive difference D.  0 when n < 2.
 */
double	udp_jitter_3550(const double *transit, size_t n);

/*
 * The loss per direction from a stateful reflector's numbers (RFC 8762
 * section 4): the reflector numbered max_rseq + 1 packets up to its
 * highest number we saw.  1 with *fwd and *bwd set when that accounts for
 * every probe lost (none was sent after the one that carried the highest
 * number and lost), or when the closing packet's answer says how many
 * the reflector numbered before it; 0 when the split is unknown or the
 * numbers do not add up (a reflector that does not number per session).
 */
int	udp_acct_split(const struct udp_acct *a, uint32_t *fwd, uint32_t *bwd);

/*
 * Whether a closing packet would tell the loss of each direction: probes
 * were lost after the last one whose answer carried the reflector's
 * highest number, so that its numbers cannot tell which way they went
 * (and some answer came back: when none did, the closing packet's would
 * not either).
 * The closing packet is one more test packet, numbered a->count and sent
 * after the last probe's timeout; the reflector's number on its answer
 * counts every packet of ours it received before.  It is not a probe.
 */
int	udp_acct_need_closing(const struct udp_acct *a);

#endif /* COLLECTORS_UDP_ACCT_H */
