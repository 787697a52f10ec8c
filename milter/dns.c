/*
 * NAME
 *	dns - one shared resolver (libunbound + DNSZoneFile) with deadlines
 * SYNOPSIS
 *	See include/dns.h.
 * DESCRIPTION
 *	The resolver's lifetime, dns_query() and the network side.  The
 *	DNSZoneFile is parsed by dns_zone.c into a table (dns_local.c) that
 *	dns_query() asks first; only then does it ask libunbound.  The
 *	table is our own (not libunbound local-data) so that NODATA vs
 *	NXDOMAIN, multi-string TXT with any bytes, names with odd characters
 *	and the test-only failure directives are under exact control.
 *
 *	Network lookups: ub_resolve_async() on the one context (threaded
 *	mode); one dispatcher thread polls ub_fd() and runs ub_process(),
 *	whose callbacks hand each result to its waiting thread through a
 *	per-query record guarded by the resolver mutex.  A waiter whose
 *	deadline passes calls ub_cancel(): UB_NOERROR means the callback will
 *	never run (libunbound checks the cancel flag under the same lock as
 *	it dequeues the answer), UB_NOID means it has run or is about to; the
 *	per-query record is reference counted across both cases.
 * DIAGNOSTICS
 *	Start-up problems come back from dns_resolver_new() as text; run-time
 *	failures are DNS_FAIL with a reason.  Broken invariants (mutex
 *	errors) abort.
 */
#include "am_config.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <unbound.h>

#include "dns.h"
#include "dns_int.h"

struct pending {
    pthread_cond_t cond;
    int done;
    int refs;
    int err;
    struct ub_result *result;
};

struct dns_resolver {
    struct ub_ctx *ctx;
    struct zone zone;
    long timeout_ms;
    int validating;
    pthread_mutex_t mu;
    pthread_t dispatcher;
    int running;
    int wake[2];
};

/* lock - mutex lock; a failure is a bug */
static void lock(pthread_mutex_t *mu)
{
    if (pthread_mutex_lock(mu) != 0)
        abort();
}

/* unlock - mutex unlock; a failure is a bug */
static void unlock(pthread_mutex_t *mu)
{
    if (pthread_mutex_unlock(mu) != 0)
        abort();
}

/* dispatcher - deliver libunbound answers to the waiting threads */
static void *dispatcher(void *arg)
{
    struct dns_resolver *r = arg;
    struct pollfd pfd[2];

    pfd[0].fd = ub_fd(r->ctx);
    pfd[0].events = POLLIN;
    pfd[1].fd = r->wake[0];
    pfd[1].events = POLLIN;
    for (;;) {
        if (poll(pfd, 2, -1) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents)
            break;
        if (pfd[0].revents && ub_process(r->ctx) != 0)
            usleep(1000);
    }
    return NULL;
}

/* query_done - libunbound callback: hand the result to its waiter */
static void query_done(void *arg, int err, struct ub_result *result)
{
    struct pending *p = arg;
    struct dns_resolver *r = *(struct dns_resolver **)(p + 1);
    int last;

    lock(&r->mu);
    p->err = err;
    p->result = result;
    p->done = 1;
    last = --p->refs == 0;
    pthread_cond_signal(&p->cond);
    unlock(&r->mu);
    if (last) {
        if (p->result)
            ub_resolve_free(p->result);
        pthread_cond_destroy(&p->cond);
        free(p);
    }
}

/* pending_release - drop one reference to a query record (mutex held) */
static int pending_release(struct pending *p)
{
    return --p->refs == 0;
}

/* wire_name - a wire-format name from rdata as text without trailing dot */
static int wire_name(const unsigned char *d, size_t len, size_t off, char *out, size_t outsz)
{
    size_t o = 0, l;

    while (off < len && (l = d[off]) != 0) {
        if (l > 63 || off + 1 + l > len || o + l + 2 > outsz)
            return -1;
        if (o)
            out[o++] = '.';
        memcpy(out + o, d + off + 1, l);
        o += l;
        off += 1 + l;
    }
    if (off >= len)
        return -1;
    out[o] = '\0';
    return 0;
}

