/*
 * NAME
 *	spf - RFC 7208 check_host() for MAIL FROM and HELO (libspf2 engine)
 * SYNOPSIS
 *	See include/spf.h.
 * DESCRIPTION
 *	libspf2 1.2.10 compiles the records and interprets them (mechanism
 *	matching, include/redirect recursion, macro expansion); the exp=
 *	explanation is ours (milter/spf_exp.c, deviation 10).  It
 *	talks to the DNS only through spf_dns_layer, our SPF_dns_server_t:
 *	its lookup() calls dns_query() with the message deadline, and its
 *	get_spf() fetches, selects and checks every record (top level,
 *	include, redirect) itself.  We drive SPF_record_interpret() directly
 *	instead of SPF_request_query_mailfrom().
 *
 *	libspf2 deviations from RFC 7208 and their cure here:
 *	 1. Loopback clients get PASS without any lookup
 *	    (SPF_request_query_mailfrom): we never call it; we fetch the
 *	    top record ourselves and call SPF_record_interpret().
 *	 2. Local policy / default whitelist: never set; use_local_policy 0.
 *	 3. Its own res_state resolver, SPF RR type 99 queries, first-found
 *	    record: replaced by get_spf(): TXT only, records chosen by
 *	    "v=spf1" + space/end (case-insensitive), 0 -> none (include:
 *	    permerror), >1 -> permerror, DNS failure -> temperror.
 *	 4. Lax record syntax (unknown mechanisms, bad CIDR, bad macros,
 *	    missing toplabel, duplicate redirect/exp, non-ASCII, control
 *	    chars ...): every record is checked against the RFC 7208 ABNF
 *	    (spf_record_check) before libspf2 sees it: permerror.
 *	 5. Lookup limit counted per record (it restarts inside each
 *	    include) and only checked before the next mechanism: we count the
 *	    terms that query DNS (a, mx, ptr, exists, include, redirect) for
 *	    the whole evaluation in the DNS callbacks; the 11th fails the
 *	    evaluation at once and the result becomes permerror.  A/AAAA
 *	    lookups of the names an MX or PTR answer just gave are the
 *	    mechanism's own, not new terms.
 *	 6. No void-lookup limit (4.6.4): counted in the same callbacks; the
 *	    third NXDOMAIN/NODATA answer to a term ends evaluation: permerror.
 *	 7. DNS errors give INVALID and no Received-SPF: every failure is
 *	    recorded by our callbacks and the result mapped to temperror
 *	    (permerror when one of our limits stopped the evaluation).
 *	 8. SPF_error() aborts the process: only records that passed our
 *	    ABNF check reach SPF_record_compile(), whose input is then well
 *	    formed; its messages go to the trace, not to stderr.
 *	 9. Initial processing (4.3): malformed domains (empty or >63-byte
 *	    labels, no dot, address literals) are "none" here, before any
 *	    lookup; an empty local-part becomes "postmaster".
 *	10. Explanation (6.2, 7): libspf2 mangles the text (spaces become
 *	    '%'; %{c} %{r} %{t} %{p} and IPv6 %{i} stay unexpanded; URL
 *	    escapes in lower case), takes the first of several TXT records,
 *	    puts a default text on no record, DNS error or syntax error,
 *	    never truncates a long exp= name, and computes an explanation for
 *	    every result.  Cure: each record compiled has its exp= replaced by
 *	    a sentinel "exp=xN.exp.authmilter.invalid" naming our copy (its
 *	    domain and exp= domain-spec, or none); our get_exp() hook does no
 *	    lookup and only notes the last sentinel asked for, which for a
 *	    final "fail" is the record that decided: the end of the top-level
 *	    redirect chain (a redirect hands the explanation to its target,
 *	    an include keeps the includer's).  Only for "fail",
 *	    milter/spf_exp.c expands that domain-spec, truncates it to 253
 *	    bytes, fetches its TXT through dns_query() (not a term, not a
 *	    void lookup; the message deadline) and expands the one TXT record
 *	    as an explain-string with our own expander (all letters, c r t,
 *	    transformers, delimiters, upper case = URL escape, %{p} a
 *	    validated PTR name or "unknown").  An empty name, a DNS error, no
 *	    or several TXT records, a macro syntax error or non-ASCII text
 *	    give no explanation and leave the result alone.
 *	11. CIDR /0 means the full length to libspf2: ip4:../0 and ip6:../0
 *	    are given to it as two /1 networks; for a/0 and mx/0 the address
 *	    answers of those names are replaced by the client's address.
 *	12. libspf2 runs redirect= where it stands and even beside "all":
 *	    it is moved to the end of the record, and dropped when the record
 *	    has "all" (6.1); unknown modifiers, already checked, are dropped.
 * DIAGNOSTICS
 *	Results and reasons in struct spf_outcome; never exits.
 */
