/*
 * NAME
 *	spf_dns - the DNS layer libspf2 sees, and the RFC 7208 4.6.4 limits
 * SYNOPSIS
 *	#include "spf_int.h"
 *
 *	void	spf_dns_layer_init(SPF_dns_server_t *layer,
 *			struct spf_ctx *ctx);
 * DESCRIPTION
 *	spf_dns_layer_init() fills in layer, the SPF_dns_server_t that
 *	libspf2 is given instead of its own resolver (deviation 3 in spf.c);
 *	its hook is ctx, which must outlive the libspf2 server.
 *
 *	lookup() calls dns_query() with the message deadline and counts, for
 *	the whole evaluation, the terms that query DNS (a, mx, ptr, exists,
 *	include, redirect): the 11th stops the evaluation (deviation 5).
 *	A/AAAA lookups of the names an MX or PTR answer just gave are the
 *	mechanism's own, not new terms; only the first 10 PTR names are
 *	used; a failed validation lookup of a PTR name skips that name.
 *	The third NXDOMAIN/NODATA answer to a term stops it as well
 *	(deviation 6).  Every DNS failure is recorded (deviation 7).  The
 *	address answers covered by an a/0 or mx/0 rule are replaced by the
 *	client's address (deviation 11).
 *
 *	get_spf() fetches, checks and compiles include and redirect targets
 *	(spf_record.c, spf_rewrite.c); a target without a record is a
 *	permerror (RFC 7208 5.2, 6.1).  get_exp() does no lookup: it notes
 *	which record's explanation libspf2 asked for last (deviation 10).
 * DIAGNOSTICS
 *	Once the evaluation is stopped every lookup fails; the reason is in
 *	ctx->problem and each lookup goes to the trace.
 */
#include "am_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "spf_int.h"

#define SPF_MAX_TERMS 10
#define SPF_MAX_VOID 2

/* build_rr - our answer as a libspf2 SPF_dns_rr_t */
static SPF_dns_rr_t *build_rr(SPF_dns_server_t *srv, const char *domain, ns_type type,
                              const struct dns_answer *ans)
{
    SPF_dns_rr_t *rr;
    SPF_dns_stat_t herrno;
    size_t i, n = 0, len;

    herrno = ans->status == DNS_OK         ? NETDB_SUCCESS
             : ans->status == DNS_NXDOMAIN ? HOST_NOT_FOUND
             : ans->status == DNS_NODATA   ? NO_DATA
                                           : TRY_AGAIN;
    if ((rr = SPF_dns_rr_new_init(srv, domain, type, 0, herrno)) == NULL)
        return NULL;
    for (i = 0; ans->status == DNS_OK && i < ans->count; i++) {
        const struct dns_record *r = &ans->rr[i];
        len = type == ns_t_a      ? sizeof(struct in_addr)
              : type == ns_t_aaaa ? sizeof(struct in6_addr)
                                  : r->len + 1;
        if (SPF_dns_rr_buf_realloc(rr, (int)n, len) != SPF_E_SUCCESS) {
            SPF_dns_rr_free(rr);
            return NULL;
        }
        if (type == ns_t_a)
            memcpy(&rr->rr[n]->a, r->addr, 4);
        else if (type == ns_t_aaaa)
            memcpy(&rr->rr[n]->aaaa, r->addr, 16);
        else
            memcpy(rr->rr[n]->txt, r->data, r->len + 1);
        n++;
    }
    rr->num_rr = (int)n;
    if (n == 0 && herrno == NETDB_SUCCESS)
        rr->herrno = NO_DATA;
    return rr;
}

/* is_followup - an A/AAAA lookup of a name the last MX/PTR answer gave */
static int is_followup(struct spf_ctx *ctx, const char *domain)
{
    size_t i;

    for (i = ctx->ipending; i < ctx->npending; i++)
        if (strcasecmp(ctx->pending[i], domain) == 0) {
            ctx->ipending = i + 1;
            return 1;
        }
    return 0;
}