/* convert_record - one rdata from libunbound into a record */
static int convert_record(int type, const unsigned char *d, size_t len, unsigned int ttl,
                          struct dns_answer *ans)
{
    struct dns_record rr;
    char text[ZONE_LINE_MAX];
    size_t off, o = 0;

    memset(&rr, 0, sizeof(rr));
    rr.type = type;
    rr.ttl = ttl;
    rr.data = text;
    switch (type) {
    case DNS_T_A:
    case DNS_T_AAAA:
        if (len != (type == DNS_T_A ? 4u : 16u))
            return -1;
        memcpy(rr.addr, d, len);
        break;
    case DNS_T_TXT:
        for (off = 0; off < len; off += 1 + d[off]) {
            if (off + 1 + d[off] > len || o + d[off] >= sizeof(text))
                return -1;
            memcpy(text + o, d + off + 1, d[off]);
            o += d[off];
        }
        break;
    case DNS_T_MX:
        if (len < 3 || wire_name(d, len, 2, text, sizeof(text)) < 0)
            return -1;
        rr.pref = (unsigned int)(d[0] << 8 | d[1]);
        o = strlen(text);
        break;
    default:
        if (wire_name(d, len, 0, text, sizeof(text)) < 0)
            return -1;
        o = strlen(text);
        break;
    }
    text[o] = '\0';
    rr.len = o;
    return dns_answer_add(ans, &rr);
}

/* convert_result - a libunbound result into our answer */
static enum dns_status convert_result(const struct dns_resolver *r, int type,
                                      const struct ub_result *res, struct dns_answer *ans)
{
    int i;

    ans->sec = res->secure     ? DNS_SEC_SECURE
               : res->bogus    ? DNS_SEC_BOGUS
               : r->validating ? DNS_SEC_INSECURE
                               : DNS_SEC_UNKNOWN;
    if (res->bogus)
        return dns_answer_set(ans, DNS_FAIL, "DNSSEC bogus: %.80s",
                              res->why_bogus ? res->why_bogus : "?");
    if (res->nxdomain || res->rcode == 3)
        return dns_answer_set(ans, DNS_NXDOMAIN, "no such name");
    if (res->rcode != 0)
        return dns_answer_set(ans, DNS_FAIL, "rcode %d%s", res->rcode,
                              res->rcode == 2   ? " (SERVFAIL)"
                              : res->rcode == 5 ? " (REFUSED)"
                                                : "");
    if (!res->havedata)
        return dns_answer_set(ans, DNS_NODATA, "no %s data", dns_type_name(type));
    for (i = 0; res->data[i]; i++)
        if (convert_record(type, (const unsigned char *)res->data[i], (size_t)res->len[i],
                           (unsigned int)res->ttl, ans) < 0)
            return dns_answer_set(ans, DNS_FAIL, "malformed %s record", dns_type_name(type));
    return dns_answer_set(ans, ans->count ? DNS_OK : DNS_NODATA, "answer");
}

/* start_dispatcher - start the dispatcher thread once */
static int start_dispatcher(struct dns_resolver *r)
{
    int ok = 1;

    lock(&r->mu);
    if (!r->running) {
        if (pipe(r->wake) < 0)
            ok = 0;
        else if (pthread_create(&r->dispatcher, NULL, dispatcher, r) != 0) {
            close(r->wake[0]);
            close(r->wake[1]);
            ok = 0;
        } else
            r->running = 1;
    }
    unlock(&r->mu);
    return ok ? 0 : -1;
}

/* network_name - the presentation form libunbound parses (odd bytes escaped) */
static void network_name(const char *name, char *out, size_t outsz)
{
    size_t o = 0;
    unsigned char c;

    for (; *name && o + 5 < outsz; name++) {
        c = (unsigned char)*name;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '*')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, outsz - o, "\\%03u", c);
    }
    out[o] = '\0';
}