#include "am_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <spf2/spf.h>

#include "dns.h"
#include "spf.h"
#include "spf_exp.h"

#define SPF_MAX_TERMS 10
#define SPF_MAX_VOID 2
#define SPF_MAX_RECORD 4096
#define SPF_MAX_TRACE 400
#define SPF_PENDING 10
#define SPF_MAX_EXPS 24
#define SPF_EXP_SENTINEL ".exp.authmilter.invalid"

enum spf_stop { STOP_NONE, STOP_TERMS, STOP_VOID, STOP_SYNTAX, STOP_DNS };

struct spf_ctx {
    struct dns_resolver *dns;
    const struct timespec *deadline;
    struct spf_outcome *out;
    int tracing;
    unsigned int terms;
    unsigned int voids;
    int records; /* get_spf calls so far */
    enum spf_stop stop;
    char problem[300];
    char pending[SPF_PENDING][256]; /* names from the last MX/PTR answer */
    size_t npending;
    size_t ipending;
    int pending_ptr;        /* pending names came from a PTR answer */
    char pending_from[256]; /* the name the MX/PTR lookup was for */
    int client_v6;
    unsigned char client[16];
    struct {
        int mx;
        char name[256];
    } zero[16]; /* a/0, mx/0 rewritten (deviation 11) */
    size_t nzero;
    struct {
        char *domain;     /* the record's domain: %{d} of its explanation */
        char *spec;       /* its exp= domain-spec, or NULL */
    } exps[SPF_MAX_EXPS]; /* every record compiled (deviation 10) */
    size_t nexps;
    int exp_last; /* exps[] entry of the last explanation libspf2 asked for, or -1 */
};

static __thread struct spf_ctx *spf_current;
static pthread_once_t spf_once = PTHREAD_ONCE_INIT;

/* spf_result_name - RFC 7208 result names */
const char *spf_result_name(enum spf_result result)
{
    static const char *const names[] = {"none",     "neutral",   "pass",     "fail",
                                        "softfail", "temperror", "permerror"};

    return (unsigned)result < sizeof(names) / sizeof(names[0]) ? names[result] : "permerror";
}