/* count_term - one more DNS-querying term; 0 when within the limit */
static int count_term(struct spf_ctx *ctx, const char *what, const char *domain)
{
    ctx->npending = ctx->ipending = 0;
    if (++ctx->terms > SPF_MAX_TERMS) {
        spf_stop_eval(ctx, STOP_TERMS,
                      "more than %d DNS-querying terms (RFC 7208 4.6.4) at %s %.200s",
                      SPF_MAX_TERMS, what, domain);
        return -1;
    }
    return 0;
}

/* count_void - one more void lookup; 0 when within the limit */
static int count_void(struct spf_ctx *ctx, const char *domain)
{
    if (++ctx->voids > SPF_MAX_VOID) {
        spf_stop_eval(ctx, STOP_VOID, "more than %d void lookups (RFC 7208 4.6.4) at %.200s",
                      SPF_MAX_VOID, domain);
        return -1;
    }
    return 0;
}

/* remember_names - the names of an MX/PTR answer, for is_followup() */
static void remember_names(struct spf_ctx *ctx, const char *from, int ptr,
                           const struct dns_answer *ans)
{
    size_t i;

    ctx->npending = ctx->ipending = 0;
    ctx->pending_ptr = ptr;
    snprintf(ctx->pending_from, sizeof(ctx->pending_from), "%s", from);
    for (i = 0; i < ans->count && ctx->npending < SPF_PENDING; i++)
        snprintf(ctx->pending[ctx->npending++], sizeof(ctx->pending[0]), "%s", ans->rr[i].data);
}

/* zero_rule - does an a/0 or mx/0 rule cover this address lookup? */
static int zero_rule(const struct spf_ctx *ctx, const char *domain, int term)
{
    size_t i;

    for (i = 0; i < ctx->nzero; i++)
        if (ctx->zero[i].mx ? !term && !ctx->pending_ptr &&
                                  strcasecmp(ctx->zero[i].name, ctx->pending_from) == 0
                            : term && strcasecmp(ctx->zero[i].name, domain) == 0)
            return 1;
    return 0;
}

/* layer_lookup - libspf2's lookup(): our resolver, our limits */
static SPF_dns_rr_t *layer_lookup(SPF_dns_server_t *srv, const char *domain, ns_type type,
                                  int should_cache)
{
    struct spf_ctx *ctx = srv->hook;
    struct dns_answer ans;
    SPF_dns_rr_t *rr;
    int term = 0;
    size_t i;

    (void)should_cache;
    memset(&ans, 0, sizeof(ans));
    if (ctx->stop != STOP_NONE) {
        ans.status = DNS_FAIL;
        return build_rr(srv, domain, type, &ans);
    }
    if (type == ns_t_mx || type == ns_t_ptr ||
        ((type == ns_t_a || type == ns_t_aaaa) && !is_followup(ctx, domain))) {
        term = 1;
        if (count_term(ctx, dns_type_name(type), domain) < 0) {
            ans.status = DNS_FAIL;
            return build_rr(srv, domain, type, &ans);
        }
    }
    dns_query(ctx->dns, domain, type, ctx->deadline, &ans);
    spf_trace(ctx, "dns %s %.200s: %s%s%s (terms %u, void %u)", dns_type_name(type), domain,
              dns_status_name(ans.status), ans.status == DNS_OK ? "" : ", ",
              ans.status == DNS_OK ? "" : ans.reason, ctx->terms, ctx->voids);
    if (!term && ctx->pending_ptr && ans.status == DNS_FAIL) {
        /* RFC 7208 5.5: a failed validation lookup skips that name */
        ans.status = DNS_NODATA;
    }
    if (type == ns_t_ptr && ans.count > SPF_PENDING) {
        /* RFC 7208 4.6.4: only the first 10 PTR names are used */
        for (i = SPF_PENDING; i < ans.count; i++)
            free(ans.rr[i].data);
        ans.count = SPF_PENDING;
    }
    if (ans.status == DNS_OK && (type == ns_t_a || type == ns_t_aaaa) &&
        (type == ns_t_aaaa) == ctx->client_v6 && zero_rule(ctx, domain, term))
        for (i = 0; i < ans.count; i++)
            memcpy(ans.rr[i].addr, ctx->client, 16);
    if (ans.status == DNS_OK && (type == ns_t_mx || type == ns_t_ptr))
        remember_names(ctx, domain, type == ns_t_ptr, &ans);
    if (term && (ans.status == DNS_NXDOMAIN || ans.status == DNS_NODATA) &&
        count_void(ctx, domain) < 0) {
        dns_answer_clear(&ans);
        ans.status = DNS_FAIL;
    }
    if (ans.status == DNS_FAIL && ctx->stop == STOP_NONE && type != ns_t_txt)
        spf_stop_eval(ctx, STOP_DNS, "DNS failure: %s %.200s: %s", dns_type_name(type), domain,
                      ans.reason);
    rr = build_rr(srv, domain, type, &ans);
    dns_answer_clear(&ans);
    return rr;
}

