/*
 * NAME
 *	spf_exp - RFC 7208 macro expansion and the exp= explanation
 * SYNOPSIS
 *	See include/spf_exp.h.
 * DESCRIPTION
 *	Our own expander for the explanation (RFC 7208 sections 6.2, 7),
 *	used by milter/spf.c instead of libspf2's (deviation 10 there).
 *	Every length is bounded: an expansion longer than SPF_MACRO_MAX is
 *	refused, a transformer count saturates, at most SPF_PTR_NAMES PTR
 *	names are validated.  No state outside the caller's env: thread-safe.
 * DIAGNOSTICS
 *	Syntax errors and DNS failures are returned as a reason; never exits.
 */
#include "am_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "spf_exp.h"

#define SPF_DELIMITERS ".-+,/_="
#define SPF_MAX_PARTS_WANTED 1000 /* a larger digit transformer saturates here */

struct out {
    char *s;
    size_t len;
};

struct macro {
    char letter;    /* lower case */
    int upper;      /* URL-escape the value */
    int reverse;    /* "r" transformer */
    unsigned parts; /* digit transformer; 0: all parts */
    char delims[8]; /* delimiter set; "" means "." */
};

/* out_add - append n bytes; -1 when the result would pass SPF_MACRO_MAX */
static int out_add(struct out *o, const char *p, size_t n)
{
    if (n > SPF_MACRO_MAX - o->len)
        return -1;
    memcpy(o->s + o->len, p, n);
    o->len += n;
    o->s[o->len] = '\0';
    return 0;
}

/* is_unreserved - RFC 3986 unreserved: not URL-escaped */
static int is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* out_add_escaped - append a value, URL-escaped when asked */
static int out_add_escaped(struct out *o, const char *p, size_t n, int escape)
{
    char hex[4];
    size_t i;

    if (!escape)
        return out_add(o, p, n);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (is_unreserved(c)) {
            if (out_add(o, p + i, 1) < 0)
                return -1;
        } else {
            snprintf(hex, sizeof(hex), "%%%02X", c);
            if (out_add(o, hex, 3) < 0)
                return -1;
        }
    }
    return 0;
}

/* ip_dotted - %{i}: dotted quad, or 32 dot-separated upper-case nibbles */
static void ip_dotted(const struct spf_macro_env *env, char *buf, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, n = 0;

    if (!env->v6) {
        snprintf(buf, size, "%u.%u.%u.%u", env->ip[0], env->ip[1], env->ip[2], env->ip[3]);
        return;
    }
    for (i = 0; i < 32 && n + 2 < size; i++) {
        unsigned char b = env->ip[i / 2];
        buf[n++] = hex[i % 2 ? b & 0xf : b >> 4];
        if (i < 31)
            buf[n++] = '.';
    }
    buf[n] = '\0';
}

/* sender_part - %{l} (local-part) or %{o} (domain) of the sender */
static const char *sender_part(const struct spf_macro_env *env, int local, char *buf, size_t size)
{
    const char *s = env->sender ? env->sender : "", *at = strrchr(s, '@');

    if (at == NULL)
        return local ? "postmaster" : s;
    if (!local)
        return at + 1;
    if (at == s)
        return "postmaster";
    snprintf(buf, size, "%.*s", (int)(at - s), s);
    return buf;
}

/* letter_value - the value of one macro letter before transformation */
static const char *letter_value(struct spf_macro_env *env, char letter, char *buf, size_t size)
{
    switch (letter) {
    case 's':
        return env->sender ? env->sender : "";
    case 'l':
        return sender_part(env, 1, buf, size);
    case 'o':
        return sender_part(env, 0, buf, size);
    case 'd':
        return env->domain ? env->domain : "";
    case 'i':
        ip_dotted(env, buf, size);
        return buf;
    case 'p':
        return spf_validated_name(env);
    case 'v':
        return env->v6 ? "ip6" : "in-addr";
    case 'h':
        return env->helo ? env->helo : "";
    case 'c':
        if (inet_ntop(env->v6 ? AF_INET6 : AF_INET, env->ip, buf, (socklen_t)size) == NULL)
            snprintf(buf, size, "unknown");
        return buf;
    case 'r':
        return env->receiver && *env->receiver ? env->receiver : "unknown";
    case 't':
        snprintf(buf, size, "%lld", env->now);
        return buf;
    }
    return "";
}

/* is_delim - is c one of the macro's delimiters? */
static int is_delim(const struct macro *m, char c)
{
    return m->delims[0] ? strchr(m->delims, c) != NULL && c != '\0' : c == '.';
}

/*
 * expand_macro - split the value on the delimiters, reverse, keep the
 * right-hand parts, join with "." and URL-escape for an upper-case letter.
 */
