/*
 * NAME
 *	test-addr - table-driven tests for addr_parse_list, addr_parse_path
 * DESCRIPTION
 *	Each list row gives a header value and either the mailboxes it must
 *	yield ("a@x,b@y", "" for none) or the exact error.  Rows with a
 *	generator build hostile inputs that are too large to write out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "tap.h"

enum gen {
    GEN_NONE,
    GEN_100K,         /* a 100 KB value */
    GEN_NEST_10000,   /* 10,000 nested comments */
    GEN_NEST_32,      /* exactly the depth bound */
    GEN_NEST_33,      /* one more */
    GEN_101_ADDRS,    /* one more than ADDR_MAX_LIST */
    GEN_100_ADDRS,    /* exactly ADDR_MAX_LIST */
    GEN_LONG_LOCAL,   /* a local part of 1,000 bytes */
    GEN_UNFOLDED_BIG, /* 60 KB of folded whitespace around one address */
};

struct list_row {
    const char *in;
    size_t len; /* 0: strlen(in) */
    enum gen gen;
    int rc;
    const char *want; /* rc 0: "a@x,b@y"; rc -1: the exact error */
};

static const struct list_row list_rows[] = {
    /* plain forms */
    {"alice@example.org", 0, GEN_NONE, 0, "alice@example.org"},
    {"Alice <alice@example.org>", 0, GEN_NONE, 0, "alice@example.org"},
    {"<alice@x>", 0, GEN_NONE, 0, "alice@x"},
    {"Alice <Alice@Example.ORG>", 0, GEN_NONE, 0, "Alice@Example.ORG"},
    {"a@x, b@y", 0, GEN_NONE, 0, "a@x,b@y"},
    /* display names that look like addresses */
    {"\"Bob <bob@x>\" <alice@y>", 0, GEN_NONE, 0, "alice@y"},
    {"alice@y (Bob <bob@x>)", 0, GEN_NONE, 0, "alice@y"},
    {"\"bob@x\" <alice@y>", 0, GEN_NONE, 0, "alice@y"},
    {"=?utf-8?q?B=C3=B6b?= <bob@x>", 0, GEN_NONE, 0, "bob@x"},
    {"=?utf-8?B?Qm9i?= =?iso-8859-1?q?_Sm=E9th?= <bob@x>", 0, GEN_NONE, 0, "bob@x"},
    {"\"\xc3\x9cn\xc3\xaf"
     "code\" <u@x>",
     0, GEN_NONE, 0, "u@x"},
    /* obsolete syntax */
    {"Bob.Smith <bob@x>", 0, GEN_NONE, 0, "bob@x"},
    {"Bob A. Smith <bob@x>", 0, GEN_NONE, 0, "bob@x"},
    {"a . b @ x . y", 0, GEN_NONE, 0, "a.b@x.y"},
    {", , a@x,,b@y,", 0, GEN_NONE, 0, "a@x,b@y"},
    {"<@route1.example,@route2.example:alice@x>", 0, GEN_NONE, 0, "alice@x"},
    {"\"a\".b@x", 0, GEN_NONE, 0, "a.b@x"},
    /* comments */
    {"(c1 (nested (deep))) alice@x (trailer)", 0, GEN_NONE, 0, "alice@x"},
    {"(with \\) escaped paren) a@x", 0, GEN_NONE, 0, "a@x"},
    {"a(in)@(the)x(middle)", 0, GEN_NONE, 0, "a@x"},
    {NULL, 0, GEN_NEST_32, 0, "a@x"},
    /* folding */
    {"Alice\r\n <alice@x>", 0, GEN_NONE, 0, "alice@x"},
    {"Alice\n\t<alice@x>,\n bob@y", 0, GEN_NONE, 0, "alice@x,bob@y"},
    {"alice@x\r\n", 0, GEN_NONE, 0, "alice@x"},
    {NULL, 0, GEN_UNFOLDED_BIG, 0, "big@x"},
    /* quoted local parts, canonical form */
    {"\"john.doe\"@x", 0, GEN_NONE, 0, "john.doe@x"},
    {"\"john doe\"@x", 0, GEN_NONE, 0, "\"john doe\"@x"},
    {"\"a\\\"b\"@x", 0, GEN_NONE, 0, "\"a\\\"b\"@x"},
    {"\"a\\b\"@x", 0, GEN_NONE, 0, "ab@x"},
    {"\"a..b\"@x", 0, GEN_NONE, 0, "\"a..b\"@x"},
    {"\"\"@x", 0, GEN_NONE, 0, "\"\"@x"},
    {"\"back\\\\slash\"@x", 0, GEN_NONE, 0, "\"back\\\\slash\"@x"},
    /* domains */
    {"a@[127.0.0.1]", 0, GEN_NONE, 0, "a@[127.0.0.1]"},
    {"A <a@[IPv6:2001:db8::1]>", 0, GEN_NONE, 0, "a@[IPv6:2001:db8::1]"},
    /* groups */
    {"team: a@x, b@y;", 0, GEN_NONE, 0, "a@x,b@y"},
    {"undisclosed-recipients:;", 0, GEN_NONE, 0, ""},
    {"team: a@x;, c@z", 0, GEN_NONE, 0, "a@x,c@z"},
    {"team: ,;", 0, GEN_NONE, 0, ""},
    {NULL, 0, GEN_100_ADDRS, 0, NULL},
    /* hostile: empty, unbalanced */
    {"", 0, GEN_NONE, -1, "empty address list"},
    {"  \r\n ", 0, GEN_NONE, -1, "empty address list"},
    {",,,", 0, GEN_NONE, -1, "empty address list"},
    {"\"alice@x", 0, GEN_NONE, -1, "unterminated quoted string"},
    {"Bob \"<bob@x> alice@y", 0, GEN_NONE, -1, "unterminated quoted string"},
    {"<alice@x", 0, GEN_NONE, -1, "unbalanced '<'"},
    {"alice@x>", 0, GEN_NONE, -1, "unbalanced '>'"},
    {"(alice@x", 0, GEN_NONE, -1, "unterminated comment"},
    {"alice@x)", 0, GEN_NONE, -1, "unbalanced ')'"},
    {"a@[1.2.3.4", 0, GEN_NONE, -1, "unterminated domain literal"},
    {"a@1.2.3.4]", 0, GEN_NONE, -1, "unbalanced ']'"},
    /* hostile: more than one address where one is expected */
    {"<a@b>@c", 0, GEN_NONE, -1, "more than one '@' in address"},
    {"a@b@c", 0, GEN_NONE, -1, "more than one '@' in address"},
    {"<a@b@c>", 0, GEN_NONE, -1, "more than one '@' in address"},
    {"<a@b> <c@d>", 0, GEN_NONE, -1, "more than one address in mailbox"},
    {"Alice <a@x> trailing", 0, GEN_NONE, -1, "unexpected text after address"},
    {"a@x b@y", 0, GEN_NONE, -1, "unexpected text after address"},
    /* hostile: bytes */
    {"a@b\0c", 5, GEN_NONE, -1, "NUL byte in header value"},
    {"a@b\rc", 0, GEN_NONE, -1, "bare CR in header value"},
    {"a@b\r", 0, GEN_NONE, -1, "bare CR in header value"},
    {"a@x\nb@y", 0, GEN_NONE, -1, "line break not followed by whitespace"},
    {"Bj\xc3\xb6rn <b@x>", 0, GEN_NONE, -1, "8-bit character outside quoted string"},
    {"b\xc3\xb6@x", 0, GEN_NONE, -1, "8-bit character outside quoted string"},
    {"a@x\x01", 0, GEN_NONE, -1, "control character in header value"},
    {"\"a\x7f\"@x", 0, GEN_NONE, -1, "control character in quoted string"},
    {"\\a@x", 0, GEN_NONE, -1, "backslash outside quoted string"},
    {"a@[1.2\xc3\xb6]", 0, GEN_NONE, -1, "invalid character in domain literal"},
    /* hostile: size */
    {NULL, 0, GEN_100K, -1, "header value too long"},
    {NULL, 0, GEN_NEST_10000, -1, "comments nested too deeply"},
    {NULL, 0, GEN_NEST_33, -1, "comments nested too deeply"},
    {NULL, 0, GEN_101_ADDRS, -1, "too many addresses"},
    {NULL, 0, GEN_LONG_LOCAL, -1, "address too long"},
    /* hostile: structure */
    {"alice", 0, GEN_NONE, -1, "address has no domain"},
    {"Alice <alice>", 0, GEN_NONE, -1, "address has no domain"},
    {"alice@", 0, GEN_NONE, -1, "missing domain"},
    {"@x", 0, GEN_NONE, -1, "missing local part"},
    {"<>", 0, GEN_NONE, -1, "empty address <>"},
    {"a..b@x", 0, GEN_NONE, -1, "invalid local part"},
    {".a@x", 0, GEN_NONE, -1, "invalid local part"},
    {"a b@x", 0, GEN_NONE, -1, "invalid local part"},
    {"a@b.", 0, GEN_NONE, -1, "invalid domain"},
    {"a@\"x\"", 0, GEN_NONE, -1, "quoted string in domain"},
    {"team: a@x", 0, GEN_NONE, -1, "unterminated group (missing ';')"},
    {"a: b: c@x;;", 0, GEN_NONE, -1, "nested group"},
    {"a@x;", 0, GEN_NONE, -1, "unexpected ';'"},
    {"team:;b@y", 0, GEN_NONE, -1, "unexpected text after group"},
    {": a@x;", 0, GEN_NONE, -1, "invalid group name"},
    {".Bob <b@x>", 0, GEN_NONE, -1, "invalid display name"},
};

