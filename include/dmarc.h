/*
 * NAME
 *	dmarc - DMARC evaluation (RFC 7489, np= of RFC 9091)
 * SYNOPSIS
 *	#include "dmarc.h"
 *
 *	struct dmarc_ctx *dmarc_open(const char *psl_path, char **error_r);
 *	void	dmarc_close(struct dmarc_ctx **ctx);
 *	int	dmarc_evaluate(struct dmarc_ctx *ctx, const struct dmarc_input *in,
 *			struct dmarc_outcome *out);
 *	void	dmarc_outcome_clear(struct dmarc_outcome *out);
 *	const char *dmarc_org_domain(const struct dmarc_ctx *ctx,
 *			const char *domain);
 * DESCRIPTION
 *	dmarc_open() loads the public suffix list (NULL: the Debian default
 *	/usr/share/publicsuffix/public_suffix_list.dat), once per
 *	configuration snapshot.  The context is immutable afterwards:
 *	dmarc_evaluate() may run in any number of threads at once.
 *
 *	dmarc_evaluate() decides one message from what the engine already
 *	has: the From: domain, the SPF result with the domain it was checked
 *	for (MAIL FROM, or HELO for the null sender) and every DKIM result
 *	with its d=.  Its DNS lookups go through in->dns with in->deadline.
 *	Steps and results (out->result):
 *	 1. From: missing, with several domains, or unparsable, or a From
 *	    domain that is not a valid domain name: "permerror" (reason says
 *	    which; RFC 7489 6.6.1 lets the receiver reject such messages, the
 *	    engine may do so: in->from_status tells it).  No DNS lookup.
 *	 2. Record discovery (6.6.3): TXT _dmarc.<from>; when that yields no
 *	    DMARC record, TXT _dmarc.<organizational domain>.  Only TXT
 *	    strings starting with "v=DMARC1" (then ";", white space or end)
 *	    count.  A DNS failure: "temperror".  No record: "none".  Several
 *	    records: "none" (policy discovery ends, 6.6.3 step 6).
 *	 3. Record syntax (6.3, 6.4): checked here before libopendmarc parses
 *	    it.  Missing/invalid p=, invalid sp= or np=: with a valid rua=
 *	    the record acts as "p=none" (6.6.3 step 6.1), else "permerror".
 *	    Any other malformed tag value, a duplicate tag or a part that is
 *	    not tag=value: "permerror".  Unknown tags are ignored.
 *	 4. Alignment (3.1): SPF aligns when the SPF result is "pass" and its
 *	    domain matches the From domain; DKIM when any "pass" signature's
 *	    d= matches.  Relaxed (default): same organizational domain;
 *	    strict: equal names.  ASCII case and a trailing dot are ignored.
 *	 5. "pass" if either aligns.  Otherwise "temperror" when an SPF or
 *	    DKIM "temperror" was for an identifier that WOULD align (the
 *	    answer could have been pass, 6.6.2); otherwise "fail".
 *	 6. Policy (out->policy): p= when the record was found at the From
 *	    domain; found at the organizational domain: np= (RFC 9091) when
 *	    the From domain does not exist (NXDOMAIN or NODATA for A, AAAA and
 *	    MX; asked only when np= is given and differs), else sp=, else p=.
 *	    Without a usable record policy is "none".
 *	 7. Disposition: "none" unless the result is "fail"; then the policy,
 *	    and when in->random_percent (taken modulo 100) >= pct= it drops
 *	    one step, reject->quarantine->none (6.6.4; pct_applied_down
 *	    set).  A temperror or permerror never quarantines or rejects.
 *
 *	out->trace lists every lookup and decision (untrusted text cut at
 *	200 bytes, at most DMARC_MAX_TRACE lines).  dmarc_outcome_clear()
 *	frees what dmarc_evaluate() allocated; out may be reused.
 *
 *	dmarc_org_domain() returns the organizational domain of a valid
 *	domain (a pointer into domain), NULL for an invalid one.
 * DIAGNOSTICS
 *	dmarc_open() returns NULL and a malloc'd reason in *error_r.
 *	dmarc_evaluate() returns 0, or -1 when memory ran out (out->result
 *	is then "temperror" so the caller may tempfail).
 */
#ifndef AM_DMARC_H
#define AM_DMARC_H

#include <stddef.h>
#include <time.h>

struct dns_resolver;

#define DMARC_MAX_TRACE 48

enum dmarc_from_status {
    DMARC_FROM_OK,    /* exactly one From: domain */
    DMARC_FROM_NONE,  /* no From: header (or no address in it) */
    DMARC_FROM_MULTI, /* From: addresses with different domains */
    DMARC_FROM_BAD    /* unparsable From: */
};

struct dmarc_dkim {
    const char *result; /* "pass", "fail", "neutral", "policy", "temperror", ... */
    const char *d;      /* the signature's d= */
};

struct dmarc_input {
    const char *from_domain; /* RFC5322.From domain (A-labels or UTF-8) */
    int from_status;         /* enum dmarc_from_status */
    const char *spf_result;  /* "pass","fail","softfail","neutral","none","temperror","permerror" */
    const char *spf_domain;  /* MAIL FROM domain, or HELO domain for <> */
    size_t ndkim;
    const struct dmarc_dkim *dkim;
    struct dns_resolver *dns;
    const struct timespec *deadline; /* absolute, CLOCK_MONOTONIC; NULL: DNS default */
    unsigned int random_percent;     /* 0..99 for pct sampling */
};

struct dmarc_outcome {
    const char *result;      /* "pass" "fail" "none" "temperror" "permerror" */
    const char *policy;      /* published policy for this domain: "none" "quarantine" "reject" */
    const char *policy_tag;  /* "p", "sp", "np", or NULL without a usable record */
    const char *disposition; /* after pct: "none" "quarantine" "reject" */
    char *from_domain;       /* normalized (lower case, A-labels) or NULL */
    char *org_domain;        /* its organizational domain or NULL */
    char *record_domain;     /* where the record was found, or NULL */
    char *record;            /* the record used, or NULL */
    int spf_aligned, dkim_aligned;
    int pct;              /* pct= of the record (100 when absent) */
    int pct_applied_down; /* the sample fell outside pct: one step milder */
    char *reason;         /* one line for logs and A-R comments */
    char **trace;
    size_t ntrace;
};

struct dmarc_ctx;

struct dmarc_ctx *dmarc_open(const char *psl_path, char **error_r);
void dmarc_close(struct dmarc_ctx **ctx);
int dmarc_evaluate(struct dmarc_ctx *ctx, const struct dmarc_input *in, struct dmarc_outcome *out);
void dmarc_outcome_clear(struct dmarc_outcome *out);
const char *dmarc_org_domain(const struct dmarc_ctx *ctx, const char *domain);

#endif
