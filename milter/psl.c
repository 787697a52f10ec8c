/*
 * NAME
 *	psl - public suffix list: organizational domains (RFC 7489 3.2)
 * SYNOPSIS
 *	See include/psl.h.
 * DESCRIPTION
 *	The rules live in one open-addressing hash table keyed by the rule
 *	name without its "*." or "!" prefix; each key carries a bit set of
 *	the rule kinds seen for it (normal, wildcard, exception).  A lookup
 *	walks the suffixes of the domain from the longest down, so it costs
 *	one probe per label and kind.
 * DIAGNOSTICS
 *	psl_load() reports "path: reason"; lookups never fail but for
 *	invalid domains (NULL).
 */
#include "am_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "psl.h"

#define PSL_NORMAL 1u
#define PSL_WILDCARD 2u
#define PSL_EXCEPTION 4u

#define PSL_MAX_LABEL 63
#define PSL_MAX_LINE 1024

struct psl_entry {
    char *key;
    unsigned int kinds;
};

struct psl {
    struct psl_entry *tab;
    size_t size; /* power of two */
    size_t used;
};

/* psl_hash - FNV-1a of len bytes */
static uint32_t psl_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* psl_find - the slot of key (len bytes), or the empty slot where it goes */
static struct psl_entry *psl_find(const struct psl *psl, const char *key, size_t len)
{
    size_t i = psl_hash(key, len) & (psl->size - 1);

    while (psl->tab[i].key != NULL) {
        if (strlen(psl->tab[i].key) == len && memcmp(psl->tab[i].key, key, len) == 0)
            return &psl->tab[i];
        i = (i + 1) & (psl->size - 1);
    }
    return &psl->tab[i];
}

/* psl_grow - double the table; -1 when memory ran out */
static int psl_grow(struct psl *psl)
{
    struct psl_entry *old = psl->tab, *slot;
    size_t oldsize = psl->size, i;

    psl->size = oldsize ? oldsize * 2 : 4096;
    psl->tab = calloc(psl->size, sizeof(*psl->tab));
    if (psl->tab == NULL) {
        psl->tab = old;
        psl->size = oldsize;
        return -1;
    }
    for (i = 0; i < oldsize; i++) {
        if (old[i].key == NULL)
            continue;
        slot = psl_find(psl, old[i].key, strlen(old[i].key));
        *slot = old[i];
    }
    free(old);
    return 0;
}

/* psl_add - record one rule kind for key; -1 when memory ran out */
static int psl_add(struct psl *psl, const char *key, unsigned int kind)
{
    struct psl_entry *slot;

    if ((psl->used + 1) * 2 > psl->size && psl_grow(psl) < 0)
        return -1;
    slot = psl_find(psl, key, strlen(key));
    if (slot->key == NULL) {
        if ((slot->key = strdup(key)) == NULL)
            return -1;
        psl->used++;
    }
    slot->kinds |= kind;
    return 0;
}

/* psl_kinds - the rule kinds recorded for key (len bytes) */
static unsigned int psl_kinds(const struct psl *psl, const char *key, size_t len)
{
    return psl->size ? psl_find(psl, key, len)->kinds : 0;
}

/* puny_adapt - RFC 3492 6.1 bias adaptation */
static uint32_t puny_adapt(uint32_t delta, uint32_t numpoints, int first)
{
    uint32_t k = 0;

    delta = first ? delta / 700 : delta / 2;
    delta += delta / numpoints;
    while (delta > ((36 - 1) * 26) / 2) {
        delta /= 36 - 1;
        k += 36;
    }
    return k + (36 * delta) / (delta + 38);
}

