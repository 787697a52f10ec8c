/*
 * NAME
 *	spf_record - SPF record fetch and RFC 7208 syntax checks
 * SYNOPSIS
 *	#include "spf_int.h"
 *
 *	int	spf_valid_domain(const char *domain);
 *	enum spf_fetch spf_fetch_record(struct spf_ctx *ctx,
 *			const char *domain, char **text_r);
 * DESCRIPTION
 *	spf_valid_domain() is the initial processing of RFC 7208 4.3
 *	(deviation 9 in spf.c): a domain with an empty or over-long label,
 *	no dot or an address literal gets "none" before any lookup.
 *
 *	spf_fetch_record() replaces libspf2's own record lookup (deviation
 *	3): it asks dns_query() for TXT only, chooses the records that start
 *	with "v=spf1" and a space or the end (case-insensitive) and checks
 *	the one found against the RFC 7208 section 12 ABNF (deviation 4),
 *	so that libspf2 never compiles a malformed record (deviation 8).
 *	FETCH_OK: *text_r is a malloc'd copy of the record; FETCH_NONE: no
 *	SPF record; FETCH_TEMP: DNS failure or out of memory; FETCH_PERM:
 *	several records, or a record too long, with a NUL byte or not
 *	matching the ABNF.  Not a term and not a void lookup itself: the
 *	callers count.
 * DIAGNOSTICS
 *	Why a fetch failed is in ctx->problem; the record and the DNS answer
 *	go to the trace.
 */
#include "am_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "spf_int.h"

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

/* spf_valid_domain - RFC 7208 4.3: a usable FQDN */
int spf_valid_domain(const char *d)
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

/* spf_fetch_record - TXT lookup, record selection and ABNF check for one domain */
enum spf_fetch spf_fetch_record(struct spf_ctx *ctx, const char *domain, char **text_r)
{
    struct dns_answer ans;
    const char *why = NULL;
    size_t i, found = 0, idx = 0;

    *text_r = NULL;
    dns_query(ctx->dns, domain, DNS_T_TXT, ctx->deadline, &ans);
    spf_trace(ctx, "dns TXT %.200s: %s%s%s", domain, dns_status_name(ans.status),
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
    spf_trace(ctx, "record %.200s: %.400s", domain, ans.rr[idx].data);
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