/* trace - add one line to the outcome's trace */
static void trace(struct spf_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void trace(struct spf_ctx *ctx, const char *fmt, ...)
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

/* stop - end the evaluation with a reason (first reason wins) */
static void stop(struct spf_ctx *ctx, enum spf_stop why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void stop(struct spf_ctx *ctx, enum spf_stop why, const char *fmt, ...)
{
    va_list ap;

    if (ctx->stop != STOP_NONE)
        return;
    ctx->stop = why;
    va_start(ap, fmt);
    vsnprintf(ctx->problem, sizeof(ctx->problem), fmt, ap);
    va_end(ap);
    trace(ctx, "stop: %s", ctx->problem);
}

/* libspf2 log handlers: into the current trace, never stderr/abort */
static void spf_log_trace(const char *file, int line, const char *msg)
{
    (void)file;
    (void)line;
    if (spf_current)
        trace(spf_current, "libspf2: %s", msg);
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

/* ---- RFC 7208 ABNF check ------------------------------------------------ */

/* is_macro_letter - RFC 7208 7.1; c, r, t only in exp text */
static int is_macro_letter(int c, int exp)
{
    c = tolower(c);
    return strchr("slodiphv", c) != NULL || (exp && strchr("crt", c) != NULL);
}

/* check_macro_string - macro-string; exp: the text of an explanation */
static int check_macro_string(const char *s, size_t len, int exp, size_t *last_macro_end,
                              const char **why)
{
    size_t i = 0;

    *last_macro_end = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 1 >= len) {
                *why = "'%' at end of macro-string";
                return -1;
            }
            if (s[i + 1] == '%' || s[i + 1] == '_' || s[i + 1] == '-') {
                i += 2;
                *last_macro_end = i;
                continue;
            }
            if (s[i + 1] != '{' || i + 2 >= len || !is_macro_letter(s[i + 2], exp)) {
                *why = "bad macro";
                return -1;
            }
            i += 3;
            while (i < len && isdigit((unsigned char)s[i]))
                i++;
            if (i < len && (s[i] == 'r' || s[i] == 'R'))
                i++;
            while (i < len && strchr(".-+,/_=", s[i]) != NULL)
                i++;
            if (i >= len || s[i] != '}') {
                *why = "bad macro";
                return -1;
            }
            i++;
            *last_macro_end = i;
            continue;
        }
        if (exp ? (c < 0x20 || c > 0x7e) : (c < 0x21 || c > 0x7e)) {
            *why = "character not allowed in a macro-string";
            return -1;
        }
        i++;
    }
    return 0;
}

/* check_toplabel - RFC 7208 toplabel */
static int check_toplabel(const char *s, size_t len)
{
    size_t i, alpha = 0;

    if (len == 0 || len > 63)
        return -1;
    for (i = 0; i < len; i++) {
        if (isalpha((unsigned char)s[i]))
            alpha++;
        else if (!isdigit((unsigned char)s[i]) && s[i] != '-')
            return -1;
    }
    if (s[0] == '-' || s[len - 1] == '-')
        return -1;
    if (alpha == 0 && memchr(s, '-', len) == NULL)
        return -1; /* all digits */
    return 0;
}

/* check_domain_spec - macro-string domain-end */
static int check_domain_spec(const char *s, size_t len, const char **why)
{
    size_t last, end = len, dot;

    if (len == 0) {
        *why = "empty domain-spec";
        return -1;
    }
    if (check_macro_string(s, len, 0, &last, why) < 0)
        return -1;
    if (last == len)
        return 0; /* ends in a macro-expand */
    if (end > 0 && s[end - 1] == '.')
        end--;
    for (dot = end; dot > last && s[dot - 1] != '.'; dot--)
        ;
    if (dot == 0 || s[dot - 1] != '.' || check_toplabel(s + dot, end - dot) < 0) {
        *why = "domain-spec does not end in a valid top label";
        return -1;
    }
    return 0;
}