/* network_query - ask libunbound, waiting at most until the deadline */
static enum dns_status network_query(struct dns_resolver *r, const char *name, int type,
                                     const struct timespec *deadline, struct dns_answer *ans)
{
    struct pending *p;
    char wire[DNS_NAME_MAX * 4];
    pthread_condattr_t ca;
    int id, err, rc = 0, cancelled, last;
    enum dns_status st;

    if (start_dispatcher(r) < 0)
        return dns_answer_set(ans, DNS_FAIL, "cannot start the resolver thread");
    if ((p = calloc(1, sizeof(*p) + sizeof(r))) == NULL)
        return dns_answer_set(ans, DNS_FAIL, "out of memory");
    *(struct dns_resolver **)(p + 1) = r;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    p->refs = 2;
    network_name(name, wire, sizeof(wire));
    if ((err = ub_resolve_async(r->ctx, wire, type, 1, p, query_done, &id)) != 0) {
        pthread_cond_destroy(&p->cond);
        free(p);
        return dns_answer_set(ans, DNS_FAIL, "resolver: %s", ub_strerror(err));
    }
    lock(&r->mu);
    while (!p->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&p->cond, &r->mu, deadline);
    if (!p->done) {
        unlock(&r->mu);
        cancelled = ub_cancel(r->ctx, id) == 0;
        lock(&r->mu);
        if (cancelled && !p->done)
            p->refs--; /* the callback will never run */
    }
    if (!p->done)
        st = dns_answer_set(ans, DNS_FAIL, "timed out");
    else if (p->err != 0 || p->result == NULL)
        st = dns_answer_set(ans, DNS_FAIL, "resolver: %s", ub_strerror(p->err));
    else
        st = convert_result(r, type, p->result, ans);
    last = pending_release(p);
    unlock(&r->mu);
    if (last) {
        if (p->result)
            ub_resolve_free(p->result);
        pthread_cond_destroy(&p->cond);
        free(p);
    }
    return st;
}

/* dns_deadline - now + DNSTimeout on CLOCK_MONOTONIC */
void dns_deadline(const struct dns_resolver *r, struct timespec *deadline_r)
{
    long ms = r ? r->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;

    clock_gettime(CLOCK_MONOTONIC, deadline_r);
    deadline_r->tv_sec += ms / 1000;
    deadline_r->tv_nsec += (ms % 1000) * 1000000L;
    if (deadline_r->tv_nsec >= 1000000000L) {
        deadline_r->tv_sec++;
        deadline_r->tv_nsec -= 1000000000L;
    }
}

/* deadline_passed - is the deadline already over? */
static int deadline_passed(const struct timespec *d)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* dns_query - look a name up: answer, NXDOMAIN/NODATA, or failure */
enum dns_status dns_query(struct dns_resolver *r, const char *name, int type,
                          const struct timespec *deadline, struct dns_answer *ans)
{
    char canon[DNS_NAME_MAX];
    struct timespec own;
    const char *why = NULL;

    memset(ans, 0, sizeof(*ans));
    if (name == NULL)
        return dns_answer_set(ans, DNS_FAIL, "no name");
    /* a name DNS cannot carry cannot exist */
    if (dns_canon_name(name, strlen(name), 0, 0, canon, &why) < 0)
        return dns_answer_set(ans, DNS_NXDOMAIN, "invalid name: %s", why);
    if (canon[0] == '\0')
        return dns_answer_set(ans, DNS_NXDOMAIN, "invalid name: empty");
    if (dns_zone_answer(&r->zone, canon, type, ans))
        return ans->status;
    if (r->ctx == NULL)
        return dns_answer_set(ans, DNS_FAIL, "no resolver");
    if (deadline == NULL) {
        dns_deadline(r, &own);
        deadline = &own;
    }
    if (deadline_passed(deadline))
        return dns_answer_set(ans, DNS_FAIL, "timed out (deadline passed)");
    return network_query(r, canon, type, deadline, ans);
}

