/*
 * NAME
 *	inbound_dmarc - DKIM verification and DMARC evaluation and enforcement
 * SYNOPSIS
 *	See include/inbound_dmarc.h.
 * DESCRIPTION
 *	The libraries' own faults are cured in their modules (dkim_verify.c,
 *	dmarc.c); this file only orders the steps and turns the outcome into
 *	a verdict.  The pct sample uses getrandom(2) per message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "addr.h"
#include "dkim_verify.h"
#include "dmarc.h"
#include "inbound_dmarc.h"
#include "spf.h"

/* dkim_fail - the verifier broke: tempfail, never pass unverified mail as verified */
static void dkim_fail(struct conn *c, const char *what, const char *error)
{
    struct msgctx *m = c->m;

    verdict_set(&m->verdict, VERDICT_TEMPFAIL, "451", "4.3.0",
                "Temporary verification failure, try again later");
    snprintf(m->why, sizeof(m->why), "DKIM %s failed: %s", what, error ? error : "?");
    dkim_verifier_free(&m->verifier);
}

/* inbound_dkim_eoh - start verification and feed the headers */
void inbound_dkim_eoh(struct conn *c)
{
    struct msgctx *m = c->m;
    const char *error = NULL;
    size_t i;

    m->verifier = dkim_verifier_new(c->cfg->dns, &m->deadline,
                                    (unsigned int)c->cfg->max_signatures_verify, &error);
    if (m->verifier == NULL) {
        dkim_fail(c, "start", error);
        return;
    }
    for (i = 0; i < m->nhdrs; i++)
        if (dkim_verifier_header(m->verifier, m->hdrs[i].name, m->hdrs[i].value) < 0) {
            dkim_fail(c, "header", "bad header");
            return;
        }
    if (dkim_verifier_eoh(m->verifier) < 0)
        dkim_fail(c, "end of headers", "verifier refused the headers");
}

/* inbound_dkim_body - stream a body chunk */
void inbound_dkim_body(struct conn *c, const unsigned char *buf, size_t len)
{
    struct msgctx *m = c->m;

    if (m->verifier && dkim_verifier_body(m->verifier, buf, len) < 0)
        dkim_fail(c, "body", "verifier refused the body");
}

/* from_domain - the From: domain and its DMARC status; *domain_r malloc'd */
static int from_domain(struct msgctx *m, char **domain_r)
{
    struct addr_list list = {0, NULL};
    const char *error, *value = NULL;
    size_t i, nfrom = 0;
    int status = DMARC_FROM_OK;

    *domain_r = NULL;
    for (i = 0; i < m->nhdrs; i++)
        if (strcasecmp(m->hdrs[i].name, "From") == 0 && nfrom++ == 0)
            value = m->hdrs[i].value;
    if (nfrom == 0)
        return DMARC_FROM_NONE;
    if (nfrom > 1)
        return DMARC_FROM_MULTI;
    if (addr_parse_list(value, &list, &error) < 0)
        return DMARC_FROM_BAD;
    if (list.n == 0)
        status = DMARC_FROM_NONE;
    for (i = 1; i < list.n; i++)
        if (strcasecmp(list.v[i].domain, list.v[0].domain) != 0)
            status = DMARC_FROM_MULTI;
    if (status == DMARC_FROM_OK)
        *domain_r = addr_lower(list.v[0].domain);
    if (list.n > 0 && m->from_addr == NULL)
        m->from_addr = addr_lower(list.v[0].addr); /* for the log line */
    addr_list_free(&list);
    return status;
}

/* dmarc_enforce - the verdict DMARCEnforcement asks for */
static void dmarc_enforce(struct conn *c, const struct dmarc_outcome *o)
{
    struct msgctx *m = c->m;
    enum dmarc_enforcement how = c->cfg->dmarc_enforcement;

    if (strcmp(o->result, "temperror") == 0) {
        if (c->cfg->on_dns_error == ON_DNSERROR_TEMPFAIL) {
            verdict_set(&m->verdict, VERDICT_TEMPFAIL, "451", "4.4.3",
                        "Temporary DNS failure checking DMARC for %.200s, try again later",
                        o->from_domain ? o->from_domain : "the From: domain");
            snprintf(m->why, sizeof(m->why), "DMARC temperror: %s", o->reason ? o->reason : "");
        }
        return;
    }
    if (strcmp(o->result, "fail") != 0 || how == DMARC_ENFORCE_REPORT)
        return;
    if (strcmp(o->disposition, "reject") == 0 && how == DMARC_ENFORCE_REJECT) {
        verdict_set(&m->verdict, VERDICT_REJECT, "550", "5.7.1",
                    "Unauthenticated mail from %.200s refused by its DMARC policy", o->from_domain);
        snprintf(m->why, sizeof(m->why), "DMARC %s=reject: %s", o->policy_tag ? o->policy_tag : "p",
                 o->reason ? o->reason : "");
    } else if (strcmp(o->disposition, "none") != 0) {
        snprintf(m->quarantine, sizeof(m->quarantine), "DMARC %s policy of %.200s", o->disposition,
                 o->from_domain);
        snprintf(m->why, sizeof(m->why), "DMARC quarantine: %s", o->reason ? o->reason : "");
    }
}

