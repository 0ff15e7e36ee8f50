/*
 * acct.c: the udp collector's account of a target's probes, and the
 * figures of a run.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/probe/latstats.h"
#include "collectors/udp/acct.h"
#include "proto/stamp.h"

void
udp_acct_init(struct udp_acct *a, struct udp_probe *p, uint32_t count,
    uint64_t timeout_ns)
{
	uint32_t	k;

	memset(a, 0, sizeof(*a));
	memset(p, 0, count * sizeof(*p));
	for (k = 0; k < count; k++) {
		p[k].fwd_ttl = p[k].ttl = p[k].tos = -1;
		p[k].state = UDP_P_UNSENT;
	}
	a->p = p;
	a->count = count;
	a->timeout_ns = timeout_ns;
	a->max_rseq = -1;
	a->closing_rseq = -1;
}

/* A late answer, or a copy: what its reflector number tells. */
static void
note_rseq(struct udp_acct *a, const struct udp_reply *r)
{
	if (!r->stamp)
		return;
	if (r->rseq != r->sseq)
		a->stateful = 1;
	if ((int64_t)r->rseq > a->max_rseq) {
		a->max_rseq = r->rseq;
		a->max_rseq_sseq = r->sseq;
	}
}

/* A copy of an answer already counted: numbered anew, or copied back. */
static int
duplicate(struct udp_acct *a, struct udp_probe *p, const struct udp_reply *r)
{
	a->duplicates++;
	if (r->stamp && p->state == UDP_P_ANSWERED && r->rseq != p->rseq)
		a->fwd_dups++;
	note_rseq(a, r);
	return 1;
}

int
udp_acct_reply(struct udp_acct *a, const struct udp_reply *r)
{
	struct udp_probe	*p;

	if (r->sseq == a->count && r->stamp && a->closing_wire != 0 &&
	    r->sender_ts == a->closing_wire) {
		if (a->closing_rseq >= 0)
			return 1;
		a->closing_rseq = r->rseq;
		if (r->rseq != r->sseq)
			a->stateful = 1;
		return 3;
	}
	if (r->sseq >= a->count)
		return -1;
	p = &a->p[r->sseq];
	if (p->state == UDP_P_UNSENT ||
	    (r->stamp && r->sender_ts != p->t1_wire))
		return -1;
	if (p->state == UDP_P_ANSWERED || p->state == UDP_P_LATE)
		return duplicate(a, p, r);
	if (p->state == UDP_P_ERROR)
		a->errors--;
	note_rseq(a, r);
	if (r->rx_mono < p->tx_mono || r->rx_mono - p->tx_mono >
	    a->timeout_ns) {
		p->state = UDP_P_LATE;
		p->rseq = r->rseq;
		a->late++;
		return 2;
	}
	p->state = UDP_P_ANSWERED;
	p->rx_mono = r->rx_mono;
	p->t4 = r->rx_real;
	p->t4_sw = r->t4_sw;
	p->t4_hw = r->t4_hw;
	p->ttl = (int16_t)r->ttl;
	p->tos = (int16_t)r->tos;
	if (r->stamp) {
		p->rseq = r->rseq;
		p->t2 = r->t2;
		p->t3 = r->t3;
		p->ree = r->ree;
		p->fwd_ttl = (int16_t)r->fwd_ttl;
	}
	p->arrival = a->received++;
	if (p->arrival > 0 && r->sseq < a->max_sseq)
		a->reordered++;
	if (p->arrival == 0 || r->sseq > a->max_sseq)
		a->max_sseq = r->sseq;
	return 0;
}

double
udp_jitter_3550(const double *transit, size_t n)
{
	double	j = 0;
	size_t	i;

	for (i = 1; i < n; i++)
		j += (fabs(transit[i] - transit[i - 1]) - j) / 16.0;
	return j;
}

/* Whether a probe was lost after the last one the reflector numbered. */
static int
tail_unknown(const struct udp_acct *a)
{
	uint32_t	k;

	if (a->max_rseq < 0)
		return 1;
	for (k = a->max_rseq_sseq + 1; k < a->count; k++)
		if (a->p[k].state == UDP_P_SENT)
			return 1;
	return 0;
}

int
udp_acct_need_closing(const struct udp_acct *a)
{
	/* Nothing came back: its answer would not either. */
	return a->sent != a->received && a->errors == 0 &&
	    a->max_rseq >= 0 && a->closing_wire == 0 && tail_unknown(a);
}

int
udp_acct_split(const struct udp_acct *a, uint32_t *fwd, uint32_t *bwd)
{
	uint32_t	lost = a->sent - a->received;
	int64_t		reached;

	if (lost == 0) {
		*fwd = *bwd = 0;
		return 1;
	}
	if (a->errors > 0)
		return 0;
	/* Probes the reflector got, each once. */
	if (a->closing_rseq >= 0 && a->max_rseq < a->closing_rseq)
		reached = a->closing_rseq - (int64_t)a->fwd_dups;
	else if (!tail_unknown(a))
		reached = a->max_rseq + 1 - (int64_t)a->fwd_dups;
	else
		return 0;
	if (reached < (int64_t)a->received || reached > (int64_t)a->sent)
		return 0;
	*fwd = a->sent - (uint32_t)reached;
	*bwd = lost - *fwd;
	return 1;
}

