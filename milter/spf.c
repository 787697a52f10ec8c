/*
 * NAME
 *	spf - RFC 7208 check_host() for MAIL FROM and HELO (libspf2 engine)
 * SYNOPSIS
 *	See include/spf.h.
 * DESCRIPTION
 *	libspf2 1.2.10 compiles the records and interprets them (mechanism
 *	matching, include/redirect recursion, macro expansion); the exp=
 *	explanation is ours (milter/spf_exp.c, deviation 10).  It
 *	talks to the DNS only through our SPF_dns_server_t (spf_dns.c):
 *	its lookup() calls dns_query() with the message deadline, and its
 *	get_spf() fetches, selects and checks every record (top level,
 *	include, redirect) itself.  We drive SPF_record_interpret() directly
 *	instead of SPF_request_query_mailfrom().
 *
 *	Files: spf.c (this one) spf_check(), check_host(), the libspf2
 *	server and request, result mapping and the trace; spf_record.c the
 *	record fetch and the RFC 7208 syntax checks; spf_rewrite.c the
 *	record as libspf2 is given it; spf_dns.c the DNS callbacks and the
 *	limits; spf_exp.c the explanation.  include/spf_int.h holds the
 *	evaluation context they share.
 *
 *	libspf2 deviations from RFC 7208 and their cure here:
 *	 1. Loopback clients get PASS without any lookup
 *	    (SPF_request_query_mailfrom): we never call it; we fetch the
 *	    top record ourselves and call SPF_record_interpret() (here,
 *	    interpret()).
 *	 2. Local policy / default whitelist: never set; use_local_policy 0
 *	    (here, interpret()).
 *	 3. Its own res_state resolver, SPF RR type 99 queries, first-found
 *	    record: replaced by get_spf() (spf_dns.c) and
 *	    spf_fetch_record() (spf_record.c): TXT only, records chosen by
 *	    "v=spf1" + space/end (case-insensitive), 0 -> none (include:
 *	    permerror), >1 -> permerror, DNS failure -> temperror.
 *	 4. Lax record syntax (unknown mechanisms, bad CIDR, bad macros,
 *	    missing toplabel, duplicate redirect/exp, non-ASCII, control
 *	    chars ...): every record is checked against the RFC 7208 ABNF
 *	    (spf_record_check, spf_record.c) before libspf2 sees it:
 *	    permerror.
 *	 5. Lookup limit counted per record (it restarts inside each
 *	    include) and only checked before the next mechanism: we count the
 *	    terms that query DNS (a, mx, ptr, exists, include, redirect) for
 *	    the whole evaluation in the DNS callbacks (spf_dns.c); the 11th
 *	    fails the evaluation at once and the result becomes permerror.
 *	    A/AAAA lookups of the names an MX or PTR answer just gave are
 *	    the mechanism's own, not new terms.
 *	 6. No void-lookup limit (4.6.4): counted in the same callbacks
 *	    (spf_dns.c); the third NXDOMAIN/NODATA answer to a term ends
 *	    evaluation: permerror.
 *	 7. DNS errors give INVALID and no Received-SPF: every failure is
 *	    recorded by our callbacks (spf_dns.c) and the result mapped to
 *	    temperror (permerror when one of our limits stopped the
 *	    evaluation; here, interpret()).
 *	 8. SPF_error() aborts the process: only records that passed our
 *	    ABNF check reach SPF_record_compile() (spf_rewrite.c), whose
 *	    input is then well formed; its messages go to the trace, not to
 *	    stderr (here, spf_init_once()).
 *	 9. Initial processing (4.3): malformed domains (empty or >63-byte
 *	    labels, no dot, address literals) are "none" here, before any
 *	    lookup (spf_valid_domain, spf_record.c); an empty local-part
 *	    becomes "postmaster" (here, split_sender()).
 *	10. Explanation (6.2, 7): libspf2 mangles the text (spaces become
 *	    '%'; %{c} %{r} %{t} %{p} and IPv6 %{i} stay unexpanded; URL
 *	    escapes in lower case), takes the first of several TXT records,
 *	    puts a default text on no record, DNS error or syntax error,
 *	    never truncates a long exp= name, and computes an explanation for
 *	    every result.  Cure: each record compiled has its exp= replaced by
 *	    a sentinel "exp=xN.exp.authmilter.invalid" naming our copy (its
 *	    domain and exp= domain-spec, or none; spf_rewrite.c); our
 *	    get_exp() hook (spf_dns.c) does no lookup and only notes the
 *	    last sentinel asked for, which for a final "fail" is the record
 *	    that decided: the end of the top-level redirect chain (a
 *	    redirect hands the explanation to its target, an include keeps
 *	    the includer's).  Only for "fail" (here, explain()),
 *	    milter/spf_exp.c expands that domain-spec, truncates it to 253
 *	    bytes, fetches its TXT through dns_query() (not a term, not a
 *	    void lookup; the message deadline) and expands the one TXT record
 *	    as an explain-string with our own expander (all letters, c r t,
 *	    transformers, delimiters, upper case = URL escape, %{p} a
 *	    validated PTR name or "unknown").  An empty name, a DNS error, no
 *	    or several TXT records, a macro syntax error or non-ASCII text
 *	    give no explanation and leave the result alone.
 *	11. CIDR /0 means the full length to libspf2: ip4:../0 and ip6:../0
 *	    are given to it as two /1 networks (spf_rewrite.c); for a/0 and
 *	    mx/0 the address answers of those names are replaced by the
 *	    client's address (spf_dns.c).
 *	12. libspf2 runs redirect= where it stands and even beside "all":
 *	    it is moved to the end of the record, and dropped when the record
 *	    has "all" (6.1); unknown modifiers, already checked, are dropped
 *	    (spf_rewrite.c).
 * DIAGNOSTICS
 *	Results and reasons in struct spf_outcome; never exits.
 */
