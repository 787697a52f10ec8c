/*
 * NAME
 *	maps - Postfix-format text lookup tables
 * SYNOPSIS
 *	See include/maps.h.
 * DESCRIPTION
 *	map_open() reads the file with stdio, one physical line at a time,
 *	and joins continuation lines into a logical line the way postmap(1)
 *	does (comment and blank lines are skipped even between a line and
 *	its continuation; the pieces are joined with one space).  Each entry
 *	is one allocation "key\0value\0"; entries live in an open-addressing
 *	hash table (FNV-1a, linear probing, load factor at most 1/2) that
 *	doubles as it fills, so loading n lines costs O(n).
 *
 *	Differences from postmap(1), all stricter: a duplicate key, a line
 *	without a value and a continuation line before the first entry are
 *	errors instead of warnings.  As in postmap, a '#' after the key is
 *	part of the value, not a comment.
 *
 *	A loaded map is never written again: lookups from many threads need
 *	no lock.
 * DIAGNOSTICS
 *	map_open() errors are malloc'd strings:
 *	"path: cannot open: <strerror>", "path:N: read error: <strerror>",
 *	"path:N: NUL byte in line", "path:N: line too long (more than
 *	65536 bytes)", "path:N: continuation line without a preceding entry",
 *	"path:N: expected \"key whitespace value\"",
 *	"path:N: duplicate key \"k\" (first on line M)".  N is the physical
 *	line where the problem was seen (the first line of a logical line for
 *	duplicates and missing values).  Out of memory while reporting an
 *	error is fatal (abort).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"

struct map_entry {
    char *key; /* "key\0value\0", key folded */
    const char *value;
    uint32_t hash;
    unsigned long line;
};

struct map {
    struct map_entry *slots; /* key == NULL: empty */
    size_t size;             /* power of two */
    size_t n;
};

/* logical line being assembled */
struct map_line {
    char *buf;
    size_t len, size;
    unsigned long first; /* physical line number where it started */
};

/* map_fold - ASCII lower case */
static unsigned char map_fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* map_is_space - postmap's idea of whitespace */
static bool map_is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* map_hash - FNV-1a over the folded key */
static uint32_t map_hash(const char *key)
{
    uint32_t h = 2166136261u;

    for (; *key; key++) {
        h ^= map_fold((unsigned char)*key);
        h *= 16777619u;
    }
    return h;
}

/* map_keyeq - stored (folded) key equals lookup key, case-insensitively */
static bool map_keyeq(const char *stored, const char *key)
{
    for (; *stored && *key; stored++, key++)
        if (*stored != (char)map_fold((unsigned char)*key))
            return false;
    return *stored == *key;
}

/* map_find - slot holding key, or the empty slot where it would go */
static struct map_entry *map_find(const struct map *map, const char *key, uint32_t hash)
{
    size_t i = hash & (map->size - 1);

    while (map->slots[i].key != NULL) {
        if (map->slots[i].hash == hash && map_keyeq(map->slots[i].key, key))
            break;
        i = (i + 1) & (map->size - 1);
    }
    return &map->slots[i];
}

/* map_grow - double the table; false when out of memory */
static bool map_grow(struct map *map)
{
    size_t size = map->size * 2, i, j;
    struct map_entry *slots = calloc(size, sizeof(*slots));

    if (slots == NULL)
        return false;
    for (i = 0; i < map->size; i++) {
        if (map->slots[i].key == NULL)
            continue;
        j = map->slots[i].hash & (size - 1);
        while (slots[j].key != NULL)
            j = (j + 1) & (size - 1);
        slots[j] = map->slots[i];
    }
    free(map->slots);
    map->slots = slots;
    map->size = size;
    return true;
}