struct path_row {
    const char *in;
    int rc;
    const char *want;
};

static const struct path_row path_rows[] = {
    {"<user@example.com>", 0, "user@example.com"},
    {"<User@Example.COM>", 0, "User@Example.COM"},
    {"user@example.com", 0, "user@example.com"},
    {"<>", 0, ""},
    {"", 0, ""},
    {" <a@x> ", 0, "a@x"},
    {"<@a.example,@b.example:user@c.example>", 0, "user@c.example"},
    {"<\"john\"@x>", 0, "john@x"},
    {"<\"john doe\"@x>", 0, "\"john doe\"@x"},
    {"<\"a\\\"b\"@x>", 0, "\"a\\\"b\"@x"},
    {"<a@[127.0.0.1]>", 0, "a@[127.0.0.1]"},
    {"<a+tag@mail_host.example>", 0, "a+tag@mail_host.example"},
    {"<a@x", -1, "unbalanced '<'"},
    {"a@x>", -1, "unbalanced '>'"},
    {"<alice>", -1, "address has no domain"},
    {"<a@b@c>", -1, "more than one '@' in address"},
    {"<a..b@x>", -1, "invalid local part"},
    {"<@x>", -1, "invalid source route"},
    {"<a@x.>", -1, "invalid domain"},
    {"<a@exa mple>", -1, "invalid character in domain"},
    {"<a@[1.2.3.4>", -1, "invalid address literal"},
    {"<\"open@x>", -1, "unterminated quoted string"},
    {"<a@x\r\n>", -1, "control character in address"},
    {"<b\xc3\xb6@x>", -1, "8-bit character in address"},
    {"<\"a\"b@x>", -1, "invalid local part"},
};