#include "am_config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns.h"
#include "spf.h"
#include "spf_exp.h"
#include "spf_int.h"

#define SPF_MAX_TRACE 400

static __thread struct spf_ctx *spf_current;
static pthread_once_t spf_once = PTHREAD_ONCE_INIT;

/* spf_result_name - RFC 7208 result names */
const char *spf_result_name(enum spf_result result)
{
    static const char *const names[] = {"none",     "neutral",   "pass",     "fail",
                                        "softfail", "temperror", "permerror"};

    return (unsigned)result < sizeof(names) / sizeof(names[0]) ? names[result] : "permerror";
}

/* spf_trace - add one line to the outcome's trace */
void spf_trace(struct spf_ctx *ctx, const char *fmt, ...)
{
    struct spf_outcome *out = ctx->out;
    char **grown, *line;
    va_list ap;
    size_t i;

    if (!ctx->tracing || out->ntrace >= SPF_MAX_TRACE)
        return;
    va_start(ap, fmt);
    if (vasprintf(&line, fmt, ap) < 0)
        line = NULL;
    va_end(ap);
    if (line == NULL)
        return;
    for (i = 0; line[i]; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] >= 0x7f)
            line[i] = '?';
    if ((grown = realloc(out->trace, (out->ntrace + 1) * sizeof(*grown))) == NULL) {
        free(line);
        return;
    }
    out->trace = grown;
    out->trace[out->ntrace++] = line;
}

/* spf_stop_eval - end the evaluation with a reason (first reason wins) */
void spf_stop_eval(struct spf_ctx *ctx, enum spf_stop why, const char *fmt, ...)
{
    va_list ap;

    if (ctx->stop != STOP_NONE)
        return;
    ctx->stop = why;
    va_start(ap, fmt);
    vsnprintf(ctx->problem, sizeof(ctx->problem), fmt, ap);
    va_end(ap);
    spf_trace(ctx, "stop: %s", ctx->problem);
}

/* spf_log_trace - libspf2's log messages: into the current trace, never stderr */
static void spf_log_trace(const char *file, int line, const char *msg)
{
    (void)file;
    (void)line;
    if (spf_current)
        spf_trace(spf_current, "libspf2: %s", msg);
}

/* spf_log_error - libspf2's fatal errors: a bug, since input is checked first */
static void __attribute__((noreturn)) spf_log_error(const char *file, int line, const char *msg)
{
    fprintf(stderr, "libspf2 internal error at %s:%d: %s\n", file ? file : "?", line,
            msg ? msg : "?");
    abort();
}