/* check_cidr - "/" ("0" / %x31-39 0*nDIGIT) within max */
static int check_cidr(const char *s, size_t len, int max)
{
    int v = 0;
    size_t i;

    if (len == 0 || len > 3 || (s[0] == '0' && len > 1))
        return -1;
    for (i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? 0 : -1;
}

/* split_dual_cidr - cut [ip4-cidr][//ip6-cidr] off the end of a mechanism argument */
static int split_dual_cidr(const char *s, size_t *len, const char **why)
{
    size_t n = *len, i;

    for (i = n; i > 0 && isdigit((unsigned char)s[i - 1]); i--)
        ;
    if (i >= 2 && i < n && s[i - 1] == '/' && s[i - 2] == '/') {
        if (check_cidr(s + i, n - i, 128) < 0) {
            *why = "bad ip6 cidr-length";
            return -1;
        }
        n = i - 2;
        for (i = n; i > 0 && isdigit((unsigned char)s[i - 1]); i--)
            ;
    }
    if (i >= 1 && i < n && s[i - 1] == '/') {
        if (check_cidr(s + i, n - i, 32) < 0) {
            *why = "bad ip4 cidr-length";
            return -1;
        }
        n = i - 1;
    }
    *len = n;
    return 0;
}

/* check_ip4 - strict dotted quad */
static int check_ip4(const char *s, size_t len)
{
    char buf[32];
    int octets = 0;
    size_t i = 0, start;

    if (len >= sizeof(buf))
        return -1;
    while (i <= len) {
        start = i;
        while (i < len && isdigit((unsigned char)s[i]))
            i++;
        if (i == start || i - start > 3 || (s[start] == '0' && i - start > 1) ||
            atoi(memcpy(buf, s + start, i - start) ? (buf[i - start] = '\0', buf) : buf) > 255)
            return -1;
        octets++;
        if (i == len)
            break;
        if (s[i] != '.')
            return -1;
        i++;
    }
    return octets == 4 ? 0 : -1;
}

/* check_ip_mech - ip4:/ip6: network and cidr */
static int check_ip_mech(const char *arg, size_t len, int v6, const char **why)
{
    struct in6_addr a6;
    char buf[64];
    const char *slash = memchr(arg, '/', len);
    size_t alen = slash ? (size_t)(slash - arg) : len;

    if (slash && check_cidr(slash + 1, len - alen - 1, v6 ? 128 : 32) < 0) {
        *why = v6 ? "bad ip6 cidr-length" : "bad ip4 cidr-length";
        return -1;
    }
    if (v6) {
        if (alen == 0 || alen >= sizeof(buf))
            return *why = "bad ip6 network", -1;
        memcpy(buf, arg, alen);
        buf[alen] = '\0';
        if (inet_pton(AF_INET6, buf, &a6) != 1)
            return *why = "bad ip6 network", -1;
        return 0;
    }
    if (check_ip4(arg, alen) < 0)
        return *why = "bad ip4 network", -1;
    return 0;
}

/* check_mechanism - one directive without its qualifier */
static int check_mechanism(const char *t, size_t len, const char **why)
{
    static const char *const names[] = {"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"};
    size_t n, i, alen;
    const char *arg;

    for (n = 0; n < len && isalnum((unsigned char)t[n]); n++)
        ;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == n && strncasecmp(t, names[i], n) == 0)
            break;
    if (i == sizeof(names) / sizeof(names[0])) {
        *why = "unknown mechanism";
        return -1;
    }
    arg = t + n;
    alen = len - n;
    switch (i) {
    case 0: /* all */
        if (alen)
            return *why = "garbage after all", -1;
        return 0;
    case 1: /* include */
    case 7: /* exists */
        if (alen < 1 || arg[0] != ':')
            return *why = "mechanism needs :domain-spec", -1;
        return check_domain_spec(arg + 1, alen - 1, why);
    case 2: /* a */
    case 3: /* mx */
        if (split_dual_cidr(arg, &alen, why) < 0)
            return -1;
        if (alen == 0)
            return 0;
        if (arg[0] != ':')
            return *why = "bad a/mx argument", -1;
        return check_domain_spec(arg + 1, alen - 1, why);
    case 4: /* ptr */
        if (alen == 0)
            return 0;
        if (arg[0] != ':')
            return *why = "bad ptr argument", -1;
        return check_domain_spec(arg + 1, alen - 1, why);
    default: /* ip4, ip6 */
        if (alen < 1 || arg[0] != ':')
            return *why = "ip4/ip6 need :network", -1;
        return check_ip_mech(arg + 1, alen - 1, i == 6, why);
    }
}

/*
 * spf_record_check - the RFC 7208 section 12 ABNF for a whole record
 */