/* puny_digit - the Punycode digit for d (0..35) */
static char puny_digit(uint32_t d)
{
    return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

/* utf8_decode - code points of s (len bytes) into cp; count or -1 */
static int utf8_decode(const unsigned char *s, size_t len, uint32_t *cp, size_t max)
{
    size_t i = 0, n = 0, more, j;
    uint32_t c;

    while (i < len) {
        if (n == max)
            return -1;
        c = s[i];
        if (c < 0x80)
            more = 0;
        else if ((c & 0xe0) == 0xc0 && c >= 0xc2)
            more = 1, c &= 0x1f;
        else if ((c & 0xf0) == 0xe0)
            more = 2, c &= 0x0f;
        else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
            more = 3, c &= 0x07;
        else
            return -1;
        for (j = 1; j <= more; j++) {
            if (i + j >= len || (s[i + j] & 0xc0) != 0x80)
                return -1;
            c = (c << 6) | (s[i + j] & 0x3f);
        }
        if ((more == 2 && c < 0x800) || (more == 3 && (c < 0x10000 || c > 0x10ffff)) ||
            (c >= 0xd800 && c <= 0xdfff))
            return -1;
        cp[n++] = c;
        i += more + 1;
    }
    return (int)n;
}

/* puny_encode - append the A-label of one UTF-8 label; -1 on error */
static int puny_encode(const char *label, size_t len, char *out, size_t *pos, size_t size)
{
    uint32_t cp[PSL_MAX_LABEL], n = 128, bias = 72, delta = 0, m, q, k, t;
    size_t count, h, b = 0, i, start = *pos;
    int got;

    if ((got = utf8_decode((const unsigned char *)label, len, cp, PSL_MAX_LABEL)) <= 0)
        return -1;
    count = (size_t)got;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (*pos + 1 >= size || *pos - start >= PSL_MAX_LABEL)                                     \
            return -1;                                                                             \
        out[(*pos)++] = (ch);                                                                      \
    } while (0)
    PUT('x');
    PUT('n');
    PUT('-');
    PUT('-');
    for (i = 0; i < count; i++)
        if (cp[i] < 0x80) {
            if (!isalnum((int)cp[i]) && cp[i] != '-' && cp[i] != '_')
                return -1;
            PUT((char)tolower((int)cp[i]));
            b++;
        }
    if (b > 0)
        PUT('-');
    for (h = b; h < count; n++, delta++) {
        for (m = UINT32_MAX, i = 0; i < count; i++)
            if (cp[i] >= n && cp[i] < m)
                m = cp[i];
        if ((m - n) > (UINT32_MAX - delta) / (h + 1))
            return -1;
        delta += (m - n) * (uint32_t)(h + 1);
        n = m;
        for (i = 0; i < count; i++) {
            if (cp[i] < n && ++delta == 0)
                return -1;
            if (cp[i] != n)
                continue;
            for (q = delta, k = 36;; k += 36) {
                t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
                if (q < t)
                    break;
                PUT(puny_digit(t + (q - t) % (36 - t)));
                q = (q - t) / (36 - t);
            }
            PUT(puny_digit(q));
            bias = puny_adapt(delta, (uint32_t)(h + 1), h == b);
            delta = 0;
            h++;
        }
    }
#undef PUT
    out[*pos] = 0;
    return 0;
}

/* psl_domain_to_ascii - lower-cased A-label form of a domain */
int psl_domain_to_ascii(const char *in, char *out, size_t size)
{
    size_t pos = 0, len, i, inlen;
    const char *label = in, *dot;
    int ascii;

    if (in == NULL || size == 0 || (inlen = strlen(in)) == 0)
        return -1;
    if (in[inlen - 1] == '.')
        inlen--;
    while (label < in + inlen) {
        dot = memchr(label, '.', (size_t)(in + inlen - label));
        len = dot ? (size_t)(dot - label) : (size_t)(in + inlen - label);
        if (len == 0)
            return -1;
        for (ascii = 1, i = 0; i < len; i++)
            if ((unsigned char)label[i] >= 0x80)
                ascii = 0;
        if (pos > 0) {
            if (pos + 1 >= size)
                return -1;
            out[pos++] = '.';
        }
        if (ascii) {
            if (len > PSL_MAX_LABEL || pos + len >= size)
                return -1;
            for (i = 0; i < len; i++) {
                if (!isalnum((unsigned char)label[i]) && label[i] != '-' && label[i] != '_')
                    return -1;
                out[pos++] = (char)tolower((unsigned char)label[i]);
            }
        } else if (puny_encode(label, len, out, &pos, size) < 0) {
            return -1;
        }
        label += len + 1;
    }
    out[pos] = 0;
    return pos > PSL_MAX_DOMAIN || pos == 0 ? -1 : 0;
}

/* psl_add_line - parse one list line into the table; -1: out of memory */
static int psl_add_line(struct psl *psl, char *line, size_t *skipped)
{
    char *rule = line, *end, key[PSL_MAX_DOMAIN + 2];
    unsigned int kind = PSL_NORMAL;

    while (*rule == ' ' || *rule == '\t')
        rule++;
    for (end = rule; *end && *end != ' ' && *end != '\t' && *end != '\r' && *end != '\n'; end++)
        ;
    *end = 0;
    if (*rule == 0 || strncmp(rule, "//", 2) == 0)
        return 0;
    if (rule[0] == '!') {
        kind = PSL_EXCEPTION;
        rule++;
    } else if (rule[0] == '*' && rule[1] == '.') {
        kind = PSL_WILDCARD;
        rule += 2;
    }
    if (psl_domain_to_ascii(rule, key, sizeof(key)) < 0) {
        (*skipped)++;
        return 0;
    }
    return psl_add(psl, key, kind);
}