/* layer_get_spf - libspf2's get_spf(): include and redirect targets */
static SPF_errcode_t layer_get_spf(SPF_server_t *server, SPF_request_t *req, SPF_response_t *resp,
                                   SPF_record_t **recp)
{
    struct spf_ctx *ctx = server->resolver->hook;
    const char *domain = req->cur_dom;
    char *text = NULL;
    enum spf_fetch f;
    SPF_errcode_t err;

    *recp = NULL;
    if (ctx->stop != STOP_NONE)
        return SPF_E_DNS_ERROR;
    if (count_term(ctx, "include/redirect", domain) < 0)
        return SPF_E_DNS_ERROR;
    f = spf_fetch_record(ctx, domain, &text);
    switch (f) {
    case FETCH_OK:
        err = spf_compile_record(ctx, server, resp, domain, text, recp);
        free(text);
        return err == SPF_E_SUCCESS ? SPF_E_SUCCESS : SPF_E_DNS_ERROR;
    case FETCH_TEMP:
        spf_stop_eval(ctx, STOP_DNS, "%s", ctx->problem);
        return SPF_E_DNS_ERROR;
    case FETCH_NONE:
        /* include/redirect to a domain without a record: permerror (5.2, 6.1) */
        if (count_void(ctx, domain) == 0)
            spf_stop_eval(ctx, STOP_SYNTAX, "%s (include/redirect target)", ctx->problem);
        return SPF_E_DNS_ERROR;
    case FETCH_PERM:
        spf_stop_eval(ctx, STOP_SYNTAX, "%s", ctx->problem);
        return SPF_E_DNS_ERROR;
    }
    return SPF_E_DNS_ERROR;
}

/*
 * layer_get_exp - libspf2's get_exp(): called with the sentinel of the
 * record whose result it is computing; the last call before a "fail"
 * names the record that decided it (deviation 10).  No lookup here.
 */
static SPF_errcode_t layer_get_exp(SPF_server_t *server, const char *domain, char **buf,
                                   size_t *buf_len)
{
    struct spf_ctx *ctx = server->resolver->hook;
    char *end;
    long idx;

    ctx->exp_last = -1;
    if (domain && domain[0] == 'x' && isdigit((unsigned char)domain[1])) {
        idx = strtol(domain + 1, &end, 10);
        if (strcmp(end, SPF_EXP_SENTINEL) == 0 && idx >= 0 && (size_t)idx < ctx->nexps)
            ctx->exp_last = (int)idx;
    }
    if (*buf == NULL || *buf_len == 0) {
        free(*buf);
        if ((*buf = malloc(1)) == NULL)
            return SPF_E_NO_MEMORY;
        *buf_len = 1;
    }
    (*buf)[0] = '\0';
    return SPF_E_SUCCESS;
}

/* spf_dns_layer_init - our SPF_dns_server_t: every lookup libspf2 makes comes here */
void spf_dns_layer_init(SPF_dns_server_t *layer, struct spf_ctx *ctx)
{
    memset(layer, 0, sizeof(*layer));
    layer->lookup = layer_lookup;
    layer->get_spf = layer_get_spf;
    layer->get_exp = layer_get_exp;
    layer->name = "authmilter";
    layer->hook = ctx;
}
