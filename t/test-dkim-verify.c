/*
 * NAME
 *	test-dkim-verify - API-level tests of dkim_verify
 * SYNOPSIS
 *	t/test-dkim-verify
 * DESCRIPTION
 *	Drives dkim_verify through its API with the RFC 6376/8463 example
 *	that python3-dkim ships (dual-signed, Ed25519 + RSA) and the keys of
 *	t/data/verify/rfc.zone: header value forms (LF and CRLF folding, the
 *	leading space), body chunk sizes, no signature, max_sigs against a
 *	flood of signatures (and how many key lookups that costs), the
 *	header size limit, calls out of order, finish twice, and many
 *	verifiers in parallel threads.  The generated corpus lives in
 *	t/dkim-verify-corpus.sh.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dkim_verify.h"
#include "dns.h"
#include "tap.h"

#define RFC_MSG "/usr/lib/python3/dist-packages/dkim/tests/data/rfc6376.signed.msg"
#define MAX_HDRS 256

struct msg {
    char *name[MAX_HDRS], *value[MAX_HDRS]; /* value: raw, LF folding */
    size_t nhdrs;
    char *body; /* CRLF */
    size_t blen;
};

static struct dns_resolver *dns;
static struct msg rfc;

/* load_msg - split a message file into headers (LF folding) and a CRLF body */
static int load_msg(const char *path, struct msg *m)
{
    FILE *fp = fopen(path, "rb");
    char line[4096];
    int in_body = 0;

    if (fp == NULL)
        return -1;
    memset(m, 0, sizeof(*m));
    m->body = calloc(1, 1 << 20);
    while (fgets(line, sizeof(line), fp) != NULL) {
        size_t len = strcspn(line, "\r\n");
        char *colon;

        line[len] = 0;
        if (in_body) {
            memcpy(m->body + m->blen, line, len);
            m->blen += len;
            memcpy(m->body + m->blen, "\r\n", 2);
            m->blen += 2;
        } else if (len == 0) {
            in_body = 1;
        } else if ((line[0] == ' ' || line[0] == '\t') && m->nhdrs > 0) {
            char *v = m->value[m->nhdrs - 1];
            size_t vl = strlen(v);

            char *grown = realloc(v, vl + len + 2);

            if (grown == NULL)
                abort();
            v = grown;
            v[vl] = '\n';
            memcpy(v + vl + 1, line, len + 1);
            m->value[m->nhdrs - 1] = v;
        } else if ((colon = strchr(line, ':')) != NULL && m->nhdrs < MAX_HDRS) {
            m->name[m->nhdrs] = strndup(line, (size_t)(colon - line));
            m->value[m->nhdrs++] = strdup(colon + 1);
        }
    }
    fclose(fp);
    return 0;
}

/* free_msg - release a loaded message */
static void free_msg(struct msg *m)
{
    for (size_t n = 0; n < m->nhdrs; n++) {
        free(m->name[n]);
        free(m->value[n]);
    }
    free(m->body);
}

/* crlf_copy - the value with every LF turned to CRLF */
static char *crlf_copy(const char *v)
{
    char *out = malloc(2 * strlen(v) + 1), *o = out;

    for (; *v; v++) {
        if (*v == '\n')
            *o++ = '\r';
        *o++ = *v;
    }
    *o = 0;
    return out;
}

enum feed_mode { FEED_LF, FEED_CRLF, FEED_NO_LEADSPACE };

/* verify - run one message; returns the verifier (results in *res_r) */
static struct dkim_verifier *verify(const struct msg *m, enum feed_mode mode, size_t chunk,
                                    unsigned int max_sigs, const struct dkim_sig_result **res_r,
                                    size_t *n_r)
{
    const char *err = NULL;
    struct dkim_verifier *v = dkim_verifier_new(dns, NULL, max_sigs, &err);

    if (v == NULL) {
        tap_diag("dkim_verifier_new: %s", err);
        exit(1);
    }
    for (size_t n = 0; n < m->nhdrs; n++) {
        char *val = mode == FEED_CRLF ? crlf_copy(m->value[n]) : strdup(m->value[n]);
        const char *p = val;

        if (mode == FEED_NO_LEADSPACE && *p == ' ')
            p++;
        dkim_verifier_header(v, m->name[n], p);
        free(val);
    }
    dkim_verifier_eoh(v);
    for (size_t off = 0; off < m->blen; off += chunk)
        dkim_verifier_body(v, (unsigned char *)m->body + off,
                           m->blen - off < chunk ? m->blen - off : chunk);
    if (dkim_verifier_finish(v, res_r, n_r) < 0) {
        *res_r = NULL;
        *n_r = 0;
    }
    return v;
}