/* spf_init_once - install the log handlers */
static void spf_init_once(void)
{
    SPF_error_handler = spf_log_error;
    SPF_warning_handler = spf_log_trace;
    SPF_info_handler = spf_log_trace;
    SPF_debug_handler = spf_log_trace;
}

/* ---- check_host --------------------------------------------------------- */

/* map_result - libspf2 result to ours */
static enum spf_result map_result(SPF_result_t r)
{
    switch (r) {
    case SPF_RESULT_PASS:
        return SPF_RES_PASS;
    case SPF_RESULT_FAIL:
        return SPF_RES_FAIL;
    case SPF_RESULT_SOFTFAIL:
        return SPF_RES_SOFTFAIL;
    case SPF_RESULT_NEUTRAL:
        return SPF_RES_NEUTRAL;
    case SPF_RESULT_NONE:
        return SPF_RES_NONE;
    case SPF_RESULT_PERMERROR:
        return SPF_RES_PERMERROR;
    default: /* TEMPERROR, INVALID (libspf2's answer to DNS errors) */
        return SPF_RES_TEMPERROR;
    }
}

/* set_client - the client address on a libspf2 request */
static int set_client(SPF_request_t *sr, const char *ip)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (inet_pton(AF_INET, ip, &a4) == 1)
        return SPF_request_set_ipv4(sr, a4) == SPF_E_SUCCESS ? 0 : -1;
    if (inet_pton(AF_INET6, ip, &a6) != 1)
        return -1;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
        memcpy(&a4, a6.s6_addr + 12, 4);
        return SPF_request_set_ipv4(sr, a4) == SPF_E_SUCCESS ? 0 : -1;
    }
    return SPF_request_set_ipv6(sr, a6) == SPF_E_SUCCESS ? 0 : -1;
}

/*
 * explain - RFC 7208 6.2 for a "fail": the exp= of the record that
 * decided (the last of the redirect chain), expanded by spf_exp
 */
static char *explain(struct spf_ctx *ctx, const struct spf_request *req, const char *sender)
{
    struct spf_macro_env env;
    char why[320], *text;

    if (ctx->exp_last < 0 || (size_t)ctx->exp_last >= ctx->nexps)
        return NULL;
    if (ctx->exps[ctx->exp_last].spec == NULL) {
        spf_trace(ctx,
                  "exp: the deciding record (%.200s) has no exp=", ctx->exps[ctx->exp_last].domain);
        return NULL;
    }
    memset(&env, 0, sizeof(env));
    env.sender = sender;
    env.domain = ctx->exps[ctx->exp_last].domain;
    env.helo = req->helo && *req->helo ? req->helo : "unknown";
    env.receiver = req->receiver;
    env.v6 = ctx->client_v6;
    memcpy(env.ip, ctx->client, sizeof(env.ip));
    env.now = (long long)time(NULL);
    env.dns = ctx->dns;
    env.deadline = ctx->deadline;
    text = spf_explanation(&env, ctx->exps[ctx->exp_last].spec, why, sizeof(why));
    spf_trace(ctx, "exp=%.200s of %.200s (%u lookups, not counted): %s%s%.300s",
              ctx->exps[ctx->exp_last].spec, env.domain, env.lookups,
              text ? "" : "no explanation: ", why, text ? "" : "");
    if (text)
        spf_trace(ctx, "explanation: %.300s", text);
    return text;
}

