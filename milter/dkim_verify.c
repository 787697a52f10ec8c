/*
 * NAME
 *	dkim_verify - verify every DKIM signature of one inbound message
 * SYNOPSIS
 *	See include/dkim_verify.h.
 * DESCRIPTION
 *	One DKIM_LIB serves the process (pthread_once); a verifier owns one
 *	libopendkim verifying handle.  Keys come from our resolver through
 *	dkim_set_key_lookup(): the callback runs in the thread that calls
 *	dkim_eom(), finds the verifier through the handle's user context and
 *	asks dns_query() under the message's deadline.  What the lookup saw
 *	is kept per signature, because libopendkim folds DNS failure and
 *	"no key" into error codes that do not tell temporary from permanent
 *	reliably.  libopendkim's own resolver hooks are replaced by stubs
 *	that refuse every query, so it can never send a packet itself.
 *
 *	Headers: libmilter's LF folding becomes CRLF here; the body is
 *	passed through as it streams.  dkim_verify_sig.c turns each
 *	signature into a result.
 * DIAGNOSTICS
 *	Run-time problems become results (temperror/permerror) and trace
 *	lines; nothing here logs.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_verify_int.h"

#define VERIFY_ID "authmilter"
#define MAX_DNS_NAME 253

/*
 * libopendkim refuses a signature with t= in the future or x= in the past
 * before checking it cryptographically; with this drift it never does, and
 * dkim_verify_sig.c applies DKIM_VERIFY_CLOCK_DRIFT itself after the
 * cryptographic verdict (a bad signature is "fail" whatever its dates).
 */
#define LIB_CLOCK_DRIFT ((uint64_t)10 * 365 * 86400)

static DKIM_LIB *verify_lib;
static const char *verify_lib_error;
static pthread_once_t verify_once = PTHREAD_ONCE_INIT;

/* verify_trace - add one formatted line to the verifier's trace */
void verify_trace(struct dkim_verifier *v, const char *fmt, ...)
{
    va_list ap;
    char *line;
    char **grown;

    if (v->ntrace >= VERIFY_MAX_TRACE)
        return;
    va_start(ap, fmt);
    if (vasprintf(&line, fmt, ap) < 0)
        line = NULL;
    va_end(ap);
    if (line == NULL)
        return;
    if ((grown = realloc(v->trace, (v->ntrace + 1) * sizeof(*grown))) == NULL) {
        free(line);
        return;
    }
    v->trace = grown;
    v->trace[v->ntrace++] = line;
}

/* dns_refuse_start - libopendkim's own resolver entry: never used */
static int dns_refuse_start(void *srv, int type, unsigned char *query, unsigned char *buf,
                            size_t buflen, void **qh)
{
    (void)srv, (void)type, (void)query, (void)buf, (void)buflen;
    *qh = NULL;
    return DKIM_DNS_ERROR;
}

/* dns_refuse_cancel - cancel nothing */
static int dns_refuse_cancel(void *srv, void *qh)
{
    (void)srv, (void)qh;
    return DKIM_DNS_SUCCESS;
}

/* dns_refuse_wait - no query is ever pending */
static int dns_refuse_wait(void *srv, void *qh, struct timeval *to, size_t *bytes, int *error,
                           int *dnssec)
{
    (void)srv, (void)qh, (void)to, (void)bytes, (void)error, (void)dnssec;
    return DKIM_DNS_ERROR;
}

/* dns_refuse_init - no resolver state to set up */
static int dns_refuse_init(void **srv)
{
    *srv = NULL;
    return 0;
}

/* dns_refuse_close - no resolver state to free */
static void dns_refuse_close(void *srv)
{
    (void)srv;
}

