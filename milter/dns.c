/*
 * NAME
 *	dns - one shared resolver (libunbound + DNSZoneFile) with deadlines
 * SYNOPSIS
 *	See include/dns.h.
 * DESCRIPTION
 *	The DNSZoneFile is parsed into an immutable hash table of owner
 *	names (every ancestor of an owner is entered too, without records, so
 *	that empty non-terminals are known).  dns_query() answers from that
 *	table first and only then asks libunbound; the table is our own (not
 *	libunbound local-data) so that NODATA vs NXDOMAIN, multi-string TXT
 *	with any bytes, names with odd characters and the test-only failure
 *	directives are under exact control.
 *
 *	Network lookups: ub_resolve_async() on the one context (threaded
 *	mode); one dispatcher thread polls ub_fd() and runs ub_process(),
 *	whose callbacks hand each result to its waiting thread through a
 *	per-query record guarded by the resolver mutex.  A waiter whose
 *	deadline passes calls ub_cancel(): UB_NOERROR means the callback will
 *	never run (libunbound checks the cancel flag under the same lock as
 *	it dequeues the answer), UB_NOID means it has run or is about to; the
 *	per-query record is reference counted across both cases.
 * DIAGNOSTICS
 *	Start-up problems come back from dns_resolver_new() as text; run-time
 *	failures are DNS_FAIL with a reason.  Broken invariants (mutex
 *	errors) abort.
 */
#include "am_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <unbound.h>

#include "dns.h"

#define DNS_NAME_MAX 256    /* canonical name bytes incl. NUL */
#define ZONE_LINE_MAX 65536 /* longest DNSZoneFile line */
#define CNAME_DEPTH 8

enum zone_fail { ZONE_FAIL_NONE, ZONE_FAIL_TIMEOUT, ZONE_FAIL_SERVFAIL };

struct zone_node {
    char *name; /* canonical: lower case, no trailing dot */
    struct dns_record *rr;
    size_t nrr;
    int soa;
    enum zone_fail fail;
    struct zone_node *next;
};

struct zone {
    struct zone_node **bucket;
    size_t nbucket;
    size_t nnode;
};

struct pending {
    pthread_cond_t cond;
    int done;
    int refs;
    int err;
    struct ub_result *result;
};

struct dns_resolver {
    struct ub_ctx *ctx;
    struct zone zone;
    long timeout_ms;
    int validating;
    pthread_mutex_t mu;
    pthread_t dispatcher;
    int running;
    int wake[2];
};

/* xcalloc - calloc that never asks for zero bytes; NULL is handled by callers */
static void *xcalloc(size_t n, size_t size)
{
    return calloc(n ? n : 1, size ? size : 1);
}

/* lock - mutex lock; a failure is a bug */
static void lock(pthread_mutex_t *mu)
{
    if (pthread_mutex_lock(mu) != 0)
        abort();
}

/* unlock - mutex unlock; a failure is a bug */
static void unlock(pthread_mutex_t *mu)
{
    if (pthread_mutex_unlock(mu) != 0)
        abort();
}

/* hash_name - FNV-1a over a canonical name */
static size_t hash_name(const char *name)
{
    uint32_t h = 2166136261u;

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    return h;
}

/* zone_find - the node of a canonical name, or NULL */
static struct zone_node *zone_find(const struct zone *z, const char *name)
{
    struct zone_node *n;

    if (z->nbucket == 0)
        return NULL;
    for (n = z->bucket[hash_name(name) % z->nbucket]; n; n = n->next)
        if (strcmp(n->name, name) == 0)
            return n;
    return NULL;
}

/* zone_grow - double the bucket array */
static int zone_grow(struct zone *z)
{
    size_t nb = z->nbucket ? z->nbucket * 2 : 256, i;
    struct zone_node **b = xcalloc(nb, sizeof(*b)), *n, *next;

    if (b == NULL)
        return -1;
    for (i = 0; i < z->nbucket; i++)
        for (n = z->bucket[i]; n; n = next) {
            next = n->next;
            n->next = b[hash_name(n->name) % nb];
            b[hash_name(n->name) % nb] = n;
        }
    free(z->bucket);
    z->bucket = b;
    z->nbucket = nb;
    return 0;
}