/* gen_input - build a generated row's input; caller frees */
static char *gen_input(enum gen gen, size_t *len_r)
{
    size_t size = 128 * 1024, n = 0, i;
    char *s = malloc(size);

    if (s == NULL)
        abort();
    switch (gen) {
    case GEN_100K:
        memset(s, 'a', 100 * 1024);
        memcpy(s + 100 * 1024, "@x", 3);
        break;
    case GEN_NEST_10000:
    case GEN_NEST_32:
    case GEN_NEST_33: {
        size_t depth = gen == GEN_NEST_10000 ? 10000 : gen == GEN_NEST_32 ? 32 : 33;

        for (i = 0; i < depth; i++)
            s[n++] = '(';
        for (i = 0; i < depth; i++)
            s[n++] = ')';
        memcpy(s + n, " a@x", 5);
        break;
    }
    case GEN_100_ADDRS:
    case GEN_101_ADDRS: {
        size_t count = gen == GEN_100_ADDRS ? ADDR_MAX_LIST : ADDR_MAX_LIST + 1;

        for (i = 0; i < count; i++)
            n += (size_t)snprintf(s + n, size - n, "%su%zu@x", i ? ", " : "", i);
        break;
    }
    case GEN_LONG_LOCAL:
        memset(s, 'l', 1000);
        memcpy(s + 1000, "@x", 3);
        break;
    case GEN_UNFOLDED_BIG:
        for (i = 0; i < 10000; i++) {
            memcpy(s + n, "\r\n    ", 6);
            n += 6;
        }
        memcpy(s + n, "<big@x>", 8);
        break;
    case GEN_NONE:
        break;
    }
    *len_r = strlen(s);
    return s;
}

/* join_addrs - "a@x,b@y" for a parsed list; caller frees */
static char *join_addrs(const struct addr_list *list)
{
    size_t i, size = 1;
    char *out;

    for (i = 0; i < list->n; i++)
        size += strlen(list->v[i].addr) + 1;
    if ((out = malloc(size)) == NULL)
        abort();
    *out = '\0';
    for (i = 0; i < list->n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, list->v[i].addr);
    }
    return out;
}