/* dns_name_ok - is "sel._domainkey.dom" a name we may ask for? */
static int dns_name_ok(const char *name)
{
    const char *p;
    size_t label = 0;

    if (*name == 0 || strlen(name) > MAX_DNS_NAME)
        return 0;
    for (p = name; *p; p++) {
        if (*p == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (isalnum((unsigned char)*p) || *p == '-' || *p == '_') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0 || p[-1] == '.';
}

/* verify_lookup_find - the lookup record of sig, or NULL */
struct key_lookup *verify_lookup_find(struct dkim_verifier *v, DKIM_SIGINFO *sig)
{
    for (size_t n = 0; n < v->nlookups; n++)
        if (v->lookups[n].sig == sig)
            return v->lookups + n;
    return NULL;
}

/* lookup_record - the (new) lookup record of sig, or NULL without memory */
static struct key_lookup *lookup_record(struct dkim_verifier *v, DKIM_SIGINFO *sig)
{
    struct key_lookup *kl, *grown;

    if ((kl = verify_lookup_find(v, sig)) != NULL)
        return kl;
    if ((grown = realloc(v->lookups, (v->nlookups + 1) * sizeof(*grown))) == NULL)
        return NULL;
    v->lookups = grown;
    kl = v->lookups + v->nlookups++;
    memset(kl, 0, sizeof(*kl));
    kl->sig = sig;
    return kl;
}

/* key_answer - hand one TXT answer to libopendkim, or say why not */
static DKIM_CBSTAT key_answer(struct key_lookup *kl, const struct dns_answer *ans,
                              unsigned char *buf, size_t buflen)
{
    if (ans->count > 1) {
        kl->outcome = KEY_MULTI;
        snprintf(kl->reason, sizeof(kl->reason), "%zu key records", ans->count);
        return DKIM_CBSTAT_NOTFOUND;
    }
    if (ans->rr[0].len >= buflen) {
        kl->outcome = KEY_TOOLONG;
        snprintf(kl->reason, sizeof(kl->reason), "key record of %zu bytes too long",
                 ans->rr[0].len);
        return DKIM_CBSTAT_NOTFOUND;
    }
    memcpy(buf, ans->rr[0].data, ans->rr[0].len);
    buf[ans->rr[0].len] = 0;
    kl->outcome = KEY_FOUND;
    return DKIM_CBSTAT_CONTINUE;
}

/* key_lookup - libopendkim key lookup callback: our resolver, our deadline */
static DKIM_CBSTAT key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, unsigned char *buf, size_t buflen)
{
    struct dkim_verifier *v = dkim_get_user_context(dkim);
    const char *sel = (const char *)dkim_sig_getselector(sig);
    const char *dom = (const char *)dkim_sig_getdomain(sig);
    struct key_lookup *kl;
    struct dns_answer ans;
    enum dns_status st;
    DKIM_CBSTAT ret;
    char name[MAX_DNS_NAME + 64];

    if (v == NULL || (kl = lookup_record(v, sig)) == NULL)
        return DKIM_CBSTAT_TRYAGAIN;
    if (sel == NULL || dom == NULL ||
        snprintf(name, sizeof(name), "%s._domainkey.%s", sel, dom) >= (int)sizeof(name) ||
        !dns_name_ok(name)) {
        kl->outcome = KEY_BADNAME;
        snprintf(kl->reason, sizeof(kl->reason), "s=/d= form no valid DNS name");
        verify_trace(v, "key lookup: s=%.64s d=%.253s: not a valid DNS name", sel ? sel : "",
                     dom ? dom : "");
        return DKIM_CBSTAT_NOTFOUND;
    }
    memset(&ans, 0, sizeof(ans));
    st = dns_query(v->dns, name, DNS_T_TXT, &v->deadline, &ans);
    switch (st) {
    case DNS_OK:
        ret = key_answer(kl, &ans, buf, buflen);
        break;
    case DNS_NXDOMAIN:
    case DNS_NODATA:
        kl->outcome = KEY_NONE;
        snprintf(kl->reason, sizeof(kl->reason), "no key record (%s)", dns_status_name(st));
        ret = DKIM_CBSTAT_NOTFOUND;
        break;
    default:
        kl->outcome = KEY_DNSFAIL;
        snprintf(kl->reason, sizeof(kl->reason), "key lookup failed: %.100s", ans.reason);
        ret = DKIM_CBSTAT_NOTFOUND; /* TRYAGAIN would stop dkim_eoh for all signatures */
        break;
    }
    verify_trace(v, "key lookup: %s TXT: %s%s%s", name, dns_status_name(st),
                 kl->outcome == KEY_FOUND ? "" : ": ", kl->outcome == KEY_FOUND ? "" : kl->reason);
    dns_answer_clear(&ans);
    return ret;
}

/* prescreen - ignore the signatures beyond max_sigs (header order) */
static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
    struct dkim_verifier *v = dkim_get_user_context(dkim);

    for (int n = v ? (int)v->max_sigs : 0; n < nsigs; n++) {
        dkim_sig_ignore(sigs[n]);
        if (v != NULL) {
            const char *d = (const char *)dkim_sig_getdomain(sigs[n]);
            verify_trace(v, "signature %d (d=%.253s): beyond max_sigs %u, not evaluated", n + 1,
                         d ? d : "", v->max_sigs);
        }
    }
    return DKIM_CBSTAT_CONTINUE;
}