/* results - "pass,fail,..." for the results */
static const char *results(const struct dkim_sig_result *res, size_t n)
{
    static __thread char buf[1024];
    size_t len = 0;

    buf[0] = 0;
    for (size_t k = 0; k < n && len < sizeof(buf) - 16; k++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", k ? "," : "", res[k].result);
    return buf;
}

/* trace_count - trace lines containing needle */
static size_t trace_count(const struct dkim_verifier *v, const char *needle)
{
    size_t n, count = 0;
    const char *const *t = dkim_verifier_trace(v, &n);

    for (size_t k = 0; k < n; k++)
        count += strstr(t[k], needle) != NULL;
    return count;
}

/* test_forms - value forms and chunk sizes of the RFC example */
static void test_forms(void)
{
    const struct dkim_sig_result *res;
    struct dkim_verifier *v;
    size_t n;

    v = verify(&rfc, FEED_LF, 65536, 0, &res, &n);
    tap_is_str(results(res, n), "pass,pass", "RFC 8463 example, LF folding: both pass");
    tap_ok(n == 2 && strcmp(res[0].a, "ed25519-sha256") == 0 && strcmp(res[0].s, "brisbane") == 0 &&
               strcmp(res[1].a, "rsa-sha256") == 0 && strcmp(res[1].s, "test") == 0,
           "results in header order: Ed25519 (brisbane) then RSA (test)");
    tap_ok(n == 2 && strcmp(res[0].d, "football.example.com") == 0 &&
               strcmp(res[0].i, "@football.example.com") == 0 && strcmp(res[0].b8, "9/dsDChY") == 0,
           "d=, i=, header.b of the Ed25519 signature");
    tap_is_int((long)trace_count(v, "key lookup"), 2, "two key lookups");
    dkim_verifier_free(&v);
    tap_ok(v == NULL, "dkim_verifier_free clears the pointer");
    dkim_verifier_free(&v);

    v = verify(&rfc, FEED_CRLF, 65536, 0, &res, &n);
    tap_is_str(results(res, n), "pass,pass", "CRLF folding in values: both pass");
    dkim_verifier_free(&v);

    v = verify(&rfc, FEED_NO_LEADSPACE, 65536, 0, &res, &n);
    tap_is_str(results(res, n), "fail,fail",
               "leading space dropped from values: simple/simple fails (value must be raw)");
    dkim_verifier_free(&v);

    v = verify(&rfc, FEED_LF, 1, 0, &res, &n);
    tap_is_str(results(res, n), "pass,pass", "1-byte body chunks: both pass");
    dkim_verifier_free(&v);
}

/* test_nosig - no DKIM-Signature: zero results */
static void test_nosig(void)
{
    struct msg m = rfc;
    const struct dkim_sig_result *res;
    struct dkim_verifier *v;
    size_t n = 99;

    m.nhdrs = 0;
    for (size_t k = 0; k < rfc.nhdrs; k++) {
        if (strcasecmp(rfc.name[k], "DKIM-Signature") != 0) {
            m.name[m.nhdrs] = rfc.name[k];
            m.value[m.nhdrs++] = rfc.value[k];
        }
    }
    v = verify(&m, FEED_LF, 65536, 0, &res, &n);
    tap_is_int((long)n, 0, "no DKIM-Signature: zero results");
    tap_is_int((long)trace_count(v, "key lookup"), 0, "no DKIM-Signature: no lookup");
    dkim_verifier_free(&v);
}

/* test_flood - 100 signatures, max_sigs 8: 8 results, 8 lookups */
static void test_flood(void)
{
    struct msg m;
    const struct dkim_sig_result *res;
    struct dkim_verifier *v;
    char *copies[99];
    size_t n, perm = 0;

    memset(&m, 0, sizeof(m));
    m.name[m.nhdrs] = rfc.name[0]; /* the Ed25519 signature, then 99 with other selectors */
    m.value[m.nhdrs++] = rfc.value[0];
    for (int k = 0; k < 99; k++) {
        const char *sel = strstr(rfc.value[0], "s=brisbane");
        size_t pre = (size_t)(sel - rfc.value[0]);

        if (asprintf(copies + k, "%.*ss=n%d%s", (int)pre, rfc.value[0], k,
                     sel + strlen("s=brisbane")) < 0)
            exit(1);
        m.name[m.nhdrs] = rfc.name[0];
        m.value[m.nhdrs++] = copies[k];
    }
    for (size_t k = 2; k < rfc.nhdrs; k++) {
        m.name[m.nhdrs] = rfc.name[k];
        m.value[m.nhdrs++] = rfc.value[k];
    }
    m.body = rfc.body;
    m.blen = rfc.blen;
    v = verify(&m, FEED_LF, 65536, 8, &res, &n);
    for (size_t k = 1; k < n; k++)
        perm += strcmp(res[k].result, "permerror") == 0;
    tap_ok(n == 8 && strcmp(res[0].result, "pass") == 0 && perm == 7,
           "100 signatures, max_sigs 8: 8 results, pass + 7 permerror (no key)");
    tap_is_int((long)trace_count(v, "key lookup"), 8, "only 8 key lookups");
    tap_is_int((long)trace_count(v, "beyond max_sigs"), 92, "92 signatures named as not evaluated");
    dkim_verifier_free(&v);
    for (int k = 0; k < 99; k++)
        free(copies[k]);
}

/* test_limits - header size limit, calls out of order, finish twice */
static void test_limits(void)
{
    struct msg m = rfc;
    const struct dkim_sig_result *res, *res2;
    struct dkim_verifier *v;
    const char *err;
    size_t n, n2;
    char *big = malloc(DKIM_VERIFY_MAX_HDR_BYTES + 2);

    memset(big, 'a', DKIM_VERIFY_MAX_HDR_BYTES + 1);
    big[0] = ' ';
    big[DKIM_VERIFY_MAX_HDR_BYTES + 1] = 0;
    m.name[m.nhdrs] = "X-Big";
    m.value[m.nhdrs++] = big;
    v = verify(&m, FEED_LF, 65536, 0, &res, &n);
    tap_is_str(results(res, n), "permerror,permerror", "headers over the limit: permerror");
    tap_ok(n == 2 && strstr(res[0].reason, "too large") != NULL, "... with the reason (%s)",
           n ? res[0].reason : "");
    dkim_verifier_free(&v);
    free(big);

    v = dkim_verifier_new(dns, NULL, 0, &err);
    dkim_verifier_header(v, rfc.name[0], rfc.value[0]);
    tap_is_int(dkim_verifier_body(v, (const unsigned char *)"x\r\n", 3), -1,
               "body before end of headers refused");
    tap_is_int(dkim_verifier_finish(v, &res, &n), 0, "finish after misuse still answers");
    tap_is_str(results(res, n), "temperror", "... temperror for the signature seen");
    tap_is_int(dkim_verifier_finish(v, &res2, &n2), 0, "finish twice");
    tap_ok(res2 == res && n2 == n, "... gives the same results");
    dkim_verifier_free(&v);

    v = dkim_verifier_new(dns, NULL, 0, &err);
    for (size_t k = 0; k < rfc.nhdrs; k++)
        dkim_verifier_header(v, rfc.name[k], rfc.value[k]);
    dkim_verifier_eoh(v);
    tap_is_int(dkim_verifier_finish(v, &res, &n), 0, "finish without body");
    tap_is_str(results(res, n), "fail,fail", "empty body: body hash mismatch -> fail");
    dkim_verifier_free(&v);
}

#define THREADS 8
#define PER_THREAD 40

/* thread_main - verify the RFC example PER_THREAD times */
static void *thread_main(void *arg)
{
    long *passes = arg;

    for (int k = 0; k < PER_THREAD; k++) {
        const struct dkim_sig_result *res;
        size_t n;
        struct dkim_verifier *v = verify(&rfc, FEED_LF, 4096, 0, &res, &n);

        if (strcmp(results(res, n), "pass,pass") == 0)
            (*passes)++;
        dkim_verifier_free(&v);
    }
    return NULL;
}

/* test_threads - many verifiers in parallel on the shared DKIM_LIB */
static void test_threads(void)
{
    pthread_t tid[THREADS];
    long passes[THREADS] = {0}, total = 0;
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int t = 0; t < THREADS; t++)
        pthread_create(tid + t, NULL, thread_main, passes + t);
    for (int t = 0; t < THREADS; t++) {
        pthread_join(tid[t], NULL);
        total += passes[t];
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    tap_is_int(total, THREADS * PER_THREAD, "%d threads x %d verifiers: every one passes", THREADS,
               PER_THREAD);
    tap_diag("%.1f us per dual-signed message",
             ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) /
                 (THREADS * PER_THREAD));
}

int main(void)
{
    struct dns_options opt = {NULL, NULL, NULL, 2000};
    static const char *const ns[] = {"127.0.0.1@9", NULL};
    const char *srcdir = getenv("top_srcdir");
    char zone[4096], *err = NULL;

    snprintf(zone, sizeof(zone), "%s/t/data/verify/rfc.zone", srcdir ? srcdir : ".");
    opt.nameservers = ns;
    opt.zone_file = zone;
    if ((dns = dns_resolver_new(&opt, &err)) == NULL) {
        tap_ok(0, "resolver: %s", err);
        return tap_done();
    }
    if (load_msg(RFC_MSG, &rfc) < 0) {
        tap_ok(0, "cannot read %s (python3-dkim)", RFC_MSG);
        return tap_done();
    }
    test_forms();
    test_nosig();
    test_flood();
    test_limits();
    test_threads();
    free_msg(&rfc);
    dns_resolver_free(&dns);
    dkim_verify_shutdown();
    return tap_done();
}
