/*
 * NAME
 *	spf - RFC 7208 check_host() for MAIL FROM and HELO (libspf2 engine)
 * SYNOPSIS
 *	#include "spf.h"
 *
 *	int	spf_check(struct dns_resolver *dns, const struct spf_request *req,
 *			struct spf_outcome *out);
 *	void	spf_outcome_clear(struct spf_outcome *out);
 *	const char *spf_result_name(enum spf_result result);
 * DESCRIPTION
 *	spf_check() evaluates the MAIL FROM identity, or the HELO identity
 *	when MAIL FROM is the null sender ("" or "<>"); with req->check_helo
 *	the HELO identity is evaluated as well (out->helo_result).  Every DNS
 *	lookup goes through dns_query() with req->deadline (absolute,
 *	CLOCK_MONOTONIC; NULL: now + DNSTimeout), never through libspf2's
 *	resolver; libspf2's loopback PASS, local policy and whitelist are
 *	never used.  Thread-safe: each call has its own libspf2 objects.
 *
 *	out->result is the RFC 7208 result; out->identity tells which
 *	identity decided, out->domain the domain checked, out->sender the
 *	<sender> used (postmaster@helo for the null sender).  For "fail",
 *	out->explanation holds the expanded explanation (RFC 7208 6.2) of
 *	the exp= of the record that decided (the last of a redirect chain),
 *	printable ASCII only; NULL for any other result, when that record
 *	has no exp=, or when the explanation cannot be had (DNS error, no or
 *	several TXT records, bad macro): it never changes the result.
 *	out->problem says why for none/temperror/permerror.
 *	With req->trace, out->trace holds lines (records fetched, DNS lookups
 *	and their outcome, libspf2's mechanism evaluation, the lookup and void
 *	lookup counts) for the -t mode.  spf_outcome_clear() frees out and
 *	may be called on a zeroed or already cleared outcome.
 * DIAGNOSTICS
 *	spf_check() returns 0, or -1 with out->result SPF_RES_TEMPERROR when
 *	a resource (memory) ran out; bad input yields an RFC result.
 */
#ifndef AM_SPF_H
#define AM_SPF_H

#include <stddef.h>
#include <time.h>

#include "dns.h"

enum spf_result {
    SPF_RES_NONE,
    SPF_RES_NEUTRAL,
    SPF_RES_PASS,
    SPF_RES_FAIL,
    SPF_RES_SOFTFAIL,
    SPF_RES_TEMPERROR,
    SPF_RES_PERMERROR
};

enum spf_identity { SPF_ID_MAILFROM, SPF_ID_HELO };

struct spf_request {
    const char *client_ip;           /* "192.0.2.1" or "2001:db8::1" */
    const char *helo;                /* HELO/EHLO argument, may be NULL */
    const char *mail_from;           /* envelope sender; "" or "<>": null sender */
    const char *receiver;            /* %{r}; NULL: "unknown" */
    const struct timespec *deadline; /* absolute CLOCK_MONOTONIC; NULL: now + DNSTimeout */
    int check_helo;                  /* also evaluate HELO when MAIL FROM is not null */
    int trace;                       /* collect out->trace */
};

struct spf_outcome {
    enum spf_result result;      /* the deciding result */
    enum spf_identity identity;  /* which identity decided */
    char *domain;                /* domain checked */
    char *sender;                /* <sender> used */
    char *explanation;           /* fail: exp= text, else NULL */
    char *problem;               /* reason text (none/temperror/permerror), or NULL */
    int helo_checked;            /* helo_result is valid */
    enum spf_result helo_result; /* HELO identity result */
    unsigned int dns_lookups;    /* RFC 7208 4.6.4 terms counted (deciding identity) */
    unsigned int void_lookups;   /* void lookups counted (deciding identity) */
    char **trace;                /* req->trace: lines */
    size_t ntrace;
};

int spf_check(struct dns_resolver *dns, const struct spf_request *req, struct spf_outcome *out);
void spf_outcome_clear(struct spf_outcome *out);
const char *spf_result_name(enum spf_result result);

#endif