/* map_error - format a malloc'd "path:line: reason"; abort when out of memory */
static char *map_error(const char *path, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static char *map_error(const char *path, unsigned long line, const char *fmt, ...)
{
    char reason[512], *out;
    va_list ap;
    int len;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    len = line ? snprintf(NULL, 0, "%s:%lu: %s", path, line, reason)
               : snprintf(NULL, 0, "%s: %s", path, reason);
    if (len < 0 || (out = malloc((size_t)len + 1)) == NULL)
        abort();
    if (line)
        snprintf(out, (size_t)len + 1, "%s:%lu: %s", path, line, reason);
    else
        snprintf(out, (size_t)len + 1, "%s: %s", path, reason);
    return out;
}

/* map_add - store the logical line as an entry; NULL or an error string */
static char *map_add(struct map *map, const char *path, const struct map_line *ll)
{
    const char *cp = ll->buf, *end = ll->buf + ll->len, *kend, *val;
    struct map_entry *slot;
    size_t klen, vlen, i;
    uint32_t hash;
    char *entry;

    kend = cp;
    while (kend < end && !map_is_space((unsigned char)*kend))
        kend++;
    val = kend;
    while (val < end && map_is_space((unsigned char)*val))
        val++;
    while (end > val && map_is_space((unsigned char)end[-1]))
        end--;
    if (val >= end)
        return map_error(path, ll->first, "expected \"key whitespace value\"");
    klen = (size_t)(kend - cp);
    vlen = (size_t)(end - val);
    if ((entry = malloc(klen + vlen + 2)) == NULL)
        return map_error(path, ll->first, "out of memory");
    for (i = 0; i < klen; i++)
        entry[i] = (char)map_fold((unsigned char)cp[i]);
    entry[klen] = '\0';
    memcpy(entry + klen + 1, val, vlen);
    entry[klen + 1 + vlen] = '\0';
    hash = map_hash(entry);
    slot = map_find(map, entry, hash);
    if (slot->key != NULL) {
        char *error = map_error(path, ll->first, "duplicate key \"%.200s\" (first on line %lu)",
                                entry, slot->line);

        free(entry);
        return error;
    }
    slot->key = entry;
    slot->value = entry + klen + 1;
    slot->hash = hash;
    slot->line = ll->first;
    if (++map->n * 2 > map->size && !map_grow(map))
        return map_error(path, ll->first, "out of memory");
    return NULL;
}

/* map_append - add a physical line (piece) to the logical line */
static bool map_append(struct map_line *ll, const char *piece, size_t len)
{
    size_t need = ll->len + len + 2;

    if (need > ll->size) {
        size_t size = ll->size ? ll->size : 256;
        char *nbuf;

        while (size < need)
            size *= 2;
        if ((nbuf = realloc(ll->buf, size)) == NULL)
            return false;
        ll->buf = nbuf;
        ll->size = size;
    }
    if (ll->len > 0)
        ll->buf[ll->len++] = ' ';
    memcpy(ll->buf + ll->len, piece, len);
    ll->len += len;
    return true;
}

/* map_read_line - read one physical line into buf; its length, or -1 at EOF */
static long map_read_line(FILE *fp, char *buf, size_t size, bool *too_long, bool *has_nul)
{
    size_t n = 0;
    int c;

    *too_long = *has_nul = false;
    while ((c = getc_unlocked(fp)) != EOF) {
        if (c == '\n')
            return (long)n;
        if (c == '\0')
            *has_nul = true;
        if (n < size)
            buf[n++] = (char)c;
        else
            *too_long = true;
    }
    return n > 0 || *too_long ? (long)n : -1;
}

/* map_load - read fp into map; NULL or an error string */
static char *map_load(struct map *map, const char *path, FILE *fp, char *buf)
{
    struct map_line ll = {NULL, 0, 0, 0};
    unsigned long lineno = 0;
    char *error = NULL;
    bool too_long, has_nul;
    long n;

    while ((n = map_read_line(fp, buf, MAP_MAX_LINE, &too_long, &has_nul)) >= 0) {
        size_t i = 0;

        lineno++;
        if (has_nul) {
            error = map_error(path, lineno, "NUL byte in line");
            break;
        }
        if (too_long || (ll.len > 0 && ll.len + (size_t)n + 1 > MAP_MAX_LINE)) {
            error = map_error(path, lineno, "line too long (more than %d bytes)", MAP_MAX_LINE);
            break;
        }
        while (i < (size_t)n && map_is_space((unsigned char)buf[i]))
            i++;
        if (i == (size_t)n || buf[i] == '#')
            continue;
        if (i == 0 && ll.len > 0) {
            if ((error = map_add(map, path, &ll)) != NULL)
                break;
            ll.len = 0;
        }
        if (i > 0 && ll.len == 0) {
            error = map_error(path, lineno, "continuation line without a preceding entry");
            break;
        }
        if (ll.len == 0)
            ll.first = lineno;
        if (!map_append(&ll, buf + i, (size_t)n - i)) {
            error = map_error(path, lineno, "out of memory");
            break;
        }
    }
    if (error == NULL && ferror(fp))
        error = map_error(path, lineno + 1, "read error: %s", strerror(errno));
    if (error == NULL && ll.len > 0)
        error = map_add(map, path, &ll);
    free(ll.buf);
    return error;
}

/* map_open - load a Postfix text table */
struct map *map_open(const char *path, char **error_r)
{
    struct map *map;
    char *buf, *error;
    FILE *fp;

    *error_r = NULL;
    if ((fp = fopen(path, "r")) == NULL) {
        *error_r = map_error(path, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    map = calloc(1, sizeof(*map));
    buf = malloc(MAP_MAX_LINE);
    if (map == NULL || buf == NULL || (map->slots = calloc(64, sizeof(*map->slots))) == NULL) {
        error = map_error(path, 0, "out of memory");
    } else {
        map->size = 64;
        error = map_load(map, path, fp, buf);
    }
    free(buf);
    fclose(fp);
    if (error != NULL) {
        *error_r = error;
        map_free(&map);
        return NULL;
    }
    return map;
}

/* map_lookup - find key (case-insensitively) */
enum map_result map_lookup(const struct map *map, const char *key, const char **value_r)
{
    const struct map_entry *slot;

    *value_r = NULL;
    if (map == NULL || key == NULL)
        return MAP_ERROR;
    slot = map_find(map, key, map_hash(key));
    if (slot->key == NULL)
        return MAP_NOTFOUND;
    *value_r = slot->value;
    return MAP_FOUND;
}

/* map_free - release a map and clear the caller's pointer */
void map_free(struct map **mapp)
{
    struct map *map;
    size_t i;

    if (mapp == NULL || (map = *mapp) == NULL)
        return;
    for (i = 0; map->slots != NULL && i < map->size; i++)
        free(map->slots[i].key);
    free(map->slots);
    free(map);
    *mapp = NULL;
}