static int
has_layer(const struct udp_probe *p, int layer)
{
	if (layer == UDP_TS_HW)
		return p->t1_hw != 0 && p->t4_hw != 0;
	if (layer == UDP_TS_SW)
		return p->t1_sw != 0 && p->t4_sw != 0;
	return 1;
}

/* The best layer every answer has (hardware), or that some have. */
static int
pick_layer(const struct udp_acct *a)
{
	uint32_t	k, nhw = 0, nsw = 0;

	for (k = 0; k < a->count; k++) {
		if (a->p[k].state != UDP_P_ANSWERED)
			continue;
		nhw += has_layer(&a->p[k], UDP_TS_HW);
		nsw += has_layer(&a->p[k], UDP_TS_SW);
	}
	if (a->received > 0 && nhw == a->received)
		return UDP_TS_HW;
	return nsw > 0 ? UDP_TS_SW : UDP_TS_APP;
}

static double
kern_rtt_ms(const struct udp_probe *p, int layer)
{
	if (layer == UDP_TS_HW)
		return (double)(p->t4_hw - p->t1_hw) / 1e6;
	return (double)(p->t4_sw - p->t1_sw) / 1e6;
}

/* RTTs at the application and the kernel layer, and the stack time. */
static void
rtt_figures(const struct udp_acct *a, double *app, double *kern, double *tmp,
    struct udp_figures *f)
{
	const struct udp_probe	*p;
	size_t			 na = 0, nk = 0;
	uint32_t		 k;
	double			 s;

	for (k = 0; k < a->count; k++) {
		p = &a->p[k];
		if (p->state != UDP_P_ANSWERED)
			continue;
		app[na] = (double)(p->rx_mono - p->tx_mono) / 1e6;
		if (f->layer > UDP_TS_APP && has_layer(p, f->layer)) {
			kern[nk++] = kern_rtt_ms(p, f->layer);
			s = app[na] - kern[nk - 1];
			f->stack_avg += s;
			if (f->nstack++ == 0 || s > f->stack_max)
				f->stack_max = s;
		}
		if (has_layer(p, UDP_TS_SW)) {
			f->stack_tx_avg += (double)(p->t1_sw - p->t1) / 1e6;
			f->stack_rx_avg += (double)(p->t4 - p->t4_sw) / 1e6;
			f->nhalves++;
		}
		na++;
	}
	if (f->nstack > 0)
		f->stack_avg /= (double)f->nstack;
	if (f->nhalves > 0) {
		f->stack_tx_avg /= (double)f->nhalves;
		f->stack_rx_avg /= (double)f->nhalves;
	}
	latstats_compute(&f->app, app, na, a->sent, tmp);
	latstats_compute(&f->kern, kern, nk, a->sent, tmp);
	f->best = nk > 0 ? &f->kern : &f->app;
	/* The E-model on the best RTT, with the loss of every probe. */
	if (nk > 0) {
		f->kern.loss_pct = f->app.loss_pct;
		f->kern.r_factor = latstats_r_factor(f->kern.avg,
		    f->kern.jitter, f->app.loss_pct);
		f->kern.mos = latstats_mos(f->kern.r_factor);
	}
}

static void
minmax(double v, size_t n, double *sum, double *min, double *max)
{
	*sum += v;
	if (n == 0 || v < *min)
		*min = v;
	if (n == 0 || v > *max)
		*max = v;
}

/* Send and receive times on the system clock: kernel, else application. */
static int64_t
t1_sys(const struct udp_probe *p, int layer)
{
	return layer > UDP_TS_APP && p->t1_sw != 0 ? p->t1_sw : p->t1;
}

static int64_t
t4_sys(const struct udp_probe *p, int layer)
{
	return layer > UDP_TS_APP && p->t4_sw != 0 ? p->t4_sw : p->t4;
}

static int
cmp_pair(const void *x, const void *y)
{
	const double	*a = x, *b = y;

	return (a[0] > b[0]) - (a[0] < b[0]);
}

/*
 * The reflector's time, the network's RTT and the one-way delays of the
 * STAMP answers, and the jitter each way: forward in the order the
 * reflector received them (T2), backward in the order they came here.
 * fwd holds 2 * count doubles, bwd count.
 */
static void
stamp_figures(const struct udp_acct *a, double *fwd, double *bwd,
    struct udp_figures *f)
{
	const struct udp_probe	*p;
	double			 r, v, rmin, fsum = 0, bsum = 0, nsum = 0, nmax;
	int64_t			 base = 0;
	uint32_t		 k;
	size_t			 n = 0, nb = 0;

