/*
 * NAME
 *	keys - DKIM private keys: KeyTable and SigningTable, parsed once
 * SYNOPSIS
 *	See include/keys.h.
 * DESCRIPTION
 *	Both tables are read into memory at load; each KeyTable key file is
 *	read, checked and parsed once by key_file_load() (milter/keys_file.c)
 *	and kept parsed.  Exact SigningTable patterns are sorted for binary
 *	search; refile: patterns are tried in file order.
 *
 *	Ownership: the keyset owns every string, EVP_PKEY and PEM copy; a
 *	struct dkim_key handed out by keyset_match() lives as long as the
 *	keyset.  Thread safety: read-only after keyset_load().
 * DIAGNOSTICS
 *	"file:line: reason" strings, see include/keys.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "keys.h"
#include "keys_int.h"

struct sign_rule {
    char *pattern; /* lower case */
    size_t key;    /* index into keyset->keys */
    size_t seq;    /* file order, ties in the sorted table */
    int line;
};

struct keyset {
    struct dkim_key *keys;
    size_t nkeys;
    struct sign_rule *rules;
    size_t nrules;
    bool wildcard;  /* refile: SigningTable */
    uid_t owner_ok; /* besides root and the euid, may own key files */
};

/* table_reader - one table file being read line by line */
struct table_reader {
    const char *path;
    FILE *fp;
    int line;
    char *buf;
    size_t size;
};