/* zone_node_get - find or add the node of a canonical name */
static struct zone_node *zone_node_get(struct zone *z, const char *name)
{
    struct zone_node *n = zone_find(z, name);
    size_t h;

    if (n)
        return n;
    if (z->nnode >= z->nbucket && zone_grow(z) < 0)
        return NULL;
    if ((n = xcalloc(1, sizeof(*n))) == NULL || (n->name = strdup(name)) == NULL) {
        free(n);
        return NULL;
    }
    h = hash_name(name) % z->nbucket;
    n->next = z->bucket[h];
    z->bucket[h] = n;
    z->nnode++;
    return n;
}

/* zone_node_add_ancestors - enter the ancestors of name as empty nodes */
static int zone_node_add_ancestors(struct zone *z, const char *name)
{
    const char *p;

    for (p = strchr(name, '.'); p; p = strchr(p + 1, '.'))
        if (zone_node_get(z, p + 1) == NULL)
            return -1;
    return 0;
}

/* zone_free - release the table */
static void zone_free(struct zone *z)
{
    struct zone_node *n, *next;
    size_t i, j;

    for (i = 0; i < z->nbucket; i++)
        for (n = z->bucket[i]; n; n = next) {
            next = n->next;
            for (j = 0; j < n->nrr; j++)
                free(n->rr[j].data);
            free(n->rr);
            free(n->name);
            free(n);
        }
    free(z->bucket);
    memset(z, 0, sizeof(*z));
}

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

/* canon_name - check a name and make it canonical; fqdn: a trailing dot is required */
static int canon_name(const char *in, size_t inlen, int escapes, int fqdn, char *out,
                      const char **why)
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
    return canon_name(t->p, t->len, 1, 1, out, why);
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