/* interpret - libspf2 evaluates a checked top-level record */
static enum spf_result interpret(struct spf_ctx *ctx, const struct spf_request *req,
                                 const char *domain, const char *sender, const char *text,
                                 char **explanation_r)
{
    SPF_dns_server_t layer;
    SPF_server_t *server;
    SPF_request_t *sr;
    SPF_response_t *resp;
    SPF_record_t *rec = NULL;
    enum spf_result res;

    spf_dns_layer_init(&layer, ctx);
    if ((server = SPF_server_new_dns(&layer, 1)) == NULL)
        return SPF_RES_TEMPERROR;
    SPF_server_set_rec_dom(server, req->receiver ? req->receiver : "unknown");
    SPF_server_set_max_dns_mech(server, 1000); /* ours counts (deviation 5) */
    SPF_server_set_max_dns_ptr(server, 1000);  /* ours cuts PTR answers at 10 */
    sr = SPF_request_new(server);
    resp = sr ? SPF_response_new(sr) : NULL;
    if (resp == NULL || set_client(sr, req->client_ip) < 0 ||
        SPF_request_set_helo_dom(sr, req->helo && *req->helo ? req->helo : "unknown") ||
        SPF_request_set_env_from(sr, sender) ||
        spf_compile_record(ctx, server, resp, domain, text, &rec) != SPF_E_SUCCESS) {
        res = ctx->stop == STOP_SYNTAX ? SPF_RES_PERMERROR : SPF_RES_TEMPERROR;
    } else {
        sr->use_local_policy = 0;
        sr->use_helo = 0;
        sr->cur_dom = domain;
        resp->spf_record_exp = rec;
        SPF_record_interpret(rec, sr, resp, 0);
        res = map_result(SPF_response_result(resp));
        spf_trace(ctx, "libspf2 result %s (%s)", SPF_strresult(SPF_response_result(resp)),
                  SPF_strerror(SPF_response_errcode(resp)));
        if (res == SPF_RES_PERMERROR && ctx->problem[0] == '\0')
            snprintf(ctx->problem, sizeof(ctx->problem), "%s",
                     SPF_strerror(SPF_response_errcode(resp)));
    }
    if (ctx->stop == STOP_TERMS || ctx->stop == STOP_VOID || ctx->stop == STOP_SYNTAX)
        res = SPF_RES_PERMERROR;
    else if (ctx->stop == STOP_DNS && res != SPF_RES_PERMERROR)
        res = SPF_RES_TEMPERROR;
    if (res == SPF_RES_FAIL)
        *explanation_r = explain(ctx, req, sender);
    if (rec)
        SPF_record_free(rec);
    if (resp)
        SPF_response_free(resp);
    if (sr)
        SPF_request_free(sr);
    SPF_server_free(server);
    return res;
}

/* check_host - RFC 7208 check_host(ip, domain, sender) */
static enum spf_result check_host(struct spf_ctx *ctx, const struct spf_request *req,
                                  const char *domain, const char *sender, char **explanation_r)
{
    char *text = NULL;
    enum spf_result res;

    *explanation_r = NULL;
    spf_trace(ctx, "check_host(%.60s, %.200s, %.200s)", req->client_ip, domain, sender);
    if (!spf_valid_domain(domain)) {
        snprintf(ctx->problem, sizeof(ctx->problem), "not a valid domain: %.200s", domain);
        return SPF_RES_NONE;
    }
    switch (spf_fetch_record(ctx, domain, &text)) {
    case FETCH_NONE:
        return SPF_RES_NONE;
    case FETCH_TEMP:
        return SPF_RES_TEMPERROR;
    case FETCH_PERM:
        return SPF_RES_PERMERROR;
    case FETCH_OK:
        break;
    }
    spf_current = ctx;
    res = interpret(ctx, req, domain, sender, text, explanation_r);
    spf_current = NULL;
    free(text);
    if (res != SPF_RES_FAIL) {
        free(*explanation_r);
        *explanation_r = NULL;
    }
    return res;
}

/* run_identity - evaluate one identity into a fresh context */
static enum spf_result run_identity(struct dns_resolver *dns, const struct spf_request *req,
                                    const struct timespec *deadline, struct spf_outcome *out,
                                    const char *domain, const char *sender, char **expl_r,
                                    char **problem_r, unsigned int *terms_r, unsigned int *voids_r)
{
    struct spf_ctx *ctx = calloc(1, sizeof(*ctx));
    enum spf_result res;

    *expl_r = *problem_r = NULL;
    if (ctx == NULL)
        return SPF_RES_TEMPERROR;
    ctx->dns = dns;
    ctx->deadline = deadline;
    ctx->out = out;
    ctx->tracing = req->trace;
    if (inet_pton(AF_INET, req->client_ip ? req->client_ip : "", ctx->client) != 1) {
        ctx->client_v6 =
            inet_pton(AF_INET6, req->client_ip ? req->client_ip : "", ctx->client) == 1;
        if (ctx->client_v6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)ctx->client)) {
            memmove(ctx->client, ctx->client + 12, 4);
            ctx->client_v6 = 0;
        }
    }
    ctx->exp_last = -1;
    res = check_host(ctx, req, domain, sender, expl_r);
    spf_trace(ctx, "result %s: %u DNS-querying terms, %u void lookups%s%s", spf_result_name(res),
              ctx->terms, ctx->voids, ctx->problem[0] ? "; " : "", ctx->problem);
    if (ctx->problem[0] && res != SPF_RES_PASS && res != SPF_RES_FAIL && res != SPF_RES_SOFTFAIL &&
        res != SPF_RES_NEUTRAL)
        *problem_r = strdup(ctx->problem);
    *terms_r = ctx->terms;
    *voids_r = ctx->voids;
    while (ctx->nexps > 0) {
        ctx->nexps--;
        free(ctx->exps[ctx->nexps].domain);
        free(ctx->exps[ctx->nexps].spec);
    }
    free(ctx);
    return res;
}

