/*
 * NAME
 *	dmarc - DMARC evaluation (RFC 7489, np= of RFC 9091)
 * SYNOPSIS
 *	See include/dmarc.h.
 * DESCRIPTION
 *	libopendmarc 1.4.2 parses the policy tags of a record (through
 *	dmarc_record.c, which validates first) and nothing else.  Record
 *	discovery, the organizational domain, alignment and the decision are
 *	ours, because the library gets them wrong:
 *	 1. With a public suffix list loaded, strict DKIM alignment passes a
 *	    From domain whose signature is from a subdomain: here strict is
 *	    plain name equality.
 *	 2. An SPF temporary error with no DKIM yields REJECT: here an
 *	    aligned temperror makes the result temperror (6.6.2), and a
 *	    temperror never quarantines or rejects.
 *	 3. pct= is parsed but never applied: applied here (6.6.4).
 *	 4. opendmarc_policy_store_dmarc() replaces the From domain with the
 *	    domain the record came from (the organizational domain), so a
 *	    subdomain is checked as if it were its parent: we keep the From
 *	    domain and the record domain apart and never call it.
 *	 5. opendmarc_policy_store_spf() takes only none/pass/fail/tempfail:
 *	    we take every RFC 8601 SPF result string; only "pass" aligns.
 *	 6. opendmarc_policy_fetch_ruf(pctx, NULL, n, ...) with n > 0 writes
 *	    through NULL: never called (reports are not this module's job).
 *	 7. Its public suffix list is process-global and wrong for wildcards
 *	    and IDN rules: psl.c.
 *	 8. Its DNS code is its own res_state resolver: we use dns_query().
 * DIAGNOSTICS
 *	Results, reasons and a trace in struct dmarc_outcome; never exits.
 */
#include "am_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"
#include "dmarc_record.h"
#include "dns.h"
#include "psl.h"

#define DOMAIN_BUF (PSL_MAX_DOMAIN + 2)

struct dmarc_ctx {
    struct psl *psl;
};

struct eval {
    const struct dmarc_ctx *ctx;
    const struct dmarc_input *in;
    struct dmarc_outcome *out;
    int nomem;
};

enum lookup { FOUND, NO_RECORD, SEVERAL, DNS_FAILED };

/* dmarc_open - load the public suffix list for one configuration */
struct dmarc_ctx *dmarc_open(const char *psl_path, char **error_r)
{
    struct dmarc_ctx *ctx;

    *error_r = NULL;
    if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
        *error_r = strdup("out of memory");
        return NULL;
    }
    if ((ctx->psl = psl_load(psl_path, error_r)) == NULL) {
        free(ctx);
        return NULL;
    }
    return ctx;
}

/* dmarc_close - release a context and clear the caller's pointer */
void dmarc_close(struct dmarc_ctx **ctxp)
{
    if (*ctxp == NULL)
        return;
    psl_free(&(*ctxp)->psl);
    free(*ctxp);
    *ctxp = NULL;
}

/* dmarc_org_domain - organizational domain of domain (pointer into it) */
const char *dmarc_org_domain(const struct dmarc_ctx *ctx, const char *domain)
{
    return psl_org_domain(ctx->psl, domain);
}

/* dmarc_outcome_clear - free what dmarc_evaluate() allocated */
void dmarc_outcome_clear(struct dmarc_outcome *out)
{
    size_t i;

    free(out->from_domain);
    free(out->org_domain);
    free(out->record_domain);
    free(out->record);
    free(out->reason);
    for (i = 0; i < out->ntrace; i++)
        free(out->trace[i]);
    free(out->trace);
    memset(out, 0, sizeof(*out));
}