/* zone_add_record - attach one parsed record to its owner */
static int zone_add_record(struct zone *z, const char *owner, struct dns_record *rr,
                           const char **why)
{
    struct zone_node *n = zone_node_get(z, owner);
    struct dns_record *grown;
    size_t i;

    if (n == NULL || zone_node_add_ancestors(z, owner) < 0) {
        *why = "out of memory";
        return -1;
    }
    for (i = 0; i < n->nrr; i++)
        if ((n->rr[i].type == DNS_T_CNAME) != (rr->type == DNS_T_CNAME)) {
            *why = "CNAME and other data at the same name";
            return -1;
        } else if (rr->type == DNS_T_CNAME) {
            *why = "more than one CNAME at the same name";
            return -1;
        }
    if ((grown = realloc(n->rr, (n->nrr + 1) * sizeof(*grown))) == NULL) {
        *why = "out of memory";
        return -1;
    }
    n->rr = grown;
    n->rr[n->nrr++] = *rr;
    if (rr->type == DNS_T_SOA)
        n->soa = 1;
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
    if ((n = zone_node_get(z, owner)) == NULL || zone_node_add_ancestors(z, owner) < 0) {
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
    if (zone_add_record(z, owner, &rr, why) < 0) {
        free(rr.data);
        return -1;
    }
    return 0;
}

/* zone_load - read a DNSZoneFile; error: malloc'd "file:line: reason" */
static int zone_load(struct zone *z, const char *path, char **error_r)
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

/* answer_fail - set a failure with a reason */
static enum dns_status answer_set(struct dns_answer *ans, enum dns_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum dns_status answer_set(struct dns_answer *ans, enum dns_status st, const char *fmt, ...)
{
    va_list ap;

    ans->status = st;
    va_start(ap, fmt);
    vsnprintf(ans->reason, sizeof(ans->reason), fmt, ap);
    va_end(ap);
    return st;
}

/* answer_add - append one record (data copied) */
static int answer_add(struct dns_answer *ans, const struct dns_record *rr)
{
    struct dns_record *grown = realloc(ans->rr, (ans->count + 1) * sizeof(*grown));

    if (grown == NULL)
        return -1;
    ans->rr = grown;
    grown[ans->count] = *rr;
    if ((grown[ans->count].data = malloc(rr->len + 1)) == NULL)
        return -1;
    if (rr->data)
        memcpy(grown[ans->count].data, rr->data, rr->len);
    grown[ans->count].data[rr->len] = '\0';
    ans->count++;
    return 0;
}

/* zone_under_soa - is a canonical name in (or at) an authoritative zone of the file? */
static int zone_under_soa(const struct zone *z, const char *name)
{
    const struct zone_node *n;
    const char *p = name;

    for (;;) {
        if ((n = zone_find(z, p)) != NULL && n->soa)
            return 1;
        if (*p == '\0')
            return 0;
        p = strchr(p, '.');
        p = p ? p + 1 : ""; /* ... and finally the root */
    }
}

/*
 * zone_answer - answer from the file: 1 answered, 0 ask the network for
 * *name (which may have become a CNAME target).
 */
static int zone_answer(const struct zone *z, char *name, int type, struct dns_answer *ans)
{
    const struct zone_node *n;
    size_t i;
    int depth;

    for (depth = 0;; depth++) {
        n = zone_find(z, name);
        if (n == NULL || (n->nrr == 0 && n->fail == ZONE_FAIL_NONE)) {
            if (!zone_under_soa(z, name))
                return 0;
            ans->local = 1;
            if (n)
                answer_set(ans, DNS_NODATA, "no %s data (DNSZoneFile)", dns_type_name(type));
            else
                answer_set(ans, DNS_NXDOMAIN, "no such name (DNSZoneFile)");
            return 1;
        }
        ans->local = 1;
        if (type != DNS_T_CNAME && n->nrr > 0 && n->rr[0].type == DNS_T_CNAME) {
            if (depth >= CNAME_DEPTH) {
                answer_set(ans, DNS_FAIL, "CNAME chain too long (DNSZoneFile)");
                return 1;
            }
            snprintf(name, DNS_NAME_MAX, "%s", n->rr[0].data);
            continue;
        }
        for (i = 0; i < n->nrr; i++)
            if (n->rr[i].type == type && answer_add(ans, &n->rr[i]) < 0) {
                answer_set(ans, DNS_FAIL, "out of memory");
                return 1;
            }
        if (ans->count > 0)
            answer_set(ans, DNS_OK, "answer (DNSZoneFile)");
        else if (n->fail == ZONE_FAIL_TIMEOUT)
            answer_set(ans, DNS_FAIL, "timed out (DNSZoneFile)");
        else if (n->fail == ZONE_FAIL_SERVFAIL)
            answer_set(ans, DNS_FAIL, "SERVFAIL (DNSZoneFile)");
        else
            answer_set(ans, DNS_NODATA, "no %s data (DNSZoneFile)", dns_type_name(type));
        return 1;
    }
}

/* dispatcher - deliver libunbound answers to the waiting threads */
static void *dispatcher(void *arg)
{
    struct dns_resolver *r = arg;
    struct pollfd pfd[2];

    pfd[0].fd = ub_fd(r->ctx);
    pfd[0].events = POLLIN;
    pfd[1].fd = r->wake[0];
    pfd[1].events = POLLIN;
    for (;;) {
        if (poll(pfd, 2, -1) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents)
            break;
        if (pfd[0].revents && ub_process(r->ctx) != 0)
            usleep(1000);
    }
    return NULL;
}

/* query_done - libunbound callback: hand the result to its waiter */
static void query_done(void *arg, int err, struct ub_result *result)
{
    struct pending *p = arg;
    struct dns_resolver *r = *(struct dns_resolver **)(p + 1);
    int last;

    lock(&r->mu);
    p->err = err;
    p->result = result;
    p->done = 1;
    last = --p->refs == 0;
    pthread_cond_signal(&p->cond);
    unlock(&r->mu);
    if (last) {
        if (p->result)
            ub_resolve_free(p->result);
        pthread_cond_destroy(&p->cond);
        free(p);
    }
}

/* pending_release - drop one reference to a query record (mutex held) */
static int pending_release(struct pending *p)
{
    return --p->refs == 0;
}

/* wire_name - a wire-format name from rdata as text without trailing dot */
static int wire_name(const unsigned char *d, size_t len, size_t off, char *out, size_t outsz)
{
    size_t o = 0, l;

    while (off < len && (l = d[off]) != 0) {
        if (l > 63 || off + 1 + l > len || o + l + 2 > outsz)
            return -1;
        if (o)
            out[o++] = '.';
        memcpy(out + o, d + off + 1, l);
        o += l;
        off += 1 + l;
    }
    if (off >= len)
        return -1;
    out[o] = '\0';
    return 0;
}

/* convert_record - one rdata from libunbound into a record */
static int convert_record(int type, const unsigned char *d, size_t len, unsigned int ttl,
                          struct dns_answer *ans)
{
    struct dns_record rr;
    char text[ZONE_LINE_MAX];
    size_t off, o = 0;

    memset(&rr, 0, sizeof(rr));
    rr.type = type;
    rr.ttl = ttl;
    rr.data = text;
    switch (type) {
    case DNS_T_A:
    case DNS_T_AAAA:
        if (len != (type == DNS_T_A ? 4u : 16u))
            return -1;
        memcpy(rr.addr, d, len);
        break;
    case DNS_T_TXT:
        for (off = 0; off < len; off += 1 + d[off]) {
            if (off + 1 + d[off] > len || o + d[off] >= sizeof(text))
                return -1;
            memcpy(text + o, d + off + 1, d[off]);
            o += d[off];
        }
        break;
    case DNS_T_MX:
        if (len < 3 || wire_name(d, len, 2, text, sizeof(text)) < 0)
            return -1;
        rr.pref = (unsigned int)(d[0] << 8 | d[1]);
        o = strlen(text);
        break;
    default:
        if (wire_name(d, len, 0, text, sizeof(text)) < 0)
            return -1;
        o = strlen(text);
        break;
    }
    text[o] = '\0';
    rr.len = o;
    return answer_add(ans, &rr);
}

/* convert_result - a libunbound result into our answer */
static enum dns_status convert_result(const struct dns_resolver *r, int type,
                                      const struct ub_result *res, struct dns_answer *ans)
{
    int i;

    ans->sec = res->secure     ? DNS_SEC_SECURE
               : res->bogus    ? DNS_SEC_BOGUS
               : r->validating ? DNS_SEC_INSECURE
                               : DNS_SEC_UNKNOWN;
    if (res->bogus)
        return answer_set(ans, DNS_FAIL, "DNSSEC bogus: %.80s",
                          res->why_bogus ? res->why_bogus : "?");
    if (res->nxdomain || res->rcode == 3)
        return answer_set(ans, DNS_NXDOMAIN, "no such name");
    if (res->rcode != 0)
        return answer_set(ans, DNS_FAIL, "rcode %d%s", res->rcode,
                          res->rcode == 2   ? " (SERVFAIL)"
                          : res->rcode == 5 ? " (REFUSED)"
                                            : "");
    if (!res->havedata)
        return answer_set(ans, DNS_NODATA, "no %s data", dns_type_name(type));
    for (i = 0; res->data[i]; i++)
        if (convert_record(type, (const unsigned char *)res->data[i], (size_t)res->len[i],
                           (unsigned int)res->ttl, ans) < 0)
            return answer_set(ans, DNS_FAIL, "malformed %s record", dns_type_name(type));
    return answer_set(ans, ans->count ? DNS_OK : DNS_NODATA, "answer");
}

/* start_dispatcher - start the dispatcher thread once */
static int start_dispatcher(struct dns_resolver *r)
{
    int ok = 1;

    lock(&r->mu);
    if (!r->running) {
        if (pipe(r->wake) < 0)
            ok = 0;
        else if (pthread_create(&r->dispatcher, NULL, dispatcher, r) != 0) {
            close(r->wake[0]);
            close(r->wake[1]);
            ok = 0;
        } else
            r->running = 1;
    }
    unlock(&r->mu);
    return ok ? 0 : -1;
}

/* network_name - the presentation form libunbound parses (odd bytes escaped) */
static void network_name(const char *name, char *out, size_t outsz)
{
    size_t o = 0;
    unsigned char c;

    for (; *name && o + 5 < outsz; name++) {
        c = (unsigned char)*name;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '*')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, outsz - o, "\\%03u", c);
    }
    out[o] = '\0';
}

