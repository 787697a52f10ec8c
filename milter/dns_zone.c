/*
 * NAME
 *	dns_zone - the DNSZoneFile parser
 * SYNOPSIS
 *	#include "dns_int.h"
 *
 *	int	dns_zone_load(struct zone *z, const char *path, char **error_r);
 *	int	dns_canon_name(const char *in, size_t inlen, int escapes,
 *			int fqdn, char *out, const char **why);
 *	const char *dns_type_name(int type);
 * DESCRIPTION
 *	dns_zone_load() reads the master-file subset that include/dns.h
 *	describes, one record per line (at most ZONE_LINE_MAX bytes), into
 *	the table of dns_local.c, and the test-only ";! TIMEOUT name." and
 *	";! SERVFAIL name." directives.  Every field is bounded: names by
 *	RFC 1035 (253 bytes, labels of 63), character-strings by 255 bytes,
 *	numbers by their type.  dns_canon_name() serves dns_query() too.
 * DIAGNOSTICS
 *	dns_zone_load() stops at the first bad line with a malloc'd
 *	"file:line: reason" in *error_r; the table then holds what was read
 *	and is freed by the caller.
 */
#include "am_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "dns.h"
#include "dns_int.h"

/* decode_escapes - master-file text with \X and \DDD to bytes */
static int decode_escapes(const char *in, size_t inlen, char *out, size_t outsz, size_t *len_r,
                          const char **why)
{
    size_t i, o = 0;
    int c;

    for (i = 0; i < inlen; i++) {
        c = (unsigned char)in[i];
        if (c == '\\') {
            if (i + 1 >= inlen) {
                *why = "backslash at end of text";
                return -1;
            }
            if (isdigit((unsigned char)in[i + 1])) {
                if (i + 3 >= inlen || !isdigit((unsigned char)in[i + 2]) ||
                    !isdigit((unsigned char)in[i + 3])) {
                    *why = "bad \\DDD escape";
                    return -1;
                }
                c = (in[i + 1] - '0') * 100 + (in[i + 2] - '0') * 10 + (in[i + 3] - '0');
                if (c > 255) {
                    *why = "\\DDD escape above 255";
                    return -1;
                }
                i += 3;
            } else {
                c = (unsigned char)in[++i];
            }
        }
        if (o + 1 >= outsz) {
            *why = "text too long";
            return -1;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    *len_r = o;
    return 0;
}

/* dns_canon_name - check a name and make it canonical; fqdn: a trailing dot is required */
int dns_canon_name(const char *in, size_t inlen, int escapes, int fqdn, char *out, const char **why)
{
    char buf[DNS_NAME_MAX * 4];
    size_t len, i, label = 0;

    if (escapes) {
        if (decode_escapes(in, inlen, buf, sizeof(buf), &len, why) < 0)
            return -1;
    } else {
        if (inlen >= sizeof(buf)) {
            *why = "name too long";
            return -1;
        }
        memcpy(buf, in, inlen);
        buf[len = inlen] = '\0';
    }
    if (len > 0 && buf[len - 1] == '.')
        buf[--len] = '\0';
    else if (fqdn) {
        *why = "name not fully qualified (no trailing dot)";
        return -1;
    }
    if (len > 253) {
        *why = "name longer than 253 bytes";
        return -1;
    }
    for (i = 0; i <= len; i++) {
        if (i == len || buf[i] == '.') {
            if (label == 0 && len > 0) {
                *why = "empty label in name";
                return -1;
            }
            label = 0;
        } else if (++label > 63) {
            *why = "label longer than 63 bytes";
            return -1;
        }
        out[i] = (char)tolower((unsigned char)buf[i]);
    }
    out[len] = '\0';
    if (memchr(buf, '\0', len) != NULL) {
        *why = "NUL byte in name";
        return -1;
    }
    return 0;
}

struct token {
    const char *p;
    size_t len;
    int quoted;
};

#define MAX_TOKENS 512

/* tokenize - split one master-file line; comments end it */
static int tokenize(const char *line, struct token *tok, size_t *ntok_r, const char **why)
{
    const char *p = line;
    size_t n = 0;

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p == '\0' || *p == ';')
            break;
        if (*p == '(' || *p == ')') {
            *why = "parentheses are not supported: one record per line";
            return -1;
        }
        if (n >= MAX_TOKENS) {
            *why = "too many fields";
            return -1;
        }
        if (*p == '"') {
            tok[n].p = ++p;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            if (*p != '"') {
                *why = "unterminated quoted string";
                return -1;
            }
            tok[n].len = (size_t)(p - tok[n].p);
            tok[n++].quoted = 1;
            p++;
            if (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != ';') {
                *why = "text after a closing quote";
                return -1;
            }
        } else {
            tok[n].p = p;
            while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != ';' &&
                   *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            tok[n].len = (size_t)(p - tok[n].p);
            tok[n++].quoted = 0;
        }
    }
    *ntok_r = n;
    return 0;
}

