/*
 * NAME
 *	test-maps - Postfix text tables: accepted forms, every error, scale
 * DESCRIPTION
 *	Fixtures live in $top_srcdir/t/data/maps; files too large or too odd
 *	to keep in git (long lines, 100,000 entries) are written to a fresh
 *	temporary directory and removed at the end.  The two timing checks
 *	are skipped when AM_NO_TIMING is set (runs under valgrind).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "maps.h"
#include "tap.h"

static char srcdir[4096];
static char tmpdir[64];

struct lookup_row {
    const char *key;
    enum map_result result;
    const char *value;
};

static const struct lookup_row ok_rows[] = {
    {"alice@example.org", MAP_FOUND, "alice"},
    {"ALICE@EXAMPLE.ORG", MAP_FOUND, "alice"},
    {"Alice@Example.Org", MAP_FOUND, "alice"},
    {"bob@example.org", MAP_FOUND, "bob,  bobby"},
    {"@example.net", MAP_FOUND, "admin"},
    {"@EXAMPLE.NET", MAP_FOUND, "admin"},
    {"multi@example.org", MAP_FOUND, "one, two three"},
    {"hash@example.org", MAP_FOUND, "value # is not a comment"},
    {"spaces@example.org", MAP_FOUND, "lots   of   space"},
    {"crlf@example.org", MAP_FOUND, "crlfuser"},
    {"last@example.org", MAP_FOUND, "last"},
    {"three", MAP_NOTFOUND, NULL},
    {"#", MAP_NOTFOUND, NULL},
    {"# Postfix", MAP_NOTFOUND, NULL},
    {"alice@example.org ", MAP_NOTFOUND, NULL},
    {"alice", MAP_NOTFOUND, NULL},
    {"", MAP_NOTFOUND, NULL},
    {"carol@example.org", MAP_NOTFOUND, NULL},
};

struct error_row {
    const char *file; /* under t/data/maps */
    const char *want; /* after "path" */
};

static const struct error_row error_rows[] = {
    {"dup.map", ":5: duplicate key \"alice@example.org\" (first on line 2)"},
    {"novalue.map", ":3: expected \"key whitespace value\""},
    {"leading-cont.map", ":2: continuation line without a preceding entry"},
    {"nul.map", ":2: NUL byte in line"},
    {"does-not-exist.map", ": cannot open: No such file or directory"},
};

/* test_ok_map - every accepted form of ok.map */
static void test_ok_map(void)
{
    char path[4200], *error = NULL;
    struct map *map;
    size_t r;

    snprintf(path, sizeof(path), "%s/ok.map", srcdir);
    map = map_open(path, &error);
    tap_ok(map != NULL && error == NULL, "ok.map loads");
    if (map == NULL) {
        tap_diag("%s", error ? error : "(no error)");
        free(error);
        return;
    }
    for (r = 0; r < sizeof(ok_rows) / sizeof(ok_rows[0]); r++) {
        const char *value = "untouched";
        enum map_result res = map_lookup(map, ok_rows[r].key, &value);

        tap_is_int(res, ok_rows[r].result, "lookup \"%s\" result", ok_rows[r].key);
        tap_is_str(res == MAP_FOUND ? value : NULL, ok_rows[r].value, "lookup \"%s\" value",
                   ok_rows[r].key);
    }
    map_free(&map);
    tap_ok(map == NULL, "map_free clears the pointer");
    map_free(&map);
}

/* test_error_rows - each broken fixture gives its exact error */
static void test_error_rows(void)
{
    size_t r;

    for (r = 0; r < sizeof(error_rows) / sizeof(error_rows[0]); r++) {
        char path[4200], want[4400], *error = NULL;
        struct map *map;

        snprintf(path, sizeof(path), "%s/%s", srcdir, error_rows[r].file);
        snprintf(want, sizeof(want), "%s%s", path, error_rows[r].want);
        map = map_open(path, &error);
        tap_ok(map == NULL, "%s refused", error_rows[r].file);
        tap_is_str(error, want, "%s error text", error_rows[r].file);
        map_free(&map);
        free(error);
    }
}

/* write_file - create tmpdir/name with len bytes of data */
static void write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "w");

    if (fp == NULL || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
}

/* expect_error - map_open(path) fails with "path" + suffix */
static void expect_error(const char *path, const char *suffix, const char *name)
{
    char want[512], *error = NULL;
    struct map *map = map_open(path, &error);

    snprintf(want, sizeof(want), "%s%s", path, suffix);
    tap_ok(map == NULL, "%s refused", name);
    tap_is_str(error, want, "%s error text", name);
    map_free(&map);
    free(error);
}