/* network_query - ask libunbound, waiting at most until the deadline */
static enum dns_status network_query(struct dns_resolver *r, const char *name, int type,
                                     const struct timespec *deadline, struct dns_answer *ans)
{
    struct pending *p;
    char wire[DNS_NAME_MAX * 4];
    pthread_condattr_t ca;
    int id, err, rc = 0, cancelled, last;
    enum dns_status st;

    if (start_dispatcher(r) < 0)
        return answer_set(ans, DNS_FAIL, "cannot start the resolver thread");
    if ((p = xcalloc(1, sizeof(*p) + sizeof(r))) == NULL)
        return answer_set(ans, DNS_FAIL, "out of memory");
    *(struct dns_resolver **)(p + 1) = r;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    p->refs = 2;
    network_name(name, wire, sizeof(wire));
    if ((err = ub_resolve_async(r->ctx, wire, type, 1, p, query_done, &id)) != 0) {
        pthread_cond_destroy(&p->cond);
        free(p);
        return answer_set(ans, DNS_FAIL, "resolver: %s", ub_strerror(err));
    }
    lock(&r->mu);
    while (!p->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&p->cond, &r->mu, deadline);
    if (!p->done) {
        unlock(&r->mu);
        cancelled = ub_cancel(r->ctx, id) == 0;
        lock(&r->mu);
        if (cancelled && !p->done)
            p->refs--; /* the callback will never run */
    }
    if (!p->done)
        st = answer_set(ans, DNS_FAIL, "timed out");
    else if (p->err != 0 || p->result == NULL)
        st = answer_set(ans, DNS_FAIL, "resolver: %s", ub_strerror(p->err));
    else
        st = convert_result(r, type, p->result, ans);
    last = pending_release(p);
    unlock(&r->mu);
    if (last) {
        if (p->result)
            ub_resolve_free(p->result);
        pthread_cond_destroy(&p->cond);
        free(p);
    }
    return st;
}