/* split_sender - "<local@domain>" into sender and domain (malloc'd) */
static int split_sender(const char *mail_from, char **sender_r, char **domain_r)
{
    const char *p = mail_from, *at;
    size_t len = strlen(p);

    if (len >= 2 && p[0] == '<' && p[len - 1] == '>') {
        p++;
        len -= 2;
    }
    *sender_r = strndup(p, len);
    if (*sender_r == NULL)
        return -1;
    at = strrchr(*sender_r, '@');
    if (at == NULL || at == *sender_r) {
        /* no local-part: "postmaster" (RFC 7208 4.3) */
        const char *dom = at ? at + 1 : *sender_r;
        char *s;
        if (asprintf(&s, "postmaster@%s", dom) < 0)
            return -1;
        free(*sender_r);
        *sender_r = s;
        at = strrchr(s, '@');
    }
    *domain_r = strdup(at + 1);
    return *domain_r ? 0 : -1;
}

/* spf_check - evaluate MAIL FROM (or HELO for the null sender) */
int spf_check(struct dns_resolver *dns, const struct spf_request *req, struct spf_outcome *out)
{
    struct timespec own;
    const struct timespec *deadline = req->deadline;
    const char *helo = req->helo ? req->helo : "";
    const char *mf = req->mail_from ? req->mail_from : "";
    char *hsender = NULL, *hexpl = NULL, *hproblem = NULL;
    unsigned int hterms = 0, hvoids = 0;
    int null_sender = mf[0] == '\0' || strcmp(mf, "<>") == 0;
    enum spf_result hres = SPF_RES_NONE;

    pthread_once(&spf_once, spf_init_once);
    memset(out, 0, sizeof(*out));
    if (deadline == NULL) {
        dns_deadline(dns, &own);
        deadline = &own;
    }
    if (null_sender || req->check_helo) {
        if (asprintf(&hsender, "postmaster@%s", helo) < 0)
            goto nomem;
        hres = run_identity(dns, req, deadline, out, helo, hsender, &hexpl, &hproblem, &hterms,
                            &hvoids);
        out->helo_checked = 1;
        out->helo_result = hres;
    }
    if (null_sender) {
        out->identity = SPF_ID_HELO;
        out->result = hres;
        out->sender = hsender;
        out->domain = strdup(helo);
        out->explanation = hexpl;
        out->problem = hproblem;
        out->dns_lookups = hterms;
        out->void_lookups = hvoids;
        return out->domain ? 0 : -1;
    }
    free(hsender);
    free(hexpl);
    free(hproblem);
    out->identity = SPF_ID_MAILFROM;
    if (split_sender(mf, &out->sender, &out->domain) < 0)
        goto nomem;
    out->result = run_identity(dns, req, deadline, out, out->domain, out->sender, &out->explanation,
                               &out->problem, &out->dns_lookups, &out->void_lookups);
    return 0;
nomem:
    out->result = SPF_RES_TEMPERROR;
    return -1;
}

/* spf_outcome_clear - free an outcome */
void spf_outcome_clear(struct spf_outcome *out)
{
    size_t i;

    free(out->domain);
    free(out->sender);
    free(out->explanation);
    free(out->problem);
    for (i = 0; i < out->ntrace; i++)
        free(out->trace[i]);
    free(out->trace);
    memset(out, 0, sizeof(*out));
}