/* psl_load - read a public suffix list */
struct psl *psl_load(const char *path, char **error_r)
{
    struct psl *psl;
    char line[PSL_MAX_LINE];
    size_t skipped = 0;
    FILE *fp;

    *error_r = NULL;
    if (path == NULL)
        path = PSL_DEFAULT_PATH;
    if ((fp = fopen(path, "r")) == NULL) {
        if (asprintf(error_r, "%s: %s", path, strerror(errno)) < 0)
            *error_r = NULL;
        return NULL;
    }
    if ((psl = calloc(1, sizeof(*psl))) == NULL)
        goto nomem;
    while (fgets(line, sizeof(line), fp) != NULL) {
        if (psl_add_line(psl, line, &skipped) < 0)
            goto nomem;
    }
    if (ferror(fp) || psl->used == 0) {
        if (asprintf(error_r, "%s: %s", path, ferror(fp) ? "read error" : "no rules") < 0)
            *error_r = NULL;
        fclose(fp);
        psl_free(&psl);
        return NULL;
    }
    fclose(fp);
    return psl;
nomem:
    fclose(fp);
    psl_free(&psl);
    *error_r = strdup("out of memory loading the public suffix list");
    return NULL;
}

/* psl_free - release a list and clear the caller's pointer */
void psl_free(struct psl **pslp)
{
    struct psl *psl = *pslp;
    size_t i;

    if (psl == NULL)
        return;
    for (i = 0; i < psl->size; i++)
        free(psl->tab[i].key);
    free(psl->tab);
    free(psl);
    *pslp = NULL;
}

/* psl_count - number of distinct rule names loaded */
size_t psl_count(const struct psl *psl)
{
    return psl->used;
}

/* psl_split - label starts of a lower-cased copy of domain; count or -1 */
static int psl_split(const char *domain, char *copy, size_t *starts, size_t max)
{
    size_t len, i, n = 0;

    if (domain == NULL || (len = strlen(domain)) == 0)
        return -1;
    if (domain[len - 1] == '.')
        len--;
    if (len == 0 || len > PSL_MAX_DOMAIN)
        return -1;
    for (i = 0; i < len; i++)
        copy[i] = (char)tolower((unsigned char)domain[i]);
    copy[len] = 0;
    for (i = 0; i <= len; i++) {
        if (i == 0 || copy[i - 1] == '.') {
            if (i == len || copy[i] == '.' || n == max)
                return -1; /* empty label */
            starts[n++] = i;
        }
    }
    return (int)n;
}

/* psl_suffix_labels - how many labels of domain form its public suffix */
static int psl_suffix_labels(const struct psl *psl, const char *domain, size_t *starts, int *n_r)
{
    char copy[PSL_MAX_DOMAIN + 1];
    int n, i, best = 1;
    unsigned int kinds;
    size_t len;

    if ((n = psl_split(domain, copy, starts, PSL_MAX_DOMAIN)) < 0)
        return -1;
    *n_r = n;
    len = strlen(copy);
    for (i = 0; i < n; i++) {
        kinds = psl_kinds(psl, copy + starts[i], len - starts[i]);
        if (kinds & PSL_EXCEPTION)
            return n - i > 1 ? n - i - 1 : 1; /* the exception rule minus a label */
        if ((kinds & PSL_NORMAL) && n - i > best)
            best = n - i;
        if ((kinds & PSL_WILDCARD) && i > 0 && n - i + 1 > best)
            best = n - i + 1;
    }
    return best > n ? n : best;
}

/* psl_public_suffix - the public suffix of domain (pointer into it) */
const char *psl_public_suffix(const struct psl *psl, const char *domain)
{
    size_t starts[PSL_MAX_DOMAIN];
    int n, labels;

    if ((labels = psl_suffix_labels(psl, domain, starts, &n)) < 0)
        return NULL;
    return domain + starts[n - labels];
}

/* psl_org_domain - the organizational domain of domain (pointer into it) */
const char *psl_org_domain(const struct psl *psl, const char *domain)
{
    size_t starts[PSL_MAX_DOMAIN];
    int n, labels;

    if ((labels = psl_suffix_labels(psl, domain, starts, &n)) < 0)
        return NULL;
    return labels + 1 > n ? domain : domain + starts[n - labels - 1];
}