static int spf_record_check(const char *rec, const char **why)
{
    const char *p = rec + 6, *t, *eq;
    size_t len, n;
    int redirects = 0, exps = 0;

    for (;;) {
        if (*p == '\0')
            break;
        if (*p != ' ')
            return *why = "terms must be separated by spaces", -1;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        for (t = p; *p && *p != ' '; p++)
            if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
                return *why = "control or non-ASCII character in record", -1;
        len = (size_t)(p - t);
        for (n = 0; n < len && (isalnum((unsigned char)t[n]) || strchr("-_.", t[n])); n++)
            ;
        eq = n < len && t[n] == '=' ? t + n : NULL;
        if (eq && n > 0 && isalpha((unsigned char)t[0])) {
            if (n == 8 && strncasecmp(t, "redirect", 8) == 0) {
                if (++redirects > 1)
                    return *why = "more than one redirect=", -1;
                if (check_domain_spec(eq + 1, len - n - 1, why) < 0)
                    return -1;
            } else if (n == 3 && strncasecmp(t, "exp", 3) == 0) {
                if (++exps > 1)
                    return *why = "more than one exp=", -1;
                if (check_domain_spec(eq + 1, len - n - 1, why) < 0)
                    return -1;
            } else {
                size_t last;
                if (check_macro_string(eq + 1, len - n - 1, 0, &last, why) < 0)
                    return -1;
            }
            continue;
        }
        if (strchr("+-~?", *t)) {
            t++;
            len--;
        }
        if (check_mechanism(t, len, why) < 0)
            return -1;
    }
    return 0;
}

/* is_spf_record - "v=spf1" followed by a space or the end */
static int is_spf_record(const char *txt, size_t len)
{
    return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 && (len == 6 || txt[6] == ' ');
}

/* ---- the DNS layer libspf2 sees ----------------------------------------- */

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
        stop(ctx, STOP_TERMS, "more than %d DNS-querying terms (RFC 7208 4.6.4) at %s %.200s",
             SPF_MAX_TERMS, what, domain);
        return -1;
    }
    return 0;
}