/* verify_lib_init - the process' DKIM_LIB: our key lookup, no resolver */
static void verify_lib_init(void)
{
    unsigned int flags = DKIM_LIBFLAGS_BADSIGHANDLES;
    unsigned int minbits = 0; /* our own size rule: Ed25519 keys read as 0 bits */
    uint64_t drift = LIB_CLOCK_DRIFT;
    DKIM_LIB *lib;

    if ((lib = dkim_init(NULL, NULL)) == NULL) {
        verify_lib_error = "dkim_init failed";
        return;
    }
    if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) != DKIM_STAT_OK ||
        dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &minbits, sizeof(minbits)) !=
            DKIM_STAT_OK ||
        dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_CLOCKDRIFT, &drift, sizeof(drift)) !=
            DKIM_STAT_OK ||
        dkim_set_key_lookup(lib, key_lookup) != DKIM_STAT_OK ||
        dkim_set_prescreen(lib, prescreen) != DKIM_STAT_OK) {
        dkim_close(lib);
        verify_lib_error = "dkim_options failed";
        return;
    }
    dkim_dns_set_query_service(lib, NULL);
    dkim_dns_set_query_start(lib, dns_refuse_start);
    dkim_dns_set_query_cancel(lib, dns_refuse_cancel);
    dkim_dns_set_query_waitreply(lib, dns_refuse_wait);
    dkim_dns_set_init(lib, dns_refuse_init);
    dkim_dns_set_close(lib, dns_refuse_close);
    verify_lib = lib;
}

/* dkim_verify_shutdown - free the shared DKIM_LIB (at exit) */
void dkim_verify_shutdown(void)
{
    if (verify_lib != NULL) {
        dkim_close(verify_lib);
        verify_lib = NULL;
    }
}

/* dkim_verifier_new - one verifier for one message */
struct dkim_verifier *dkim_verifier_new(struct dns_resolver *dns, const struct timespec *deadline,
                                        unsigned int max_sigs, const char **error_r)
{
    struct dkim_verifier *v;
    DKIM_STAT st;

    *error_r = NULL;
    pthread_once(&verify_once, verify_lib_init);
    if (verify_lib == NULL) {
        *error_r = verify_lib_error ? verify_lib_error : "libopendkim shut down";
        return NULL;
    }
    if ((v = calloc(1, sizeof(*v))) == NULL) {
        *error_r = "out of memory";
        return NULL;
    }
    v->dns = dns;
    if (deadline != NULL)
        v->deadline = *deadline;
    else
        dns_deadline(dns, &v->deadline);
    v->max_sigs = max_sigs ? max_sigs : DKIM_VERIFY_DEFAULT_MAX_SIGS;
    v->dkim = dkim_verify(verify_lib, (const unsigned char *)VERIFY_ID, NULL, &st);
    if (v->dkim == NULL || dkim_set_user_context(v->dkim, v) != DKIM_STAT_OK) {
        dkim_verifier_free(&v);
        *error_r = "dkim_verify failed";
        return NULL;
    }
    return v;
}

/* verifier_break - stop feeding libopendkim; every signature will be temperror */
static int verifier_break(struct dkim_verifier *v, const char *what)
{
    if (v->state != VS_BROKEN) {
        const char *err = v->dkim ? dkim_geterror(v->dkim) : NULL;

        snprintf(v->broken, sizeof(v->broken), "%s%s%.120s", what, err ? ": " : "", err ? err : "");
        verify_trace(v, "verifier failed: %s", v->broken);
        v->state = VS_BROKEN;
    }
    return -1;
}

/* dkim_verifier_header - one header, "name:" + value, LF folding made CRLF */
int dkim_verifier_header(struct dkim_verifier *v, const char *name, const char *value)
{
    size_t nlen = strlen(name), vlen = strlen(value), len = 0;
    unsigned char *buf;
    DKIM_STAT st;

    if (v->state == VS_BROKEN)
        return -1;
    if (v->state != VS_HEADERS)
        return verifier_break(v, "header after end of headers");
    if (strcasecmp(name, "DKIM-Signature") == 0)
        v->sig_headers++;
    if (v->hdr_overflow || nlen + vlen > DKIM_VERIFY_MAX_HDR_BYTES - v->hdr_bytes) {
        if (!v->hdr_overflow)
            verify_trace(v, "headers exceed %d bytes: not verified", DKIM_VERIFY_MAX_HDR_BYTES);
        v->hdr_overflow = 1;
        return 0;
    }
    if ((buf = malloc(nlen + 1 + 2 * vlen + 1)) == NULL)
        return verifier_break(v, "out of memory");
    memcpy(buf, name, nlen);
    len = nlen;
    buf[len++] = ':';
    for (size_t n = 0; n < vlen; n++) {
        if (value[n] == '\n' && (n == 0 || value[n - 1] != '\r'))
            buf[len++] = '\r';
        buf[len++] = (unsigned char)value[n];
    }
    v->hdr_bytes += len;
    st = dkim_header(v->dkim, buf, len);
    free(buf);
    if (st != DKIM_STAT_OK)
        verify_trace(v, "header %.64s refused by libopendkim (%d): %.120s", name, st,
                     dkim_geterror(v->dkim) ? dkim_geterror(v->dkim) : "");
    return 0;
}

