/*
 * NAME
 *	spf_rewrite - a checked SPF record in the form libspf2 evaluates right
 * SYNOPSIS
 *	#include "spf_int.h"
 *
 *	SPF_errcode_t spf_compile_record(struct spf_ctx *ctx,
 *			SPF_server_t *server, SPF_response_t *resp,
 *			const char *domain, const char *text,
 *			SPF_record_t **rec);
 * DESCRIPTION
 *	spf_compile_record() takes a record that passed the ABNF check
 *	(spf_record.c), rewrites it and has libspf2 compile it:
 *	- unknown modifiers are dropped; redirect= is moved to the end, and
 *	  dropped when the record has "all" (deviation 12 in spf.c);
 *	- ip4:../0 and ip6:../0 become two /1 networks; a/0 and mx/0 for
 *	  the client's family are remembered in ctx->zero[] and written
 *	  without the /0, and spf_dns.c answers those names with the
 *	  client's address (deviation 11);
 *	- exp= is replaced by the sentinel "exp=xN.exp.authmilter.invalid",
 *	  N the ctx->exps[] entry that keeps the record's domain and its
 *	  exp= domain-spec (deviation 10); "xnone" when the table is full.
 *	The rewritten record goes to the trace.
 * DIAGNOSTICS
 *	A libspf2 compile error (or out of memory) stops the evaluation with
 *	STOP_SYNTAX and returns libspf2's error code, *rec NULL.
 */
#include "am_config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_int.h"

/* cidr_split - cut the ip4 and ip6 cidr-lengths off an a/mx argument; -1 when absent */
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
    spf_trace(ctx, "record as given to libspf2: %.400s", out);
    return strdup(out);
}

/* spf_compile_record - libspf2 compiles a record we have checked */
SPF_errcode_t spf_compile_record(struct spf_ctx *ctx, SPF_server_t *server, SPF_response_t *resp,
                                 const char *domain, const char *text, SPF_record_t **rec)
{
    char *fixed = rewrite_record(ctx, domain, text);
    SPF_errcode_t err = fixed ? SPF_record_compile(server, resp, rec, fixed) : SPF_E_NO_MEMORY;

    free(fixed);
    if (err != SPF_E_SUCCESS) {
        spf_stop_eval(ctx, STOP_SYNTAX, "libspf2 cannot compile the record: %s", SPF_strerror(err));
        if (*rec) {
            SPF_record_free(*rec);
            *rec = NULL;
        }
    }
    return err;
}