	for (k = 0; k < a->received; k++)
		bwd[k] = NAN;
	for (k = 0; k < a->count; k++) {
		p = &a->p[k];
		if (p->state != UDP_P_ANSWERED || p->t2 == 0 || p->t3 == 0)
			continue;
		r = (double)(p->t3 - p->t2) / 1e6;
		minmax(r, n, &f->refl_avg, &rmin, &f->refl_max);
		v = f->layer > UDP_TS_APP && has_layer(p, f->layer) ?
		    kern_rtt_ms(p, f->layer) :
		    (double)(p->rx_mono - p->tx_mono) / 1e6;
		minmax(v - r, n, &nsum, &f->net_min, &nmax);
		v = (double)(p->t2 - t1_sys(p, f->layer)) / 1e6;
		minmax(v, n, &fsum, &f->fwd_min, &f->fwd_max);
		if (n == 0)
			base = p->t2;
		fwd[2 * n] = (double)(p->t2 - base);
		fwd[2 * n + 1] = v;
		v = (double)(t4_sys(p, f->layer) - p->t3) / 1e6;
		minmax(v, n, &bsum, &f->bwd_min, &f->bwd_max);
		bwd[p->arrival] = v;
		n++;
	}
	if ((f->nrefl = n) == 0)
		return;
	f->refl_avg /= (double)n;
	f->net_avg = nsum / (double)n;
	f->fwd_avg = fsum / (double)n;
	f->bwd_avg = bsum / (double)n;
	if (n < 2)
		return;
	f->has_jitter = 1;
	for (k = 0; k < a->received; k++)
		if (!isnan(bwd[k]))
			bwd[nb++] = bwd[k];
	f->bwd_jitter = udp_jitter_3550(bwd, nb);
	qsort(fwd, n, 2 * sizeof(*fwd), cmp_pair);
	for (k = 0; k < n; k++)
		fwd[k] = fwd[2 * k + 1];
	f->fwd_jitter = udp_jitter_3550(fwd, n);
}

/* Clocks, TTLs and DSCP as the answers carried them. */
static void
answer_figures(const struct udp_acct *a, uint16_t our_ee,
    struct udp_figures *f)
{
	const struct udp_probe	*p, *last = NULL;
	uint64_t		 rerr = 0;
	uint32_t		 k;
	int			 synced = (our_ee & STAMP_EE_S) != 0;

	for (k = 0; k < a->count; k++) {
		p = &a->p[k];
		if (p->state != UDP_P_ANSWERED)
			continue;
		if (last == NULL || p->arrival > last->arrival)
			last = p;
		if (p->t2 == 0)
			continue;
		if (!(p->ree & STAMP_EE_S) || !stamp_ee_valid(p->ree))
			synced = 0;
		if (stamp_ee_valid(p->ree) && stamp_ee_ns(p->ree) > rerr)
			rerr = stamp_ee_ns(p->ree);
	}
	f->synced = synced && f->nrefl > 0;
	f->clock_err_ms = (double)(stamp_ee_ns(our_ee) + rerr) / 1e6;
	f->fwd_ttl = f->ttl = f->dscp = -1;
	if (last != NULL) {
		f->fwd_ttl = last->fwd_ttl;
		f->ttl = last->ttl;
		f->dscp = last->tos < 0 ? -1 : last->tos >> 2;
	}
}

void
udp_acct_figures(const struct udp_acct *a, int mode, uint16_t our_ee,
    double *scratch, struct udp_figures *f)
{
	size_t	c = a->count;

	memset(f, 0, sizeof(*f));
	f->layer = pick_layer(a);
	rtt_figures(a, scratch, scratch + c, scratch + 2 * c, f);
	stamp_figures(a, scratch, scratch + 2 * c, f);
	answer_figures(a, our_ee, f);
	if (mode == UDP_REFL_STATELESS || (mode == UDP_REFL_AUTO &&
	    !a->stateful && a->sent != a->received))
		return;
	f->has_split = udp_acct_split(a, &f->fwd_lost, &f->bwd_lost);
}

int
udp_acct_sample(const struct udp_acct *a, uint32_t k, int layer,
    struct udp_sample *s)
{
	const struct udp_probe	*p;

	memset(s, 0, sizeof(*s));
	if (k >= a->count || (p = &a->p[k])->state != UDP_P_ANSWERED)
		return -1;
	s->rtt_app = (double)(p->rx_mono - p->tx_mono) / 1e6;
	if (layer > UDP_TS_APP && has_layer(p, layer)) {
		s->has_kernel = 1;
		s->rtt_kernel = kern_rtt_ms(p, layer);
		s->stack = s->rtt_app - s->rtt_kernel;
	}
	if (has_layer(p, UDP_TS_SW)) {
		s->has_halves = 1;
		s->stack_tx = (double)(p->t1_sw - p->t1) / 1e6;
		s->stack_rx = (double)(p->t4 - p->t4_sw) / 1e6;
	}
	if (p->t2 != 0 && p->t3 != 0) {
		s->has_stamp = 1;
		s->refl = (double)(p->t3 - p->t2) / 1e6;
		s->fwd = (double)(p->t2 - t1_sys(p, layer)) / 1e6;
		s->bwd = (double)(t4_sys(p, layer) - p->t3) / 1e6;
	}
	return 0;
}