/* test_generated - line length bounds, a directory, an empty file */
static void test_generated(void)
{
    size_t big = 2 * MAP_MAX_LINE + 100;
    char path[4200], *data = malloc(big + 64), *error = NULL;
    const char *value = NULL;
    struct map *map;
    size_t n;

    if (data == NULL)
        abort();
    /* physical line over the bound */
    n = (size_t)snprintf(data, 64, "a@x a\nlong@x ");
    memset(data + n, 'v', MAP_MAX_LINE);
    n += MAP_MAX_LINE;
    data[n++] = '\n';
    snprintf(path, sizeof(path), "%s/long.map", tmpdir);
    write_file(path, data, n);
    expect_error(path, ":2: line too long (more than 65536 bytes)", "long line");

    /* a line of exactly MAP_MAX_LINE bytes is fine */
    n = (size_t)snprintf(data, 64, "exact@x ");
    memset(data + n, 'v', MAP_MAX_LINE - n);
    n = MAP_MAX_LINE;
    data[n++] = '\n';
    snprintf(path, sizeof(path), "%s/exact.map", tmpdir);
    write_file(path, data, n);
    map = map_open(path, &error);
    tap_ok(map != NULL, "line of exactly MAP_MAX_LINE bytes loads");
    tap_is_int(map ? map_lookup(map, "exact@x", &value) : MAP_ERROR, MAP_FOUND, "its key is found");
    tap_is_int(value ? (long)strlen(value) : -1, MAP_MAX_LINE - 8, "with its whole value");
    map_free(&map);
    free(error);
    error = NULL;

    /* a logical line over the bound, built from short continuation lines */
    n = (size_t)snprintf(data, 64, "cont@x v\n");
    while (n < MAP_MAX_LINE + MAP_MAX_LINE / 8) {
        memcpy(data + n, "  0123456789012345678901234567890123456789\n", 43);
        n += 43;
    }
    snprintf(path, sizeof(path), "%s/cont.map", tmpdir);
    write_file(path, data, n);
    map = map_open(path, &error);
    tap_ok(map == NULL && error != NULL && strstr(error, ": line too long (more than 65536 bytes)"),
           "continued line over the bound refused: %s", error ? error : "(none)");
    map_free(&map);
    free(error);
    error = NULL;

    /* a directory cannot be read */
    expect_error(tmpdir, ":1: read error: Is a directory", "directory");

    /* an empty file is an empty map */
    snprintf(path, sizeof(path), "%s/empty.map", srcdir);
    map = map_open(path, &error);
    tap_ok(map != NULL && error == NULL, "empty file loads");
    tap_is_int(map ? map_lookup(map, "a", &value) : MAP_ERROR, MAP_NOTFOUND,
               "empty map finds nothing");
    map_free(&map);
    tap_is_int(map_lookup(NULL, "a", &value), MAP_ERROR, "lookup in no map is an error");
    free(data);
}

/* elapsed - seconds since start */
static double elapsed(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* test_scale - 100,000 entries load well under a second */
static void test_scale(void)
{
    enum { N = 100000 };
    char path[128], key[64], want[64], *error = NULL;
    const char *value;
    struct timespec start;
    struct map *map;
    size_t i, bad = 0;
    double secs;
    FILE *fp;
    bool no_timing = getenv("AM_NO_TIMING") != NULL; /* valgrind runs */

    snprintf(path, sizeof(path), "%s/big.map", tmpdir);
    if ((fp = fopen(path, "w")) == NULL) {
        perror(path);
        exit(1);
    }
    for (i = 0; i < N; i++)
        fprintf(fp, "User%zu@Domain%zu.example   login%zu, other%zu\n", i, i % 97, i, i);
    fclose(fp);
    clock_gettime(CLOCK_MONOTONIC, &start);
    map = map_open(path, &error);
    secs = elapsed(&start);
    tap_ok(map != NULL, "100,000-entry map loads");
    if (no_timing)
        tap_ok(1, "100,000 entries load in %.3f s # SKIP AM_NO_TIMING is set", secs);
    else
        tap_ok(secs < 0.5, "100,000 entries load in %.3f s (bound 0.5 s)", secs);
    if (map == NULL) {
        free(error);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "user%zu@domain%zu.example", i, i % 97);
        snprintf(want, sizeof(want), "login%zu, other%zu", i, i);
        if (map_lookup(map, key, &value) != MAP_FOUND || strcmp(value, want) != 0)
            bad++;
        snprintf(key, sizeof(key), "user%zu@domain%zu.example", i, (i + 1) % 97);
        if (map_lookup(map, key, &value) != MAP_NOTFOUND)
            bad++;
    }
    secs = elapsed(&start);
    tap_is_int((long)bad, 0, "all 100,000 keys found, 100,000 near misses not found");
    if (no_timing)
        tap_ok(1, "200,000 lookups in %.3f s # SKIP AM_NO_TIMING is set", secs);
    else
        tap_ok(secs < 0.5, "200,000 lookups in %.3f s (bound 0.5 s)", secs);
    map_free(&map);
    unlink(path);
}

int main(void)
{
    const char *top = getenv("top_srcdir");
    char path[128];

    snprintf(srcdir, sizeof(srcdir), "%s/t/data/maps", top ? top : AM_TOP_SRCDIR);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-maps.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_ok_map();
    test_error_rows();
    test_generated();
    test_scale();
    snprintf(path, sizeof(path), "%s/long.map", tmpdir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/exact.map", tmpdir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/cont.map", tmpdir);
    unlink(path);
    rmdir(tmpdir);
    return tap_done();
}