/* dns_deadline - now + DNSTimeout on CLOCK_MONOTONIC */
void dns_deadline(const struct dns_resolver *r, struct timespec *deadline_r)
{
    long ms = r ? r->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;

    clock_gettime(CLOCK_MONOTONIC, deadline_r);
    deadline_r->tv_sec += ms / 1000;
    deadline_r->tv_nsec += (ms % 1000) * 1000000L;
    if (deadline_r->tv_nsec >= 1000000000L) {
        deadline_r->tv_sec++;
        deadline_r->tv_nsec -= 1000000000L;
    }
}

/* deadline_passed - is the deadline already over? */
static int deadline_passed(const struct timespec *d)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* dns_query - look a name up: answer, NXDOMAIN/NODATA, or failure */
enum dns_status dns_query(struct dns_resolver *r, const char *name, int type,
                          const struct timespec *deadline, struct dns_answer *ans)
{
    char canon[DNS_NAME_MAX];
    struct timespec own;
    const char *why = NULL;

    memset(ans, 0, sizeof(*ans));
    if (name == NULL)
        return answer_set(ans, DNS_FAIL, "no name");
    /* a name DNS cannot carry cannot exist */
    if (canon_name(name, strlen(name), 0, 0, canon, &why) < 0)
        return answer_set(ans, DNS_NXDOMAIN, "invalid name: %s", why);
    if (canon[0] == '\0')
        return answer_set(ans, DNS_NXDOMAIN, "invalid name: empty");
    if (zone_answer(&r->zone, canon, type, ans))
        return ans->status;
    if (r->ctx == NULL)
        return answer_set(ans, DNS_FAIL, "no resolver");
    if (deadline == NULL) {
        dns_deadline(r, &own);
        deadline = &own;
    }
    if (deadline_passed(deadline))
        return answer_set(ans, DNS_FAIL, "timed out (deadline passed)");
    return network_query(r, canon, type, deadline, ans);
}

/* dns_answer_clear - free the records of an answer */
void dns_answer_clear(struct dns_answer *ans)
{
    size_t i;

    for (i = 0; i < ans->count; i++)
        free(ans->rr[i].data);
    free(ans->rr);
    ans->rr = NULL;
    ans->count = 0;
}