/* tok_is - case-insensitive token comparison */
static int tok_is(const struct token *t, const char *s)
{
    return !t->quoted && strlen(s) == t->len && strncasecmp(t->p, s, t->len) == 0;
}

/* tok_number - parse an unsigned decimal token */
static int tok_number(const struct token *t, unsigned long max, unsigned long *val)
{
    unsigned long v = 0;
    size_t i;

    if (t->quoted || t->len == 0 || t->len > 10)
        return -1;
    for (i = 0; i < t->len; i++) {
        if (!isdigit((unsigned char)t->p[i]))
            return -1;
        v = v * 10 + (unsigned long)(t->p[i] - '0');
    }
    if (v > max)
        return -1;
    *val = v;
    return 0;
}

/* tok_name - a fully-qualified name token, canonical */
static int tok_name(const struct token *t, char *out, const char **why)
{
    if (t->quoted) {
        *why = "quoted string where a name is expected";
        return -1;
    }
    return dns_canon_name(t->p, t->len, 1, 1, out, why);
}

static const struct {
    const char *name;
    int type;
} type_names[] = {
    {"A", DNS_T_A},     {"NS", DNS_T_NS},     {"CNAME", DNS_T_CNAME},
    {"SOA", DNS_T_SOA}, {"PTR", DNS_T_PTR},   {"MX", DNS_T_MX},
    {"TXT", DNS_T_TXT}, {"AAAA", DNS_T_AAAA}, {"SPF", DNS_T_SPF},
};

/* dns_type_name - mnemonic of an RR type */
const char *dns_type_name(int type)
{
    size_t i;

    for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (type_names[i].type == type)
            return type_names[i].name;
    return "TYPE?";
}

/* parse_rdata - the type-specific part of one record */
static int parse_rdata(int type, const struct token *t, size_t n, struct dns_record *rr,
                       const char **why)
{
    char name[DNS_NAME_MAX], text[ZONE_LINE_MAX], str[1024];
    unsigned long v;
    size_t i, len, total = 0;

    switch (type) {
    case DNS_T_A:
    case DNS_T_AAAA:
        if (n != 1) {
            *why = n ? "trailing garbage after the address" : "missing address";
            return -1;
        }
        if (t[0].len >= 64) {
            *why = "bad address";
            return -1;
        }
        memcpy(str, t[0].p, t[0].len);
        str[t[0].len] = '\0';
        if (inet_pton(type == DNS_T_A ? AF_INET : AF_INET6, str, rr->addr) != 1) {
            *why = type == DNS_T_A ? "bad IPv4 address" : "bad IPv6 address";
            return -1;
        }
        return 0;
    case DNS_T_TXT:
    case DNS_T_SPF:
        if (n == 0) {
            *why = "missing text";
            return -1;
        }
        for (i = 0; i < n; i++) {
            if (decode_escapes(t[i].p, t[i].len, str, sizeof(str), &len, why) < 0)
                return -1;
            if (len > 255) {
                *why = "character-string longer than 255 bytes";
                return -1;
            }
            if (total + len >= sizeof(text)) {
                *why = "text too long";
                return -1;
            }
            memcpy(text + total, str, len);
            total += len;
        }
        break;
    case DNS_T_MX:
        if (n != 2) {
            *why = n < 2 ? "MX needs a preference and a name" : "trailing garbage after MX";
            return -1;
        }
        if (tok_number(&t[0], 65535, &v) < 0) {
            *why = "bad MX preference";
            return -1;
        }
        rr->pref = (unsigned int)v;
        t++;
        n--;
        __attribute__((fallthrough));
    case DNS_T_PTR:
    case DNS_T_CNAME:
    case DNS_T_NS:
        if (n != 1) {
            *why = n ? "trailing garbage after the name" : "missing name";
            return -1;
        }
        if (tok_name(&t[0], name, why) < 0)
            return -1;
        total = strlen(name);
        memcpy(text, name, total);
        break;
    case DNS_T_SOA:
        if (n != 7) {
            *why = "SOA needs mname rname serial refresh retry expire minimum";
            return -1;
        }
        if (tok_name(&t[0], name, why) < 0 || tok_name(&t[1], name, why) < 0)
            return -1;
        for (i = 2; i < 7; i++)
            if (tok_number(&t[i], 4294967295ul, &v) < 0) {
                *why = "bad SOA number";
                return -1;
            }
        total = 0;
        break;
    default:
        *why = "unsupported type";
        return -1;
    }
    if ((rr->data = malloc(total + 1)) == NULL) {
        *why = "out of memory";
        return -1;
    }
    memcpy(rr->data, text, total);
    rr->data[total] = '\0';
    rr->len = total;
    return 0;
}