/* dkim_verifier_eoh - end of headers: parse the signatures */
int dkim_verifier_eoh(struct dkim_verifier *v)
{
    DKIM_STAT st;

    if (v->state == VS_BROKEN)
        return -1;
    if (v->state != VS_HEADERS)
        return verifier_break(v, "end of headers twice");
    if (v->sig_headers == 0) {
        v->state = VS_NOSIG;
        verify_trace(v, "no DKIM-Signature header");
        return 0;
    }
    if (v->hdr_overflow) {
        v->state = VS_NOSIG;
        return 0;
    }
    st = dkim_eoh(v->dkim);
    verify_trace(v, "%zu DKIM-Signature header(s), end of headers: %s", v->sig_headers,
                 st == DKIM_STAT_OK ? "ok" : dkim_getresultstr(st));
    if (st != DKIM_STAT_OK && st != DKIM_STAT_NOSIG && st != DKIM_STAT_SYNTAX)
        return verifier_break(v, "dkim_eoh failed");
    v->state = st == DKIM_STAT_OK ? VS_BODY : VS_NOSIG;
    return 0;
}

/* dkim_verifier_body - one body chunk (CRLF line ends) */
int dkim_verifier_body(struct dkim_verifier *v, const unsigned char *buf, size_t len)
{
    DKIM_STAT st;

    if (v->state == VS_BROKEN)
        return -1;
    if (v->state == VS_NOSIG)
        return 0;
    if (v->state != VS_BODY)
        return verifier_break(v, "body out of order");
    if (len == 0)
        return 0;
    st = dkim_body(v->dkim, (unsigned char *)buf, len);
    if (st != DKIM_STAT_OK)
        return verifier_break(v, "dkim_body failed");
    return 0;
}

/* dkim_verifier_finish - compute one result per evaluated signature */
int dkim_verifier_finish(struct dkim_verifier *v, const struct dkim_sig_result **res_r, size_t *n_r)
{
    DKIM_SIGINFO **sigs = NULL;
    int nsigs = 0;
    DKIM_STAT st;

    *res_r = NULL;
    *n_r = 0;
    if (v->state == VS_HEADERS)
        dkim_verifier_eoh(v);
    if (v->state == VS_BODY) {
        st = dkim_eom(v->dkim, NULL);
        verify_trace(v, "end of message: %s", st == DKIM_STAT_OK ? "ok" : dkim_getresultstr(st));
        v->state = VS_DONE;
    } else if (v->state == VS_NOSIG) {
        v->state = VS_DONE;
    } else if (v->state == VS_BROKEN) {
        v->state = VS_DONE;
        if (verify_results_uniform(v, "temperror", v->broken) < 0)
            return -1;
        v->sig_headers = 0;
    }
    if (v->hdr_overflow && v->res == NULL) {
        v->hdr_overflow = 0;
        if (verify_results_uniform(v, "permerror", "message headers too large to verify") < 0)
            return -1;
    }
    if (v->res == NULL && v->sig_headers > 0) {
        size_t want = v->sig_headers < v->max_sigs ? v->sig_headers : v->max_sigs, n;

        if (dkim_getsiglist(v->dkim, &sigs, &nsigs) != DKIM_STAT_OK || sigs == NULL)
            nsigs = 0;
        n = (size_t)nsigs < want ? (size_t)nsigs : want;
        if (verify_results_alloc(v, want) < 0)
            return -1;
        for (size_t k = 0; k < n; k++)
            if (verify_result_fill(v, k, sigs[k]) < 0)
                return -1;
        /* a header libopendkim kept no handle for still gets its result */
        if (verify_results_missing(v, n) < 0)
            return -1;
    }
    *res_r = v->res;
    *n_r = v->nres;
    return 0;
}

/* dkim_verifier_trace - the trace lines so far */
const char *const *dkim_verifier_trace(const struct dkim_verifier *v, size_t *n_r)
{
    *n_r = v->ntrace;
    return (const char *const *)v->trace;
}

/* dkim_verifier_free - release everything; *vp becomes NULL */
void dkim_verifier_free(struct dkim_verifier **vp)
{
    struct dkim_verifier *v = *vp;

    if (v == NULL)
        return;
    if (v->dkim != NULL)
        dkim_free(v->dkim);
    for (size_t n = 0; n < v->nres; n++) {
        free(v->res[n].d);
        free(v->res[n].i);
        free(v->res[n].s);
        free(v->res[n].a);
        free(v->res[n].reason);
    }
    free(v->res);
    for (size_t n = 0; n < v->ntrace; n++)
        free(v->trace[n]);
    free(v->trace);
    free(v->lookups);
    free(v);
    *vp = NULL;
}