/* setup_error - a set-up error as malloc'd text; frees the resolver */
static struct dns_resolver *setup_error(struct dns_resolver *r, char **error_r, const char *fmt,
                                        ...) __attribute__((format(printf, 3, 4)));

static struct dns_resolver *setup_error(struct dns_resolver *r, char **error_r, const char *fmt,
                                        ...)
{
    va_list ap;

    if (error_r) {
        va_start(ap, fmt);
        if (vasprintf(error_r, fmt, ap) < 0)
            *error_r = NULL;
        va_end(ap);
    }
    dns_resolver_free(&r);
    return NULL;
}

/* dns_resolver_new - load the zone file and set libunbound up */
struct dns_resolver *dns_resolver_new(const struct dns_options *opt, char **error_r)
{
    struct dns_resolver *r = calloc(1, sizeof(*r));
    const char *const *ns;
    int err;

    if (error_r)
        *error_r = NULL;
    if (r == NULL)
        return setup_error(r, error_r, "out of memory");
    pthread_mutex_init(&r->mu, NULL);
    r->timeout_ms = opt && opt->timeout_ms > 0 ? opt->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
    if (opt && opt->zone_file && dns_zone_load(&r->zone, opt->zone_file, error_r) < 0) {
        dns_resolver_free(&r);
        return NULL;
    }
    if ((r->ctx = ub_ctx_create()) == NULL)
        return setup_error(r, error_r, "libunbound: cannot create a context");
    if ((err = ub_ctx_async(r->ctx, 1)) != 0)
        return setup_error(r, error_r, "libunbound: threads: %s", ub_strerror(err));
    /* A domain whose servers never answer must not make the forwarders look
     * dead to every other lookup: keep probing them and forget failures
     * soon.  (Capping infra-cache-max-rtt makes it worse: a server at the
     * cap is not used at all.) */
    if ((err = ub_ctx_set_option(r->ctx, "do-not-query-localhost:", "no")) != 0 ||
        (err = ub_ctx_set_option(r->ctx, "outgoing-range:", "512")) != 0 ||
        (err = ub_ctx_set_option(r->ctx, "num-queries-per-thread:", "1024")) != 0 ||
        (err = ub_ctx_set_option(r->ctx, "infra-keep-probing:", "yes")) != 0 ||
        (err = ub_ctx_set_option(r->ctx, "infra-host-ttl:", "60")) != 0)
        return setup_error(r, error_r, "libunbound: %s", ub_strerror(err));
    if (opt && opt->nameservers && opt->nameservers[0]) {
        for (ns = opt->nameservers; *ns; ns++)
            if ((err = ub_ctx_set_fwd(r->ctx, *ns)) != 0)
                return setup_error(r, error_r, "bad nameserver \"%.100s\": %s", *ns,
                                   ub_strerror(err));
    } else if ((err = ub_ctx_resolvconf(r->ctx, NULL)) != 0) {
        return setup_error(r, error_r, "/etc/resolv.conf: %s", ub_strerror(err));
    }
    if (opt && opt->trust_anchor_file) {
        if ((err = ub_ctx_add_ta_file(r->ctx, opt->trust_anchor_file)) != 0)
            return setup_error(r, error_r, "%s: trust anchor: %s", opt->trust_anchor_file,
                               ub_strerror(err));
        r->validating = 1;
    }
    return r;
}

/* dns_resolver_free - stop the dispatcher and release everything */
void dns_resolver_free(struct dns_resolver **rp)
{
    struct dns_resolver *r = rp ? *rp : NULL;

    if (r == NULL)
        return;
    if (r->running) {
        if (write(r->wake[1], "x", 1) != 1)
            abort();
        pthread_join(r->dispatcher, NULL);
        close(r->wake[0]);
        close(r->wake[1]);
    }
    if (r->ctx)
        ub_ctx_delete(r->ctx);
    dns_zone_free(&r->zone);
    pthread_mutex_destroy(&r->mu);
    free(r);
    *rp = NULL;
}
