/*
 * NAME
 *	dkim_verify_int - internals shared by dkim_verify.c and dkim_verify_sig.c
 * SYNOPSIS
 *	#include "dkim_verify_int.h"
 *
 *	void	verify_trace(struct dkim_verifier *v, const char *fmt, ...);
 *	struct key_lookup *verify_lookup_find(struct dkim_verifier *v,
 *			DKIM_SIGINFO *sig);
 *	int	verify_results_alloc(struct dkim_verifier *v, size_t n);
 *	int	verify_result_fill(struct dkim_verifier *v, size_t idx,
 *			DKIM_SIGINFO *sig);
 *	int	verify_results_uniform(struct dkim_verifier *v,
 *			const char *result, const char *reason);
 *	int	verify_results_missing(struct dkim_verifier *v, size_t idx);
 * DESCRIPTION
 *	dkim_verify.c drives libopendkim and looks keys up;
 *	dkim_verify_sig.c turns one DKIM_SIGINFO (plus what the key lookup
 *	saw) into an RFC 8601 result and owns the result array:
 *	verify_results_alloc() makes n empty results, verify_result_fill()
 *	fills result idx, verify_results_uniform() gives every evaluated
 *	signature the same result (verifier failed, headers too large),
 *	verify_results_missing() permerror from idx on.  All return 0, or -1
 *	when memory ran out.  Nothing here is for other modules.
 */
#ifndef AM_DKIM_VERIFY_INT_H
#define AM_DKIM_VERIFY_INT_H

#include <dkim.h>

#include "dkim_verify.h"

#define VERIFY_MAX_TRACE 512 /* trace lines kept per message */

/* what the key lookup callback saw for one signature */
enum key_outcome {
    KEY_NOT_ASKED, /* libopendkim never asked (syntax error, ignored, ...) */
    KEY_FOUND,     /* one TXT record, handed to libopendkim */
    KEY_NONE,      /* NXDOMAIN or NODATA */
    KEY_DNSFAIL,   /* DNS_FAIL: temporary */
    KEY_MULTI,     /* several TXT records (RFC 6376 3.6.2.2: undefined) */
    KEY_TOOLONG,   /* record larger than libopendkim's buffer */
    KEY_BADNAME    /* d= or s= cannot form a DNS name */
};

struct key_lookup {
    DKIM_SIGINFO *sig;
    enum key_outcome outcome;
    char reason[160];
};

enum verifier_state { VS_HEADERS, VS_BODY, VS_NOSIG, VS_DONE, VS_BROKEN };

struct dkim_verifier {
    struct dns_resolver *dns;
    struct timespec deadline;
    unsigned int max_sigs;
    enum verifier_state state;
    DKIM *dkim;
    size_t hdr_bytes;
    int hdr_overflow;   /* a header was refused: DKIM_VERIFY_MAX_HDR_BYTES */
    size_t sig_headers; /* DKIM-Signature headers seen */
    char broken[200];   /* why the verifier gave up (memory, libopendkim) */

    struct key_lookup *lookups; /* one per signature looked up */
    size_t nlookups;

    struct dkim_sig_result *res;
    size_t nres;

    char **trace;
    size_t ntrace;
};

void verify_trace(struct dkim_verifier *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct key_lookup *verify_lookup_find(struct dkim_verifier *v, DKIM_SIGINFO *sig);
int verify_result_fill(struct dkim_verifier *v, size_t idx, DKIM_SIGINFO *sig);
int verify_results_alloc(struct dkim_verifier *v, size_t n);
int verify_results_uniform(struct dkim_verifier *v, const char *result, const char *reason);
int verify_results_missing(struct dkim_verifier *v, size_t idx);

#endif