/* dns_status_name - text of a status */
const char *dns_status_name(enum dns_status status)
{
    switch (status) {
    case DNS_OK:
        return "answer";
    case DNS_NXDOMAIN:
        return "nxdomain";
    case DNS_NODATA:
        return "nodata";
    case DNS_FAIL:
        return "failure";
    }
    return "?";
}

/* dns_sec_name - text of a DNSSEC state */
const char *dns_sec_name(enum dns_sec sec)
{
    switch (sec) {
    case DNS_SEC_UNKNOWN:
        return "unknown";
    case DNS_SEC_INSECURE:
        return "insecure";
    case DNS_SEC_SECURE:
        return "secure";
    case DNS_SEC_BOGUS:
        return "bogus";
    }
    return "?";
}

/* ub_error - a libunbound set-up error as malloc'd text */
static struct dns_resolver *setup_error(struct dns_resolver *r, char **error_r, const char *fmt,
                                        ...) __attribute__((format(printf, 3, 4)));

static struct dns_resolver *setup_error(struct dns_resolver *r, char **error_r, const char *fmt,
                                        ...)
{
    va_list ap;

    if (error_r) {
        va_start(ap, fmt);
        if (vasprintf(error_r, fmt, ap) < 0)
            *error_r = NULL;
        va_end(ap);
    }
    dns_resolver_free(&r);
    return NULL;
}

/* dns_resolver_new - load the zone file and set libunbound up */
struct dns_resolver *dns_resolver_new(const struct dns_options *opt, char **error_r)
{
    struct dns_resolver *r = xcalloc(1, sizeof(*r));
    const char *const *ns;
    int err;

    if (error_r)
        *error_r = NULL;
    if (r == NULL)
        return setup_error(r, error_r, "out of memory");
    pthread_mutex_init(&r->mu, NULL);
    r->timeout_ms = opt && opt->timeout_ms > 0 ? opt->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
    if (opt && opt->zone_file && zone_load(&r->zone, opt->zone_file, error_r) < 0) {
        dns_resolver_free(&r);
        return NULL;
    }
    if ((r->ctx = ub_ctx_create()) == NULL)
        return setup_error(r, error_r, "libunbound: cannot create a context");
    if ((err = ub_ctx_async(r->ctx, 1)) != 0)
        return setup_error(r, error_r, "libunbound: threads: %s", ub_strerror(err));
    if ((err = ub_ctx_set_option(r->ctx, "do-not-query-localhost:", "no")) != 0 ||
        (err = ub_ctx_set_option(r->ctx, "outgoing-range:", "512")) != 0 ||
        (err = ub_ctx_set_option(r->ctx, "num-queries-per-thread:", "1024")) != 0)
        return setup_error(r, error_r, "libunbound: %s", ub_strerror(err));
    if (opt && opt->nameservers && opt->nameservers[0]) {
        for (ns = opt->nameservers; *ns; ns++)
            if ((err = ub_ctx_set_fwd(r->ctx, *ns)) != 0)
                return setup_error(r, error_r, "bad nameserver \"%.100s\": %s", *ns,
                                   ub_strerror(err));
    } else if ((err = ub_ctx_resolvconf(r->ctx, NULL)) != 0) {
        return setup_error(r, error_r, "/etc/resolv.conf: %s", ub_strerror(err));
    }
    if (opt && opt->trust_anchor_file) {
        if ((err = ub_ctx_add_ta_file(r->ctx, opt->trust_anchor_file)) != 0)
            return setup_error(r, error_r, "%s: trust anchor: %s", opt->trust_anchor_file,
                               ub_strerror(err));
        r->validating = 1;
    }
    return r;
}

/* dns_resolver_free - stop the dispatcher and release everything */
void dns_resolver_free(struct dns_resolver **rp)
{
    struct dns_resolver *r = rp ? *rp : NULL;

    if (r == NULL)
        return;
    if (r->running) {
        if (write(r->wake[1], "x", 1) != 1)
            abort();
        pthread_join(r->dispatcher, NULL);
        close(r->wake[0]);
        close(r->wake[1]);
    }
    if (r->ctx)
        ub_ctx_delete(r->ctx);
    zone_free(&r->zone);
    pthread_mutex_destroy(&r->mu);
    free(r);
    *rp = NULL;
}