/* defang - replace control characters of untrusted text for logs */
static void defang(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

/* trace - append one formatted line to out->trace */
static void trace(struct eval *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct eval *ev, const char *fmt, ...)
{
    struct dmarc_outcome *out = ev->out;
    char **grown, *line;
    va_list ap;
    int rc;

    if (out->ntrace >= DMARC_MAX_TRACE)
        return;
    va_start(ap, fmt);
    rc = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        ev->nomem = 1;
        return;
    }
    defang(line);
    if ((grown = realloc(out->trace, (out->ntrace + 1) * sizeof(*grown))) == NULL) {
        free(line);
        ev->nomem = 1;
        return;
    }
    out->trace = grown;
    out->trace[out->ntrace++] = line;
}

/* conclude - set result and reason (also traced); returns 0 */
static int conclude(struct eval *ev, const char *result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int conclude(struct eval *ev, const char *result, const char *fmt, ...)
{
    va_list ap;
    char *reason;

    ev->out->result = result;
    va_start(ap, fmt);
    if (vasprintf(&reason, fmt, ap) < 0) {
        reason = NULL;
        ev->nomem = 1;
    }
    va_end(ap);
    free(ev->out->reason);
    ev->out->reason = reason;
    if (reason != NULL)
        defang(reason);
    if (reason != NULL)
        trace(ev, "result %s: %s", result, reason);
    return 0;
}

/* dupe - strdup that notes a memory shortage */
static char *dupe(struct eval *ev, const char *s)
{
    char *copy = strdup(s);

    if (copy == NULL)
        ev->nomem = 1;
    return copy;
}

/* aligned - does other (raw) align with the normalized From domain */
static int aligned(struct eval *ev, const char *from, const char *other, char mode)
{
    char norm[DOMAIN_BUF];
    const char *a, *b;

    if (other == NULL || psl_domain_to_ascii(other, norm, sizeof(norm)) < 0)
        return 0;
    if (mode == 's')
        return strcmp(from, norm) == 0;
    a = psl_org_domain(ev->ctx->psl, from);
    b = psl_org_domain(ev->ctx->psl, norm);
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* fetch_record - TXT _dmarc.<domain>: the one DMARC record, if any */
static enum lookup fetch_record(struct eval *ev, const char *domain, char **record_r)
{
    char name[DOMAIN_BUF + 8];
    struct dns_answer ans;
    enum dns_status st;
    size_t i, count = 0;
    const struct dns_record *hit = NULL;

    *record_r = NULL;
    if (snprintf(name, sizeof(name), "_dmarc.%s", domain) > PSL_MAX_DOMAIN) {
        trace(ev, "_dmarc.%.200s: name too long, no record", domain);
        return NO_RECORD;
    }
    memset(&ans, 0, sizeof(ans));
    st = dns_query(ev->in->dns, name, DNS_T_TXT, ev->in->deadline, &ans);
    if (st == DNS_FAIL) {
        trace(ev, "TXT %s: DNS failure (%s)", name, ans.reason);
        dns_answer_clear(&ans);
        return DNS_FAILED;
    }
    for (i = 0; st == DNS_OK && i < ans.count; i++) {
        if (ans.rr[i].type != DNS_T_TXT || ans.rr[i].data == NULL)
            continue;
        if (!dmarc_record_is_dmarc(ans.rr[i].data, ans.rr[i].len)) {
            trace(ev, "TXT %s: not a DMARC record: \"%.200s\"", name, ans.rr[i].data);
            continue;
        }
        hit = &ans.rr[i];
        count++;
    }
    trace(ev, "TXT %s: %s, %zu DMARC record(s)", name, dns_status_name(st), count);
    if (count == 1 && (*record_r = malloc(hit->len + 1)) != NULL) {
        memcpy(*record_r, hit->data, hit->len);
        (*record_r)[hit->len] = 0;
    } else if (count == 1) {
        ev->nomem = 1;
    }
    dns_answer_clear(&ans);
    return count == 0 ? NO_RECORD : count > 1 ? SEVERAL : FOUND;
}

/* domain_exists - RFC 9091 2.1: 1 exists, 0 does not, -1 DNS failure */
static int domain_exists(struct eval *ev, const char *domain)
{
    static const int types[] = {DNS_T_A, DNS_T_AAAA, DNS_T_MX};
    struct dns_answer ans;
    enum dns_status st;
    int failed = 0;
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        memset(&ans, 0, sizeof(ans));
        st = dns_query(ev->in->dns, domain, types[i], ev->in->deadline, &ans);
        trace(ev, "%s %.200s: %s%s%s", dns_type_name(types[i]), domain, dns_status_name(st),
              st == DNS_FAIL ? " " : "", st == DNS_FAIL ? ans.reason : "");
        dns_answer_clear(&ans);
        if (st == DNS_OK)
            return 1;
        if (st == DNS_NXDOMAIN)
            return 0;
        if (st == DNS_FAIL)
            failed = 1;
    }
    return failed ? -1 : 0;
}

/* is_result - case-insensitive comparison of an SPF/DKIM result */
static int is_result(const char *got, const char *want)
{
    return got != NULL && strcasecmp(got, want) == 0;
}

/* check_alignment - set the alignment flags; 1 when a temperror would align */
static int check_alignment(struct eval *ev, const struct dmarc_record *rec)
{
    const struct dmarc_input *in = ev->in;
    const char *from = ev->out->from_domain;
    int temp = 0, spf_al = aligned(ev, from, in->spf_domain, rec->aspf);
    size_t i, dkim_pass = 0;

    ev->out->spf_aligned = spf_al && is_result(in->spf_result, "pass");
    temp |= spf_al && is_result(in->spf_result, "temperror");
    trace(ev, "SPF %.20s for %.200s: %saligned (aspf=%c)", in->spf_result ? in->spf_result : "-",
          in->spf_domain ? in->spf_domain : "-", spf_al ? "" : "not ", rec->aspf);
    for (i = 0; i < in->ndkim && in->dkim != NULL; i++) {
        int al = aligned(ev, from, in->dkim[i].d, rec->adkim);

        if (al && is_result(in->dkim[i].result, "pass"))
            dkim_pass++;
        temp |= al && is_result(in->dkim[i].result, "temperror");
        trace(ev, "DKIM %.20s d=%.200s: %saligned (adkim=%c)",
              in->dkim[i].result ? in->dkim[i].result : "-", in->dkim[i].d ? in->dkim[i].d : "-",
              al ? "" : "not ", rec->adkim);
    }
    ev->out->dkim_aligned = dkim_pass > 0;
    return temp;
}

/* step_down - one step milder disposition (6.6.4) */
static char step_down(char policy)
{
    return policy == 'r' ? 'q' : 'n';
}

/* apply_policy - choose p/sp/np and the disposition after alignment */
static void apply_policy(struct eval *ev, const struct dmarc_record *rec, int at_org)
{
    struct dmarc_outcome *out = ev->out;
    char policy = rec->p, disp;
    int exists;

    out->policy_tag = "p";
    if (at_org && rec->sp) {
        policy = rec->sp;
        out->policy_tag = "sp";
    }
    if (at_org && rec->np && rec->np != policy) {
        exists = domain_exists(ev, out->from_domain);
        if (exists == 0) {
            policy = rec->np;
            out->policy_tag = "np";
        } else if (exists < 0 && strcmp(out->result, "fail") == 0) {
            conclude(ev, "temperror", "DNS failure deciding whether %s exists (np=)",
                     out->from_domain);
        }
    }
    out->policy = dmarc_policy_name(policy);
    if (strcmp(out->result, "fail") != 0)
        return;
    disp = policy;
    if (disp != 'n' && ev->in->random_percent % 100 >= (unsigned int)rec->pct) {
        disp = step_down(disp);
        out->pct_applied_down = 1;
        trace(ev, "pct=%d, sample %u: %s becomes %s", rec->pct, ev->in->random_percent % 100,
              dmarc_policy_name(policy), dmarc_policy_name(disp));
    }
    out->disposition = dmarc_policy_name(disp);
}

/* from_problem - the permerror reason for a From: the engine could not use */
static const char *from_problem(int status)
{
    switch (status) {
    case DMARC_FROM_NONE:
        return "no From: header field";
    case DMARC_FROM_MULTI:
        return "From: holds several domains";
    case DMARC_FROM_BAD:
        return "unparsable From: header field";
    default:
        return NULL;
    }
}

/* discover - find, fetch and parse the policy record; 0 when one applies */
static int discover(struct eval *ev, struct dmarc_record *rec, int *at_org)
{
    struct dmarc_outcome *out = ev->out;
    const char *where = out->from_domain;
    enum lookup lk;
    char *record, why[200];

    lk = fetch_record(ev, where, &record);
    if (lk == NO_RECORD && strcmp(out->org_domain, out->from_domain) != 0) {
        where = out->org_domain;
        lk = fetch_record(ev, where, &record);
    }
    if (lk == DNS_FAILED)
        return conclude(ev, "temperror", "DNS failure looking up _dmarc.%s", where), -1;
    if (lk == NO_RECORD)
        return conclude(ev, "none", "no DMARC record for %s", out->from_domain), -1;
    if (lk == SEVERAL)
        return conclude(ev, "none", "several DMARC records at _dmarc.%s", where), -1;
    if (record == NULL)
        return -1; /* out of memory */
    out->record = record;
    out->record_domain = dupe(ev, where);
    *at_org = where != out->from_domain;
    if (dmarc_record_parse(record, strlen(record), rec, why, sizeof(why)) < 0)
        return conclude(ev, "permerror", "invalid DMARC record at _dmarc.%s: %s", where, why), -1;
    if (rec->fallback)
        trace(ev, "invalid policy but a valid rua=: acting as p=none (RFC 7489 6.6.3)");
    out->pct = rec->pct;
    return 0;
}

/* dmarc_evaluate - DMARC result and disposition for one message */
int dmarc_evaluate(struct dmarc_ctx *ctx, const struct dmarc_input *in, struct dmarc_outcome *out)
{
    struct eval ev = {ctx, in, out, 0};
    struct dmarc_record rec;
    char norm[DOMAIN_BUF];
    const char *org, *problem;
    int at_org = 0, temp;

    memset(out, 0, sizeof(*out));
    out->result = "none";
    out->policy = out->disposition = "none";
    out->pct = 100;
    if ((problem = from_problem(in->from_status)) != NULL || in->from_domain == NULL) {
        conclude(&ev, "permerror", "%s", problem ? problem : "no From: domain");
    } else if (psl_domain_to_ascii(in->from_domain, norm, sizeof(norm)) < 0 ||
               (org = psl_org_domain(ctx->psl, norm)) == NULL) {
        conclude(&ev, "permerror", "From: domain \"%.200s\" is not a valid domain name",
                 in->from_domain);
    } else if (in->dns == NULL) {
        conclude(&ev, "temperror", "no DNS resolver");
    } else {
        out->from_domain = dupe(&ev, norm);
        out->org_domain = dupe(&ev, org);
        if (out->from_domain != NULL && out->org_domain != NULL &&
            discover(&ev, &rec, &at_org) == 0) {
            temp = check_alignment(&ev, &rec);
            if (out->spf_aligned || out->dkim_aligned)
                conclude(&ev, "pass", "%s%s%saligned", out->spf_aligned ? "SPF " : "",
                         out->spf_aligned && out->dkim_aligned ? "and " : "",
                         out->dkim_aligned ? "DKIM " : "");
            else if (temp)
                conclude(&ev, "temperror",
                         "no aligned pass, an aligned identifier had a "
                         "temporary error");
            else
                conclude(&ev, "fail", "neither SPF nor DKIM aligned with %s", out->from_domain);
            apply_policy(&ev, &rec, at_org);
        }
    }
    if (ev.nomem) {
        out->result = "temperror";
        out->disposition = "none";
        return -1;
    }
    return 0;
}