/* zone_directive - ";! TIMEOUT name." and ";! SERVFAIL name." */
static int zone_directive(struct zone *z, const char *line, const char **why)
{
    struct token t[MAX_TOKENS];
    char owner[DNS_NAME_MAX];
    struct zone_node *n;
    size_t nt;

    if (tokenize(line, t, &nt, why) < 0)
        return -1;
    if (nt != 2 || !(tok_is(&t[0], "TIMEOUT") || tok_is(&t[0], "SERVFAIL"))) {
        *why = "bad directive: use \";! TIMEOUT name.\" or \";! SERVFAIL name.\"";
        return -1;
    }
    if (tok_name(&t[1], owner, why) < 0)
        return -1;
    if ((n = dns_zone_node_get(z, owner)) == NULL || dns_zone_node_add_ancestors(z, owner) < 0) {
        *why = "out of memory";
        return -1;
    }
    n->fail = tok_is(&t[0], "TIMEOUT") ? ZONE_FAIL_TIMEOUT : ZONE_FAIL_SERVFAIL;
    return 0;
}

/* zone_line - parse one master-file line into the table */
static int zone_line(struct zone *z, const char *line, unsigned long *default_ttl, const char **why)
{
    struct token t[MAX_TOKENS];
    struct dns_record rr;
    char owner[DNS_NAME_MAX];
    size_t nt, i = 1, k;
    unsigned long ttl = *default_ttl;
    const char *start = line;
    int type = 0;

    while (*line == ' ' || *line == '\t')
        line++;
    if (line[0] == ';' && line[1] == '!')
        return zone_directive(z, line + 2, why);
    if (tokenize(line, t, &nt, why) < 0)
        return -1;
    if (nt == 0)
        return 0;
    if (tok_is(&t[0], "$TTL")) {
        if (nt != 2 || tok_number(&t[1], 2147483647ul, default_ttl) < 0) {
            *why = "bad $TTL";
            return -1;
        }
        return 0;
    }
    if (t[0].len > 0 && t[0].p[0] == '$' && !t[0].quoted) {
        *why = "unsupported directive (only $TTL)";
        return -1;
    }
    if (start != line) {
        *why = "missing owner name (blank owner is not supported)";
        return -1;
    }
    if (tok_name(&t[0], owner, why) < 0)
        return -1;
    for (; i < nt && i < 3; i++) {
        if (tok_number(&t[i], 2147483647ul, &ttl) == 0)
            continue;
        if (tok_is(&t[i], "IN"))
            continue;
        if (tok_is(&t[i], "CH") || tok_is(&t[i], "HS") || tok_is(&t[i], "CS")) {
            *why = "only class IN is supported";
            return -1;
        }
        break;
    }
    if (i >= nt) {
        *why = "missing type";
        return -1;
    }
    for (k = 0; k < sizeof(type_names) / sizeof(type_names[0]); k++)
        if (tok_is(&t[i], type_names[k].name))
            type = type_names[k].type;
    if (type == 0) {
        *why = "unknown or unsupported record type";
        return -1;
    }
    memset(&rr, 0, sizeof(rr));
    rr.type = type;
    rr.ttl = (unsigned int)ttl;
    if (parse_rdata(type, t + i + 1, nt - i - 1, &rr, why) < 0)
        return -1;
    if (dns_zone_add_record(z, owner, &rr, why) < 0) {
        free(rr.data);
        return -1;
    }
    return 0;
}

/* dns_zone_load - read a DNSZoneFile; error: malloc'd "file:line: reason" */
int dns_zone_load(struct zone *z, const char *path, char **error_r)
{
    FILE *fp;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0, default_ttl = 300;
    const char *why = NULL;
    int ret = 0;

    if ((fp = fopen(path, "r")) == NULL) {
        if (asprintf(error_r, "%s: %s", path, strerror(errno)) < 0)
            *error_r = NULL;
        return -1;
    }
    while ((len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if (len >= ZONE_LINE_MAX)
            why = "line too long";
        else if (memchr(line, '\0', (size_t)len) != NULL)
            why = "NUL byte in line";
        else if (zone_line(z, line, &default_ttl, &why) == 0)
            continue;
        if (asprintf(error_r, "%s:%lu: %s", path, lineno, why) < 0)
            *error_r = NULL;
        ret = -1;
        break;
    }
    if (ret == 0 && ferror(fp)) {
        if (asprintf(error_r, "%s: read error: %s", path, strerror(errno)) < 0)
            *error_r = NULL;
        ret = -1;
    }
    free(line);
    fclose(fp);
    return ret;
}