/* show - printable form of a row input for test names */
static const char *show(const char *in, size_t len, char *buf, size_t size)
{
    size_t i, n = 0;

    for (i = 0; i < len && n + 5 < size && i < 48; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c >= 0x20 && c < 0x7f)
            buf[n++] = (char)c;
        else
            n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
    }
    if (i < len && n + 4 < size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

/* test_list_rows - run the address-list table */
static void test_list_rows(void)
{
    size_t r;

    for (r = 0; r < sizeof(list_rows) / sizeof(list_rows[0]); r++) {
        const struct list_row *row = &list_rows[r];
        struct addr_list list = {99, NULL};
        const char *error = NULL;
        char name[256], *gen = NULL, *got;
        const char *in = row->in;
        size_t len = row->len;
        int rc;

        if (row->gen != GEN_NONE)
            in = gen = gen_input(row->gen, &len);
        else if (len == 0)
            len = strlen(in);
        show(in, len, name, sizeof(name));
        rc = addr_parse_list_n(in, len, &list, &error);
        if (row->rc == 0) {
            tap_is_int(rc, 0, "list row %zu parses: %s", r, name);
            if (rc != 0)
                tap_diag("error: %s", error);
            got = join_addrs(&list);
            if (row->want != NULL) {
                tap_is_str(got, row->want, "list row %zu mailboxes: %s", r, name);
            } else {
                tap_is_int((long)list.n, ADDR_MAX_LIST, "list row %zu holds %d mailboxes", r,
                           ADDR_MAX_LIST);
            }
            free(got);
        } else {
            tap_ok(rc == -1 && list.n == 0 && list.v == NULL, "list row %zu refused: %s", r, name);
            tap_is_str(rc == -1 ? error : NULL, row->want, "list row %zu reason", r);
        }
        addr_list_free(&list);
        free(gen);
    }
}

/* test_list_fields - local and domain parts, and the NUL-terminated entry point */
static void test_list_fields(void)
{
    struct addr_list list = {0, NULL};
    const char *error = NULL;

    tap_is_int(addr_parse_list("Alice <Alice@Example.ORG>, \"john doe\"@[10.0.0.1]", &list, &error),
               0, "addr_parse_list: two mailboxes");
    tap_is_int((long)list.n, 2, "two mailboxes");
    if (list.n == 2) {
        tap_is_str(list.v[0].local, "Alice", "local part case preserved");
        tap_is_str(list.v[0].domain, "Example.ORG", "domain case preserved");
        tap_is_str(list.v[1].local, "\"john doe\"", "quoted local part kept quoted");
        tap_is_str(list.v[1].domain, "[10.0.0.1]", "domain literal kept with brackets");
    }
    addr_list_free(&list);
    tap_ok(list.n == 0 && list.v == NULL, "addr_list_free empties the list");
    addr_list_free(&list); /* twice is harmless */
    tap_is_int(addr_parse_list("alice@x\0, evil@y", &list, &error), 0,
               "C string stops at NUL (use addr_parse_list_n for a known length)");
    tap_is_int((long)list.n, 1, "only the part before NUL is seen");
    addr_list_free(&list);
    tap_is_int(addr_parse_list(NULL, &list, &error), -1, "NULL value refused");
}

/* test_path_rows - run the MAIL FROM table */
static void test_path_rows(void)
{
    size_t r;

    for (r = 0; r < sizeof(path_rows) / sizeof(path_rows[0]); r++) {
        const struct path_row *row = &path_rows[r];
        const char *error = NULL;
        char *got = NULL, name[256];
        int rc;

        show(row->in, strlen(row->in), name, sizeof(name));
        rc = addr_parse_path(row->in, &got, &error);
        if (row->rc == 0) {
            tap_is_int(rc, 0, "path row %zu parses: %s", r, name);
            tap_is_str(got, row->want, "path row %zu address", r);
        } else {
            tap_ok(rc == -1 && got == NULL, "path row %zu refused: %s", r, name);
            tap_is_str(rc == -1 ? error : NULL, row->want, "path row %zu reason", r);
        }
        free(got);
    }
}

/* test_path_bounds - length limits of addr_parse_path */
static void test_path_bounds(void)
{
    char buf[2048], *got = NULL;
    const char *error = NULL;

    buf[0] = '<';
    memset(buf + 1, 'a', 1100);
    memcpy(buf + 1101, "@x>", 4);
    tap_is_int(addr_parse_path(buf, &got, &error), -1, "1,100-byte path refused");
    tap_is_str(error, "address too long", "path too long reason");
    memset(buf + 1, 'a', 990);
    memcpy(buf + 991, "@x>", 4);
    tap_is_int(addr_parse_path(buf, &got, &error), 0, "992-byte address accepted");
    tap_is_int(got ? (long)strlen(got) : -1, 992, "whole address returned");
    free(got);
    tap_is_int(addr_parse_path(NULL, &got, &error), -1, "NULL path refused");
}

/* test_lower - addr_lower folds ASCII only */
static void test_lower(void)
{
    char *s = addr_lower("Alice+Tag@Example.ORG");

    tap_is_str(s, "alice+tag@example.org", "addr_lower folds ASCII");
    free(s);
    s = addr_lower("\"\xc3\x9c\"@X");
    tap_is_str(s, "\"\xc3\x9c\"@x", "addr_lower leaves 8-bit bytes alone");
    free(s);
    tap_ok(addr_lower(NULL) == NULL, "addr_lower(NULL) is NULL");
}

int main(void)
{
    test_list_rows();
    test_list_fields();
    test_path_rows();
    test_path_bounds();
    test_lower();
    return tap_done();
}