/* xstrdup - strdup that treats exhaustion as fatal */
static char *xstrdup(const char *s)
{
    char *p = strdup(s);

    if (p == NULL) {
        fputs("keys: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* xgrow - grow an array by one element, fatal on exhaustion */
static void *xgrow(void *array, size_t count, size_t elem)
{
    void *p = realloc(array, (count + 1) * elem);

    if (p == NULL) {
        fputs("keys: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* lowercase - fold an ASCII string in place */
static void lowercase(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* table_open - open a table file; 0 or -1 with *error_r set */
static int table_open(struct table_reader *tr, const char *path, char **error_r)
{
    memset(tr, 0, sizeof(*tr));
    tr->path = path;
    tr->fp = fopen(path, "r");
    if (tr->fp == NULL) {
        keys_error(error_r, path, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* table_close - release a table reader */
static void table_close(struct table_reader *tr)
{
    if (tr->fp != NULL)
        fclose(tr->fp);
    free(tr->buf);
    tr->fp = NULL;
    tr->buf = NULL;
}

/*
 * table_next - next meaningful line split into key and value
 *
 * Returns 1 with *key_r and *value_r (value may be empty) pointing into
 * the reader's buffer, 0 at end of file, -1 with *error_r set.
 */
static int table_next(struct table_reader *tr, char **key_r, char **value_r, char **error_r)
{
    ssize_t len;
    char *p, *end;

    for (;;) {
        errno = 0;
        len = getline(&tr->buf, &tr->size, tr->fp);
        if (len < 0) {
            if (errno != 0 && !feof(tr->fp)) {
                keys_error(error_r, tr->path, tr->line + 1, "read error: %s", strerror(errno));
                return -1;
            }
            return 0;
        }
        tr->line++;
        if ((size_t)len > KEYSET_MAX_LINE) {
            keys_error(error_r, tr->path, tr->line, "line longer than %d bytes", KEYSET_MAX_LINE);
            return -1;
        }
        if (strlen(tr->buf) != (size_t)len) {
            keys_error(error_r, tr->path, tr->line, "NUL byte in line");
            return -1;
        }
        end = tr->buf + len;
        while (end > tr->buf && isspace((unsigned char)end[-1]))
            *--end = 0;
        for (p = tr->buf; isspace((unsigned char)*p); p++)
            ;
        if (*p == 0 || *p == '#')
            continue;
        *key_r = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (*p) {
            *p++ = 0;
            while (isspace((unsigned char)*p))
                p++;
        }
        *value_r = p;
        return 1;
    }
}

/* table_path - strip a data set prefix; NULL (error set) for unsupported ones */
static const char *table_path(const char *spec, bool allow_refile, bool *refile_r, char **error_r)
{
    const char *colon, *slash;

    *refile_r = false;
    if (strncmp(spec, "refile:", 7) == 0) {
        if (!allow_refile) {
            keys_error(error_r, spec, 0, "refile: is only meaningful for the SigningTable");
            return NULL;
        }
        *refile_r = true;
        return spec + 7;
    }
    if (strncmp(spec, "file:", 5) == 0)
        return spec + 5;
    colon = strchr(spec, ':');
    slash = strchr(spec, '/');
    if (colon != NULL && (slash == NULL || slash > colon)) {
        keys_error(error_r, spec, 0, "unsupported data set type (use a file path or refile:)");
        return NULL;
    }
    return spec;
}

/* keyset_find_key - index of a key name, or -1 */
static ssize_t keyset_find_key(const struct keyset *ks, const char *name)
{
    size_t i;

    for (i = 0; i < ks->nkeys; i++)
        if (strcmp(ks->keys[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

/* keytable_line - parse "name domain:selector:/path" and load the key */
static int keytable_line(struct keyset *ks, const char *table, int line, char *name, char *value,
                         bool require_safe, char **error_r)
{
    struct dkim_key key;
    char *sel, *path;

    if (*value == 0) {
        keys_error(error_r, table, line, "key \"%.100s\" has no domain:selector:keyfile", name);
        return -1;
    }
    if (keyset_find_key(ks, name) >= 0) {
        keys_error(error_r, table, line, "duplicate key name \"%.100s\"", name);
        return -1;
    }
    sel = strchr(value, ':');
    path = sel ? strchr(sel + 1, ':') : NULL;
    if (sel == NULL || path == NULL) {
        keys_error(error_r, table, line, "want domain:selector:/path/to/keyfile, got \"%.200s\"",
                   value);
        return -1;
    }
    *sel++ = 0;
    *path++ = 0;
    if (*value == 0 || *sel == 0 || *path == 0) {
        keys_error(error_r, table, line, "empty domain, selector or key file");
        return -1;
    }
    if (*path != '/') {
        keys_error(
            error_r, table, line,
            "key file \"%.200s\" must be an absolute path (inline key data is not supported)",
            path);
        return -1;
    }
    memset(&key, 0, sizeof(key));
    key.name = xstrdup(name);
    key.domain = xstrdup(value);
    lowercase(key.domain);
    key.selector = xstrdup(sel);
    key.path = xstrdup(path);
    if (key_file_load(&key, require_safe, ks->owner_ok, table, line, error_r) < 0) {
        key_wipe(&key);
        return -1;
    }
    ks->keys = xgrow(ks->keys, ks->nkeys, sizeof(*ks->keys));
    ks->keys[ks->nkeys++] = key;
    return 0;
}

/* keytable_load - read every KeyTable line */
static int keytable_load(struct keyset *ks, const char *spec, bool require_safe, char **error_r)
{
    struct table_reader tr;
    const char *path;
    char *name, *value;
    bool refile;
    int rc;

    if ((path = table_path(spec, false, &refile, error_r)) == NULL)
        return -1;
    if (table_open(&tr, path, error_r) < 0)
        return -1;
    while ((rc = table_next(&tr, &name, &value, error_r)) > 0)
        if (keytable_line(ks, path, tr.line, name, value, require_safe, error_r) < 0) {
            rc = -1;
            break;
        }
    table_close(&tr);
    return rc;
}

/* signtable_add - add one SigningTable line */
static int signtable_add(struct keyset *ks, const char *table, int line, char *pattern, char *value,
                         const char *key_table, char **error_r)
{
    ssize_t key;
    size_t i, same = 0;

    if (*value == 0) {
        keys_error(error_r, table, line, "pattern \"%.200s\" has no key name", pattern);
        return -1;
    }
    if (strpbrk(value, " \t,") != NULL) {
        keys_error(error_r, table, line, "one key name per line, got \"%.200s\"", value);
        return -1;
    }
    if ((key = keyset_find_key(ks, value)) < 0) {
        keys_error(error_r, table, line, "unknown key name \"%.100s\" (not in KeyTable %s)", value,
                   key_table ? key_table : "(none)");
        return -1;
    }
    lowercase(pattern);
    for (i = 0; i < ks->nrules; i++) {
        if (strcmp(ks->rules[i].pattern, pattern) != 0)
            continue;
        if (ks->rules[i].key == (size_t)key) {
            keys_error(error_r, table, line, "duplicate entry \"%.200s %.100s\" (line %d)", pattern,
                       value, ks->rules[i].line);
            return -1;
        }
        same++;
    }
    if (same >= KEYSET_MAX_SIGS) {
        keys_error(error_r, table, line, "more than %d keys for \"%.200s\"", KEYSET_MAX_SIGS,
                   pattern);
        return -1;
    }
    ks->rules = xgrow(ks->rules, ks->nrules, sizeof(*ks->rules));
    ks->rules[ks->nrules].pattern = xstrdup(pattern);
    ks->rules[ks->nrules].key = (size_t)key;
    ks->rules[ks->nrules].seq = ks->nrules;
    ks->rules[ks->nrules].line = line;
    ks->nrules++;
    return 0;
}

/* rule_cmp - order exact rules by pattern, then file order */
static int rule_cmp(const void *a, const void *b)
{
    const struct sign_rule *ra = a, *rb = b;
    int c = strcmp(ra->pattern, rb->pattern);

    if (c != 0)
        return c;
    return ra->seq < rb->seq ? -1 : ra->seq > rb->seq;
}

/* signtable_load - read every SigningTable line */
static int signtable_load(struct keyset *ks, const char *spec, const char *key_table,
                          char **error_r)
{
    struct table_reader tr;
    const char *path;
    char *pattern, *value;
    int rc;

    if ((path = table_path(spec, true, &ks->wildcard, error_r)) == NULL)
        return -1;
    if (table_open(&tr, path, error_r) < 0)
        return -1;
    while ((rc = table_next(&tr, &pattern, &value, error_r)) > 0)
        if (signtable_add(ks, path, tr.line, pattern, value, key_table, error_r) < 0) {
            rc = -1;
            break;
        }
    table_close(&tr);
    if (rc == 0 && !ks->wildcard && ks->nrules > 1)
        qsort(ks->rules, ks->nrules, sizeof(*ks->rules), rule_cmp);
    return rc;
}

/* keyset_load - load and parse both tables */
struct keyset *keyset_load(const char *key_table, const char *signing_table, bool require_safe,
                           char **error_r)
{
    return keyset_load_owner(key_table, signing_table, require_safe, (uid_t)-1, error_r);
}

/* keyset_load_owner - the same, key files may also belong to owner_ok */
struct keyset *keyset_load_owner(const char *key_table, const char *signing_table,
                                 bool require_safe, uid_t owner_ok, char **error_r)
{
    struct keyset *ks;

    if (error_r != NULL)
        *error_r = NULL;
    ks = calloc(1, sizeof(*ks));
    if (ks == NULL) {
        fputs("keys: out of memory\n", stderr);
        abort();
    }
    ks->owner_ok = owner_ok;
    if (key_table != NULL && keytable_load(ks, key_table, require_safe, error_r) < 0)
        goto fail;
    if (signing_table != NULL && signtable_load(ks, signing_table, key_table, error_r) < 0)
        goto fail;
    return ks;
fail:
    keyset_free(&ks);
    return NULL;
}

/* glob_match - '*' wildcard match, the whole string, already lower case */
static bool glob_match(const char *pat, const char *str)
{
    const char *star = NULL, *resume = NULL;

    while (*str) {
        if (*pat == '*') {
            star = pat++;
            resume = str;
        } else if (*pat == *str) {
            pat++;
            str++;
        } else if (star != NULL) {
            pat = star + 1;
            str = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == 0;
}

/* match_collect - store the keys of rules[first..] sharing one pattern */
static size_t match_collect(const struct keyset *ks, size_t first, const struct dkim_key **keys_r,
                            size_t max)
{
    const char *pattern = ks->rules[first].pattern;
    size_t i, n = 0;

    for (i = first; i < ks->nrules && n < max; i++)
        if (strcmp(ks->rules[i].pattern, pattern) == 0)
            keys_r[n++] = &ks->keys[ks->rules[i].key];
        else if (!ks->wildcard)
            break;
    return n;
}

/* exact_find - first (lowest seq) rule with this exact pattern, or -1 */
static ssize_t exact_find(const struct keyset *ks, const char *pattern)
{
    size_t lo = 0, hi = ks->nrules;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(ks->rules[mid].pattern, pattern) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ks->nrules && strcmp(ks->rules[lo].pattern, pattern) == 0)
        return (ssize_t)lo;
    return -1;
}

/* keyset_match - the keys that sign for an address, in table order */
size_t keyset_match(const struct keyset *ks, const char *address, const struct dkim_key **keys_r,
                    size_t max)
{
    char addr[512], cand[600];
    const char *domain, *parent;
    size_t i, local_len;
    ssize_t hit;

    if (ks == NULL || ks->nrules == 0 || address == NULL || max == 0)
        return 0;
    if (strlen(address) >= sizeof(addr))
        return 0;
    strcpy(addr, address);
    lowercase(addr);
    if ((domain = strrchr(addr, '@')) == NULL || domain[1] == 0)
        return 0;
    local_len = (size_t)(domain - addr);
    domain++;

    if (ks->wildcard) {
        for (i = 0; i < ks->nrules; i++)
            if (glob_match(ks->rules[i].pattern, addr))
                return match_collect(ks, i, keys_r, max);
        return 0;
    }
    if ((hit = exact_find(ks, addr)) >= 0 || (hit = exact_find(ks, domain)) >= 0)
        return match_collect(ks, (size_t)hit, keys_r, max);
    for (parent = strchr(domain, '.'); parent != NULL; parent = strchr(parent + 1, '.')) {
        snprintf(cand, sizeof(cand), "%.*s@%s", (int)local_len, addr, parent);
        if ((hit = exact_find(ks, cand)) >= 0 || (hit = exact_find(ks, parent)) >= 0)
            return match_collect(ks, (size_t)hit, keys_r, max);
    }
    if ((hit = exact_find(ks, "*")) >= 0)
        return match_collect(ks, (size_t)hit, keys_r, max);
    return 0;
}

/* keyset_key - the i-th key of the KeyTable, or NULL */
const struct dkim_key *keyset_key(const struct keyset *ks, size_t i)
{
    return ks && i < ks->nkeys ? &ks->keys[i] : NULL;
}

/* keyset_count - number of keys loaded */
size_t keyset_count(const struct keyset *ks)
{
    return ks ? ks->nkeys : 0;
}

/* keyset_free - wipe and release a keyset; sets *ks to NULL */
void keyset_free(struct keyset **ksp)
{
    struct keyset *ks = *ksp;
    size_t i;

    if (ks == NULL)
        return;
    for (i = 0; i < ks->nkeys; i++)
        key_wipe(&ks->keys[i]);
    for (i = 0; i < ks->nrules; i++)
        free(ks->rules[i].pattern);
    free(ks->keys);
    free(ks->rules);
    free(ks);
    *ksp = NULL;
}