/* inbound_dmarc_eom - finish DKIM, evaluate DMARC, enforce */
void inbound_dmarc_eom(struct conn *c)
{
    struct msgctx *m = c->m;
    struct dmarc_dkim dk[32];
    struct dmarc_input in;
    const char *const *trace;
    unsigned int rnd = 0;
    size_t i, n;
    char *domain = NULL;

    if (m->verifier == NULL || dkim_verifier_finish(m->verifier, &m->dkim, &m->ndkim) < 0) {
        dkim_fail(c, "finish", "verifier failed");
        return;
    }
    for (i = 0; i < m->ndkim; i++)
        msg_tracef(c, "dkim: d=%s s=%s a=%s b=%s result=%s%s%s", m->dkim[i].d, m->dkim[i].s,
                   m->dkim[i].a, m->dkim[i].b8, m->dkim[i].result,
                   m->dkim[i].reason ? " reason=" : "", m->dkim[i].reason ? m->dkim[i].reason : "");
    for (trace = dkim_verifier_trace(m->verifier, &n), i = 0; trace && i < n; i++)
        msg_tracef(c, "dkim: %s", trace[i]);
    memset(&in, 0, sizeof(in));
    in.from_status = from_domain(m, &domain);
    in.from_domain = domain;
    in.spf_result = m->spf ? spf_result_name(m->spf->result) : "none";
    in.spf_domain = m->spf ? m->spf->domain : NULL;
    for (n = 0; n < m->ndkim && n < sizeof(dk) / sizeof(dk[0]); n++) {
        dk[n].result = m->dkim[n].result;
        dk[n].d = m->dkim[n].d;
    }
    in.ndkim = n;
    in.dkim = dk;
    in.dns = c->cfg->dns;
    in.deadline = &m->deadline;
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        rnd = (unsigned int)random();
    in.random_percent = rnd % 100;
    if ((m->dmarc = calloc(1, sizeof(*m->dmarc))) == NULL ||
        dmarc_evaluate(c->cfg->dmarc, &in, m->dmarc) < 0) {
        free(domain);
        verdict_set(&m->verdict, VERDICT_TEMPFAIL, "451", "4.3.0",
                    "Internal error, try again later");
        snprintf(m->why, sizeof(m->why), "DMARC evaluation failed");
        return;
    }
    free(domain);
    for (i = 0; i < m->dmarc->ntrace; i++)
        msg_tracef(c, "dmarc: %s", m->dmarc->trace[i]);
    msg_tracef(c, "dmarc: result=%s policy=%s disposition=%s spf_aligned=%d dkim_aligned=%d",
               m->dmarc->result, m->dmarc->policy ? m->dmarc->policy : "-",
               m->dmarc->disposition ? m->dmarc->disposition : "-", m->dmarc->spf_aligned,
               m->dmarc->dkim_aligned);
    if (c->cfg->reject_ambiguous_from &&
        (in.from_status == DMARC_FROM_NONE || in.from_status == DMARC_FROM_MULTI)) {
        verdict_set(&m->verdict, VERDICT_REJECT, "550", "5.7.1",
                    in.from_status == DMARC_FROM_NONE ? "Message has no From: address"
                                                      : "From: names more than one domain");
        snprintf(m->why, sizeof(m->why), "ambiguous From: (RejectAmbiguousFrom)");
        return;
    }
    dmarc_enforce(c, m->dmarc);
}

/* inbound_dmarc_results - dkim and dmarc results for the A-R */
int inbound_dmarc_results(struct conn *c, struct authres *ar)
{
    struct msgctx *m = c->m;
    struct authres_result *r;
    size_t i;

    if (m->ndkim == 0 && authres_add(ar, "dkim", "none") == NULL)
        return -1;
    for (i = 0; i < m->ndkim; i++) {
        const struct dkim_sig_result *d = &m->dkim[i];

        if ((r = authres_add(ar, "dkim", d->result)) == NULL)
            return -1;
        if (d->reason && strcmp(d->result, "pass") != 0)
            authres_set_reason(r, d->reason);
        authres_add_prop(r, "header.d", d->d);
        authres_add_prop(r, "header.i", d->i);
        authres_add_prop(r, "header.s", d->s);
        authres_add_prop(r, "header.a", d->a);
        authres_add_prop(r, "header.b", d->b8);
    }
    if (m->dmarc == NULL)
        return 0;
    if ((r = authres_add(ar, "dmarc", m->dmarc->result)) == NULL)
        return -1;
    if (m->dmarc->reason && strcmp(m->dmarc->result, "pass") != 0)
        authres_set_reason(r, m->dmarc->reason);
    if (m->dmarc->from_domain)
        authres_add_prop(r, "header.from", m->dmarc->from_domain);
    if (m->dmarc->policy && m->dmarc->policy_tag)
        authres_add_prop(r, "policy.dmarc", m->dmarc->policy);
    return 0;
}

/* inbound_dmarc_free - drop what the message kept */
void inbound_dmarc_free(struct msgctx *m)
{
    dkim_verifier_free(&m->verifier);
    m->dkim = NULL;
    m->ndkim = 0;
    if (m->dmarc) {
        dmarc_outcome_clear(m->dmarc);
        free(m->dmarc);
        m->dmarc = NULL;
    }
}