static int expand_macro(struct out *o, const struct macro *m, const char *value)
{
    size_t len = strlen(value), nparts = 1, i, k, first, *start, *plen;
    int rc = 0;

    for (i = 0; i < len; i++)
        nparts += is_delim(m, value[i]);
    start = calloc(nparts, sizeof(*start));
    plen = calloc(nparts, sizeof(*plen));
    if (start == NULL || plen == NULL) {
        free(start);
        free(plen);
        return -1;
    }
    for (i = 0, k = 0; i <= len; i++) {
        if (i == len || is_delim(m, value[i])) {
            plen[k] = i - start[k];
            if (++k < nparts)
                start[k] = i + 1;
        }
    }
    if (m->reverse)
        for (i = 0; i < nparts / 2; i++) {
            size_t ts = start[i], tl = plen[i];
            start[i] = start[nparts - 1 - i];
            plen[i] = plen[nparts - 1 - i];
            start[nparts - 1 - i] = ts;
            plen[nparts - 1 - i] = tl;
        }
    first = m->parts && m->parts < nparts ? nparts - m->parts : 0;
    for (i = first; i < nparts && rc == 0; i++) {
        if (i > first)
            rc = out_add(o, ".", 1);
        if (rc == 0)
            rc = out_add_escaped(o, value + start[i], plen[i], m->upper);
    }
    free(start);
    free(plen);
    return rc;
}

/* parse_macro - "{" letter transformers delimiters "}" at in; returns its length or 0 */
static size_t parse_macro(const char *in, int mode, struct macro *m, const char **why)
{
    size_t i = 2, nd = 0;
    char c = (char)tolower((unsigned char)in[1]);

    memset(m, 0, sizeof(*m));
    if (in[1] == '\0' || strchr(mode == SPF_MACRO_EXP ? "slodiphvcrt" : "slodiphv", c) == NULL) {
        *why = in[1] && strchr("crt", c) ? "macro letter c, r or t outside an explanation"
                                         : "unknown macro letter";
        return 0;
    }
    m->letter = c;
    m->upper = isupper((unsigned char)in[1]) != 0;
    if (isdigit((unsigned char)in[i])) {
        unsigned long v = 0;
        for (; isdigit((unsigned char)in[i]); i++)
            if ((v = v * 10 + (unsigned long)(in[i] - '0')) > SPF_MAX_PARTS_WANTED)
                v = SPF_MAX_PARTS_WANTED;
        if (v == 0) {
            *why = "macro transformer count of zero";
            return 0;
        }
        m->parts = (unsigned)v;
    }
    if (in[i] == 'r' || in[i] == 'R') {
        m->reverse = 1;
        i++;
    }
    for (; in[i] && strchr(SPF_DELIMITERS, in[i]) != NULL; i++)
        if (nd + 1 < sizeof(m->delims) && strchr(m->delims, in[i]) == NULL)
            m->delims[nd++] = in[i];
    if (in[i] != '}') {
        *why = "bad macro: '}' expected";
        return 0;
    }
    return i + 1;
}

/* spf_macro_expand - expand a domain-spec or explain-string */
int spf_macro_expand(struct spf_macro_env *env, const char *in, int mode, char **out_r,
                     const char **why_r)
{
    struct out o;
    struct macro m;
    char buf[256];
    const char *why = "expansion longer than SPF_MACRO_MAX";
    size_t n;

    *out_r = NULL;
    if ((o.s = malloc(SPF_MACRO_MAX + 1)) == NULL) {
        *why_r = "out of memory";
        return -1;
    }
    o.len = 0;
    o.s[0] = '\0';
    while (*in) {
        unsigned char c = (unsigned char)*in;
        if (c != '%') {
            if (c > 0x7e || c < (mode == SPF_MACRO_EXP ? 0x20 : 0x21)) {
                why = "character not allowed in a macro-string";
                goto bad;
            }
            if (out_add(&o, in++, 1) < 0)
                goto bad;
            continue;
        }
        if (in[1] == '%' || in[1] == '_' || in[1] == '-') {
            const char *e = in[1] == '%' ? "%" : in[1] == '_' ? " " : "%20";
            if (out_add(&o, e, strlen(e)) < 0)
                goto bad;
            in += 2;
            continue;
        }
        if (in[1] != '{') {
            why = "'%' not followed by '{', '%', '_' or '-'";
            goto bad;
        }
        if ((n = parse_macro(in + 1, mode, &m, &why)) == 0)
            goto bad;
        if (expand_macro(&o, &m, letter_value(env, m.letter, buf, sizeof(buf))) < 0)
            goto bad;
        in += 1 + n;
    }
    *out_r = o.s;
    return 0;
bad:
    free(o.s);
    *why_r = why;
    return -1;
}

/* spf_domain_truncate - at most 253 bytes, whole labels cut on the left */
void spf_domain_truncate(char *name)
{
    size_t len = strlen(name);
    char *dot, *p = name;

    if (len > 0 && name[len - 1] == '.')
        name[--len] = '\0';
    while (len > 253) {
        if ((dot = strchr(p, '.')) == NULL) {
            name[0] = '\0';
            return;
        }
        len -= (size_t)(dot + 1 - p);
        p = dot + 1;
    }
    memmove(name, p, len + 1);
}