/* count_void - one more void lookup; 0 when within the limit */
static int count_void(struct spf_ctx *ctx, const char *domain)
{
    if (++ctx->voids > SPF_MAX_VOID) {
        stop(ctx, STOP_VOID, "more than %d void lookups (RFC 7208 4.6.4) at %.200s", SPF_MAX_VOID,
             domain);
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
    trace(ctx, "dns %s %.200s: %s%s%s (terms %u, void %u)", dns_type_name(type), domain,
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
        stop(ctx, STOP_DNS, "DNS failure: %s %.200s: %s", dns_type_name(type), domain, ans.reason);
    rr = build_rr(srv, domain, type, &ans);
    dns_answer_clear(&ans);
    return rr;
}

enum fetch { FETCH_OK, FETCH_NONE, FETCH_TEMP, FETCH_PERM };

/* fetch_record - TXT lookup, record selection and ABNF check for one domain */
static enum fetch fetch_record(struct spf_ctx *ctx, const char *domain, char **text_r)
{
    struct dns_answer ans;
    const char *why = NULL;
    size_t i, found = 0, idx = 0;

    *text_r = NULL;
    dns_query(ctx->dns, domain, DNS_T_TXT, ctx->deadline, &ans);
    trace(ctx, "dns TXT %.200s: %s%s%s", domain, dns_status_name(ans.status),
          ans.status == DNS_OK ? "" : ", ", ans.status == DNS_OK ? "" : ans.reason);
    if (ans.status == DNS_FAIL) {
        snprintf(ctx->problem, sizeof(ctx->problem), "DNS failure: TXT %.150s: %.120s", domain,
                 ans.reason);
        dns_answer_clear(&ans);
        return FETCH_TEMP;
    }
    for (i = 0; i < ans.count; i++)
        if (is_spf_record(ans.rr[i].data, ans.rr[i].len)) {
            found++;
            idx = i;
        }
    if (found == 0) {
        snprintf(ctx->problem, sizeof(ctx->problem), "no SPF record at %.200s", domain);
        dns_answer_clear(&ans);
        return (ans.status == DNS_NXDOMAIN || ans.status == DNS_NODATA) ? FETCH_NONE + 0
                                                                        : FETCH_NONE;
    }
    if (found > 1) {
        snprintf(ctx->problem, sizeof(ctx->problem), "%zu SPF records at %.200s", found, domain);
        dns_answer_clear(&ans);
        return FETCH_PERM;
    }
    trace(ctx, "record %.200s: %.400s", domain, ans.rr[idx].data);
    if (ans.rr[idx].len > SPF_MAX_RECORD || strlen(ans.rr[idx].data) != ans.rr[idx].len ||
        spf_record_check(ans.rr[idx].data, &why) < 0) {
        snprintf(ctx->problem, sizeof(ctx->problem), "bad SPF record at %.200s: %s", domain,
                 why ? why : "too long or NUL byte");
        dns_answer_clear(&ans);
        return FETCH_PERM;
    }
    *text_r = strdup(ans.rr[idx].data);
    dns_answer_clear(&ans);
    return *text_r ? FETCH_OK : FETCH_TEMP;
}

/* cidr_value - the value after a '/', -1 when absent */
static int cidr_split(const char *arg, size_t *len, int *c4, int *c6)
{
    size_t n = *len, i;

    *c4 = *c6 = -1;
    for (i = n; i > 0 && isdigit((unsigned char)arg[i - 1]); i--)
        ;
    if (i >= 2 && i < n && arg[i - 1] == '/' && arg[i - 2] == '/') {
        *c6 = atoi(arg + i);
        n = i - 2;
        for (i = n; i > 0 && isdigit((unsigned char)arg[i - 1]); i--)
            ;
    }
    if (i >= 1 && i < n && arg[i - 1] == '/') {
        *c4 = atoi(arg + i);
        n = i - 1;
    }
    *len = n;
    return 0;
}

/* append - add text to a bounded buffer */
static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strlen(buf);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

/* add_zero_rule - a/0 or mx/0 for the client's family: remember the name */
static void add_zero_rule(struct spf_ctx *ctx, int mx, const char *dom, size_t len, const char *cur)
{
    if (ctx->nzero >= sizeof(ctx->zero) / sizeof(ctx->zero[0]))
        return;
    ctx->zero[ctx->nzero].mx = mx;
    if (len)
        snprintf(ctx->zero[ctx->nzero].name, sizeof(ctx->zero[0].name), "%.*s", (int)len, dom);
    else
        snprintf(ctx->zero[ctx->nzero].name, sizeof(ctx->zero[0].name), "%s", cur);
    ctx->nzero++;
}

/*
 * register_exp - remember a record's domain and exp= domain-spec; the
 * index goes into the sentinel exp= libspf2 sees (deviation 10)
 */
static int register_exp(struct spf_ctx *ctx, const char *domain, const char *spec, size_t len)
{
    size_t n = ctx->nexps, dlen = strlen(domain);

    if (n >= SPF_MAX_EXPS)
        return -1;
    if (dlen > 0 && domain[dlen - 1] == '.')
        dlen--;
    ctx->exps[n].domain = strndup(domain, dlen);
    ctx->exps[n].spec = spec ? strndup(spec, len) : NULL;
    if (ctx->exps[n].domain == NULL || (spec && ctx->exps[n].spec == NULL)) {
        free(ctx->exps[n].domain);
        free(ctx->exps[n].spec);
        return -1;
    }
    ctx->nexps++;
    return (int)n;
}

/*
 * rewrite_record - a checked record in the form libspf2 evaluates right:
 * unknown modifiers dropped, redirect= moved last (dropped when "all" is
 * present), CIDR /0 expressed without /0 (deviations 11, 12), exp=
 * replaced by a sentinel naming our copy of it (deviation 10).
 */
static char *rewrite_record(struct spf_ctx *ctx, const char *domain, const char *text)
{
    char out[SPF_MAX_RECORD + 512] = "v=spf1", redirect[SPF_MAX_RECORD] = "";
    const char *exp = NULL;
    size_t exp_len = 0;
    int idx;
    const char *p = text + 6, *t, *arg;
    size_t len, n, alen;
    int has_all = 0, c4, c6;
    char q;

    while (*p) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        for (t = p; *p && *p != ' '; p++)
            ;
        len = (size_t)(p - t);
        for (n = 0; n < len && (isalnum((unsigned char)t[n]) || strchr("-_.", t[n])); n++)
            ;
        if (n < len && t[n] == '=') {
            if (n == 8 && strncasecmp(t, "redirect", 8) == 0)
                snprintf(redirect, sizeof(redirect), " %.*s", (int)len, t);
            else if (n == 3 && strncasecmp(t, "exp", 3) == 0) {
                exp = t + 4;
                exp_len = len - 4;
            }
            continue;
        }
        q = strchr("+-~?", *t) ? *t : '+';
        if (strchr("+-~?", *t)) {
            t++;
            len--;
        }
        for (n = 0; n < len && isalnum((unsigned char)t[n]); n++)
            ;
        arg = t + n;
        alen = len - n;
        if (n == 3 && strncasecmp(t, "all", 3) == 0)
            has_all = 1;
        if (n == 3 && strncasecmp(t, "ip4", 3) == 0 && alen >= 2 &&
            strncmp(arg + alen - 2, "/0", 2) == 0) {
            append(out, sizeof(out), " %cip4:0.0.0.0/1 %cip4:128.0.0.0/1", q, q);
            continue;
        }
        if (n == 3 && strncasecmp(t, "ip6", 3) == 0 && alen >= 2 &&
            strncmp(arg + alen - 2, "/0", 2) == 0 && arg[alen - 3] != '/') {
            append(out, sizeof(out), " %cip6:::/1 %cip6:8000::/1", q, q);
            continue;
        }
        if ((n == 1 && (t[0] == 'a' || t[0] == 'A')) || (n == 2 && strncasecmp(t, "mx", 2) == 0)) {
            cidr_split(arg, &alen, &c4, &c6);
            if ((ctx->client_v6 ? c6 : c4) == 0)
                add_zero_rule(ctx, n == 2, arg + 1, alen ? alen - 1 : 0, domain);
            append(out, sizeof(out), " %c%.*s", q, (int)(n + alen), t);
            if (c4 > 0)
                append(out, sizeof(out), "/%d", c4);
            if (c6 > 0)
                append(out, sizeof(out), "//%d", c6);
            continue;
        }
        append(out, sizeof(out), " %c%.*s", q, (int)len, t);
    }
    if (!has_all)
        append(out, sizeof(out), "%s", redirect);
    if ((idx = register_exp(ctx, domain, exp, exp_len)) >= 0)
        append(out, sizeof(out), " exp=x%d" SPF_EXP_SENTINEL, idx);
    else
        append(out, sizeof(out), " exp=xnone" SPF_EXP_SENTINEL); /* explains nothing */
    trace(ctx, "record as given to libspf2: %.400s", out);
    return strdup(out);
}

/* compile_record - libspf2 compiles a record we have checked */
static SPF_errcode_t compile_record(struct spf_ctx *ctx, SPF_server_t *server, SPF_response_t *resp,
                                    const char *domain, const char *text, SPF_record_t **rec)
{
    char *fixed = rewrite_record(ctx, domain, text);
    SPF_errcode_t err = fixed ? SPF_record_compile(server, resp, rec, fixed) : SPF_E_NO_MEMORY;

    free(fixed);
    if (err != SPF_E_SUCCESS) {
        stop(ctx, STOP_SYNTAX, "libspf2 cannot compile the record: %s", SPF_strerror(err));
        if (*rec) {
            SPF_record_free(*rec);
            *rec = NULL;
        }
    }
    return err;
}

/* layer_get_spf - libspf2's get_spf(): include and redirect targets */
static SPF_errcode_t layer_get_spf(SPF_server_t *server, SPF_request_t *req, SPF_response_t *resp,
                                   SPF_record_t **recp)
{
    struct spf_ctx *ctx = server->resolver->hook;
    const char *domain = req->cur_dom;
    char *text = NULL;
    enum fetch f;
    SPF_errcode_t err;

    *recp = NULL;
    if (ctx->stop != STOP_NONE)
        return SPF_E_DNS_ERROR;
    if (count_term(ctx, "include/redirect", domain) < 0)
        return SPF_E_DNS_ERROR;
    f = fetch_record(ctx, domain, &text);
    switch (f) {
    case FETCH_OK:
        err = compile_record(ctx, server, resp, domain, text, recp);
        free(text);
        return err == SPF_E_SUCCESS ? SPF_E_SUCCESS : SPF_E_DNS_ERROR;
    case FETCH_TEMP:
        stop(ctx, STOP_DNS, "%s", ctx->problem);
        return SPF_E_DNS_ERROR;
    case FETCH_NONE:
        /* include/redirect to a domain without a record: permerror (5.2, 6.1) */
        if (count_void(ctx, domain) == 0)
            stop(ctx, STOP_SYNTAX, "%s (include/redirect target)", ctx->problem);
        return SPF_E_DNS_ERROR;
    case FETCH_PERM:
        stop(ctx, STOP_SYNTAX, "%s", ctx->problem);
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

/* ---- check_host --------------------------------------------------------- */

/* valid_domain - RFC 7208 4.3: a usable FQDN */
static int valid_domain(const char *d)
{
    size_t len = strlen(d), label = 0, labels = 0, i;

    if (len > 0 && d[len - 1] == '.')
        len--;
    if (len == 0 || len > 253 || d[0] == '[')
        return 0;
    for (i = 0; i <= len; i++) {
        if (i == len || d[i] == '.') {
            if (label == 0 || label > 63)
                return 0;
            labels++;
            label = 0;
        } else if ((unsigned char)d[i] <= 0x20 || (unsigned char)d[i] >= 0x7f) {
            return 0;
        } else {
            label++;
        }
    }
    return labels >= 2;
}

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
        trace(ctx,
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
    trace(ctx, "exp=%.200s of %.200s (%u lookups, not counted): %s%s%.300s",
          ctx->exps[ctx->exp_last].spec, env.domain, env.lookups,
          text ? "" : "no explanation: ", why, text ? "" : "");
    if (text)
        trace(ctx, "explanation: %.300s", text);
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

    memset(&layer, 0, sizeof(layer));
    layer.lookup = layer_lookup;
    layer.get_spf = layer_get_spf;
    layer.get_exp = layer_get_exp;
    layer.name = "authmilter";
    layer.hook = ctx;
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
        compile_record(ctx, server, resp, domain, text, &rec) != SPF_E_SUCCESS) {
        res = ctx->stop == STOP_SYNTAX ? SPF_RES_PERMERROR : SPF_RES_TEMPERROR;
    } else {
        sr->use_local_policy = 0;
        sr->use_helo = 0;
        sr->cur_dom = domain;
        resp->spf_record_exp = rec;
        SPF_record_interpret(rec, sr, resp, 0);
        res = map_result(SPF_response_result(resp));
        trace(ctx, "libspf2 result %s (%s)", SPF_strresult(SPF_response_result(resp)),
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
    trace(ctx, "check_host(%.60s, %.200s, %.200s)", req->client_ip, domain, sender);
    if (!valid_domain(domain)) {
        snprintf(ctx->problem, sizeof(ctx->problem), "not a valid domain: %.200s", domain);
        return SPF_RES_NONE;
    }
    switch (fetch_record(ctx, domain, &text)) {
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
    trace(ctx, "result %s: %u DNS-querying terms, %u void lookups%s%s", spf_result_name(res),
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
