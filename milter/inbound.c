/*
 * NAME
 *	inbound - SPF (and later DKIM, DMARC) for inbound mail
 * SYNOPSIS
 *	See include/inbound.h.
 * DESCRIPTION
 *	Uses the resolver of the connection's configuration snapshot; the SPF
 *	outcome is kept in the message context until end of message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "inbound.h"
#include "inbound_dmarc.h"
#include "spf.h"

/* inbound_mail - the message's DNS deadline starts at MAIL */
void inbound_mail(struct conn *c)
{
    if (c->cfg->dns)
        dns_deadline(c->cfg->dns, &c->m->deadline);
}

/* inbound_spf_trace - copy the SPF steps into the -t trace */
static void inbound_spf_trace(struct conn *c, const struct spf_outcome *o)
{
    size_t i;

    for (i = 0; i < o->ntrace; i++)
        msg_tracef(c, "spf: %s", o->trace[i]);
    msg_tracef(c, "spf: result=%s identity=%s domain=%s lookups=%u void=%u%s%s",
               spf_result_name(o->result), o->identity == SPF_ID_HELO ? "helo" : "mailfrom",
               o->domain ? o->domain : "-", o->dns_lookups, o->void_lookups,
               o->problem ? " problem=" : "", o->problem ? o->problem : "");
}

/* inbound_eoh - evaluate SPF */
void inbound_eoh(struct conn *c)
{
    struct msgctx *m = c->m;
    struct spf_request req;

    if (c->cfg->dns == NULL || (m->spf = calloc(1, sizeof(*m->spf))) == NULL) {
        verdict_set(&m->verdict, VERDICT_TEMPFAIL, "451", "4.3.0",
                    "Internal error, try again later");
        snprintf(m->why, sizeof(m->why), "no resolver or out of memory for SPF");
        return;
    }
    memset(&req, 0, sizeof(req));
    req.client_ip = c->client_ip;
    req.helo = *c->helo ? c->helo : NULL;
    req.mail_from = m->mail_from;
    req.receiver = c->authserv_id;
    req.deadline = &m->deadline;
    req.check_helo = 1;
    req.trace = c->tracing;
    if (spf_check(c->cfg->dns, &req, m->spf) < 0) {
        verdict_set(&m->verdict, VERDICT_TEMPFAIL, "451", "4.3.0",
                    "Internal error, try again later");
        snprintf(m->why, sizeof(m->why), "SPF evaluation failed");
        return;
    }
    inbound_spf_trace(c, m->spf);
    if (m->spf->result == SPF_RES_TEMPERROR && c->cfg->on_dns_error == ON_DNSERROR_TEMPFAIL) {
        verdict_set(&m->verdict, VERDICT_TEMPFAIL, "451", "4.4.3",
                    "Temporary DNS failure checking SPF for %.200s, try again later",
                    m->spf->domain ? m->spf->domain : "the sender");
        snprintf(m->why, sizeof(m->why), "SPF temperror: %s",
                 m->spf->problem ? m->spf->problem : "DNS failure");
        return;
    }
    inbound_dkim_eoh(c);
}

/* inbound_spf_result - one spf result with its identity */
static int inbound_spf_result(struct authres *ar, enum spf_result res, const char *ptype,
                              const char *value, const char *problem)
{
    struct authres_result *r = authres_add(ar, "spf", spf_result_name(res));

    if (r == NULL)
        return -1;
    if (value && *value)
        authres_add_prop(r, ptype, value);
    if (problem && (res == SPF_RES_PERMERROR || res == SPF_RES_TEMPERROR))
        authres_set_reason(r, problem);
    return 0;
}

/* inbound_results - SPF into the A-R: MAIL FROM, then HELO as its own result */
int inbound_results(struct conn *c, struct authres *ar)
{
    const struct spf_outcome *o = c->m->spf;

    if (o == NULL)
        return 0;
    if (o->identity == SPF_ID_HELO) {
        if (inbound_spf_result(ar, o->result, "smtp.helo", c->helo, o->problem) < 0)
            return -1;
    } else {
        if (inbound_spf_result(ar, o->result, "smtp.mailfrom", o->sender, o->problem) < 0)
            return -1;
        if (o->helo_checked && *c->helo &&
            inbound_spf_result(ar, o->helo_result, "smtp.helo", c->helo, NULL) < 0)
            return -1;
    }
    return inbound_dmarc_results(c, ar);
}

/* inbound_free - drop what the message kept */
void inbound_free(struct msgctx *m)
{
    inbound_dmarc_free(m);
    if (m->spf) {
        spf_outcome_clear(m->spf);
        free(m->spf);
        m->spf = NULL;
    }
}