/* reverse_name - the in-addr.arpa / ip6.arpa name of env->ip */
static void reverse_name(const struct spf_macro_env *env, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    int i;

    if (!env->v6) {
        snprintf(buf, size, "%u.%u.%u.%u.in-addr.arpa", env->ip[3], env->ip[2], env->ip[1],
                 env->ip[0]);
        return;
    }
    for (i = 31; i >= 0 && n + 2 < size; i--) {
        unsigned char b = env->ip[i / 2];
        buf[n++] = hex[i % 2 ? b & 0xf : b >> 4];
        buf[n++] = '.';
    }
    snprintf(buf + n, size - n, "ip6.arpa");
}

/* name_rank - 3: the domain itself, 2: a subdomain of it, 1: another name */
static int name_rank(const char *name, const char *domain)
{
    size_t nl = strlen(name), dl = domain ? strlen(domain) : 0;

    if (dl > 0 && domain[dl - 1] == '.')
        dl--;
    if (dl == 0)
        return 1;
    if (nl == dl && strncasecmp(name, domain, dl) == 0)
        return 3;
    if (nl > dl + 1 && name[nl - dl - 1] == '.' && strncasecmp(name + nl - dl, domain, dl) == 0)
        return 2;
    return 1;
}

/* address_matches - does name have an A/AAAA record equal to env->ip? */
static int address_matches(struct spf_macro_env *env, const char *name)
{
    struct dns_answer ans;
    int type = env->v6 ? DNS_T_AAAA : DNS_T_A, found = 0;
    size_t i;

    env->lookups++;
    if (dns_query(env->dns, name, type, env->deadline, &ans) == DNS_OK)
        for (i = 0; i < ans.count && !found; i++)
            found =
                ans.rr[i].type == type && memcmp(ans.rr[i].addr, env->ip, env->v6 ? 16 : 4) == 0;
    dns_answer_clear(&ans);
    return found;
}

/* spf_validated_name - %{p}: a validated PTR name, or "unknown" */
const char *spf_validated_name(struct spf_macro_env *env)
{
    struct dns_answer ans;
    char rev[80];
    int best = 0, rank;
    size_t i;

    if (env->ptr_done)
        return env->ptr;
    env->ptr_done = 1;
    snprintf(env->ptr, sizeof(env->ptr), "unknown");
    if (env->dns == NULL)
        return env->ptr;
    reverse_name(env, rev, sizeof(rev));
    env->lookups++;
    if (dns_query(env->dns, rev, DNS_T_PTR, env->deadline, &ans) == DNS_OK) {
        for (i = 0; i < ans.count && i < SPF_PTR_NAMES && best < 3; i++) {
            const char *name = ans.rr[i].data;
            if (ans.rr[i].type != DNS_T_PTR || name == NULL || ans.rr[i].len == 0 ||
                ans.rr[i].len >= sizeof(env->ptr))
                continue;
            rank = name_rank(name, env->domain);
            if (rank > best && address_matches(env, name)) {
                best = rank;
                snprintf(env->ptr, sizeof(env->ptr), "%s", name);
            }
        }
    }
    dns_answer_clear(&ans);
    return env->ptr;
}

/* spf_explanation - exp=spec: fetch and expand the explanation, or NULL */
char *spf_explanation(struct spf_macro_env *env, const char *spec, char *why, size_t why_size)
{
    struct dns_answer ans;
    const char *err = NULL;
    char *name = NULL, *text = NULL, *p;

    memset(&ans, 0, sizeof(ans));
    if (spec == NULL || *spec == '\0') {
        snprintf(why, why_size, "empty exp= domain-spec");
        return NULL;
    }
    if (env->dns == NULL) {
        snprintf(why, why_size, "no resolver");
        return NULL;
    }
    if (spf_macro_expand(env, spec, SPF_MACRO_DOMAIN, &name, &err) < 0) {
        snprintf(why, why_size, "exp=%.100s: %s", spec, err);
        return NULL;
    }
    spf_domain_truncate(name);
    if (name[0] == '\0') {
        snprintf(why, why_size, "exp=%.100s expands to an empty name", spec);
        goto done;
    }
    env->lookups++;
    if (dns_query(env->dns, name, DNS_T_TXT, env->deadline, &ans) != DNS_OK) {
        snprintf(why, why_size, "TXT %.200s: %s%s%.100s", name, dns_status_name(ans.status),
                 ans.reason[0] ? ", " : "", ans.reason);
        goto done;
    }
    if (ans.count != 1 || ans.rr[0].type != DNS_T_TXT || ans.rr[0].data == NULL) {
        snprintf(why, why_size, "%zu TXT records at %.200s, not one", ans.count, name);
        goto done;
    }
    if (strlen(ans.rr[0].data) != ans.rr[0].len) {
        snprintf(why, why_size, "NUL byte in the TXT record at %.200s", name);
        goto done;
    }
    if (spf_macro_expand(env, ans.rr[0].data, SPF_MACRO_EXP, &text, &err) < 0) {
        snprintf(why, why_size, "explanation at %.200s: %s", name, err);
        goto done;
    }
    for (p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
    snprintf(why, why_size, "explanation from %.200s", name);
done:
    dns_answer_clear(&ans);
    free(name);
    return text;
}
