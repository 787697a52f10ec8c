/*
 * NAME
 *	test-authres - unit tests of the Authentication-Results writer and parser
 * SYNOPSIS
 *	t/test-authres [--dump FILE]
 *	t/test-authres --parse < VALUE
 * DESCRIPTION
 *	Table-driven TAP tests: the builder's argument checks and caps; the
 *	writer on ordinary, quoted, folded and hostile input (every header it
 *	writes must be printable ASCII with "\n\t" folding, lines of at most
 *	78 columns where possible, and must parse back to exactly the results
 *	it was given); the parser on RFC 8601 examples and on broken input;
 *	authres_is_ours() on forged, foreign and unparsable values; and a
 *	seeded random round trip.
 *
 *	With --dump FILE every formatted header is also written to FILE, one
 *	JSON object per line with the value and the results our parser read
 *	from it, for t/authres-validate.sh to check with python3-authres.
 *	With --parse it only prints that JSON line for the value on stdin
 *	(exit 1 and the error when it does not parse).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "tap.h"

#define ID "mx.example.org"
#define MAXP AUTHRES_MAX_PROPS

static FILE *dump;

struct prop_case {
    const char *name;
    const char *value;
    const char *want; /* parsed value; NULL: same as value */
};

struct result_case {
    const char *method;
    const char *result;
    const char *reason;
    const char *comment;
    const char *want_reason; /* NULL: same as reason */
    const char *want_comment;
    struct prop_case props[MAXP];
};

struct format_case {
    const char *name;
    struct result_case res[4];
    const char *want; /* exact header value; NULL: not compared */
};

/* ---- helpers ---- */

/* json_str - write a JSON string (or null) */
static void json_str(FILE *fp, const char *s)
{
    if (s == NULL) {
        fputs("null", fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            fprintf(fp, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(fp, "\\u%04x", c);
        else
            fputc(c, fp);
    }
    fputc('"', fp);
}

/* record_write - one JSON line: a header value and our parse of it; -1 if unparsable */
static int record_write(FILE *fp, const char *name, const char *value)
{
    struct authres *ar;
    char *id;
    const char *error;
    size_t i, j;

    if (authres_parse(value, &ar, &id, &error) < 0) {
        if (fp == stdout) {
            fprintf(fp, "parse error: %s\n", error);
        } else {
            fputs("{\"name\": ", fp);
            json_str(fp, name);
            fputs(", \"value\": ", fp);
            json_str(fp, value);
            fputs(", \"error\": ", fp);
            json_str(fp, error);
            fputs("}\n", fp);
        }
        return -1;
    }
    fputs("{\"name\": ", fp);
    json_str(fp, name);
    fputs(", \"value\": ", fp);
    json_str(fp, value);
    fputs(", \"id\": ", fp);
    json_str(fp, id);
    fputs(", \"results\": [", fp);
    for (i = 0; i < ar->n; i++) {
        const struct authres_result *r = ar->v[i];

        fprintf(fp, "%s{\"method\": ", i ? ", " : "");
        json_str(fp, r->method);
        fputs(", \"result\": ", fp);
        json_str(fp, r->result);
        fputs(", \"reason\": ", fp);
        json_str(fp, r->reason);
        fputs(", \"props\": [", fp);
        for (j = 0; j < r->nprops; j++) {
            fprintf(fp, "%s[\"%s.%s\", ", j ? ", " : "", r->props[j].ptype, r->props[j].property);
            json_str(fp, r->props[j].value);
            fputs("]", fp);
        }
        fputs("]}", fp);
    }
    fputs("]}\n", fp);
    free(id);
    authres_free(&ar);
    return 0;
}

/* dump_header - write one formatted header to the dump file, if any */
static void dump_header(const char *name, const char *value)
{
    if (dump != NULL && value != NULL)
        record_write(dump, name, value);
}

/* parse_stdin - --parse mode: one header value on stdin, its record on stdout */
static int parse_stdin(void)
{
    static char value[AUTHRES_MAX_PARSE + 2];
    size_t len = fread(value, 1, sizeof(value) - 1, stdin);

    value[len] = 0;
    return record_write(stdout, "stdin", value) == 0 ? 0 : 1;
}

/* header_shape_ok - printable ASCII, "\n\t" folding, no blank line, line widths */
static int header_shape_ok(const char *value, size_t width, const char **why)
{
    size_t col = 24, line_chars = 1;
    const char *p;

    for (p = value; *p; p++) {
        if (*p == '\n') {
            if (p[1] != '\t') {
                *why = "LF not followed by TAB";
                return 0;
            }
            if (line_chars == 0) {
                *why = "white-space-only line";
                return 0;
            }
            col = 8;
            line_chars = 0;
            p++;
            continue;
        }
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
            *why = "byte outside printable ASCII";
            return 0;
        }
        if (++col > width) {
            *why = "line too long";
            return 0;
        }
        line_chars++;
    }
    return 1;
}

/* value_clean - the documented cleaning: printable ASCII, "?" else, cut with "..." */
static char *value_clean(const char *s, size_t cap)
{
    size_t len = strlen(s), i;
    char *out;

    if (len > cap)
        len = cap;
    out = malloc(len + 1);
    for (i = 0; i < len; i++)
        out[i] = ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e) ? s[i] : '?';
    if (strlen(s) > cap)
        memcpy(out + cap - 3, "...", 3);
    out[len] = 0;
    return out;
}

/* esc - printable form of a test value for a TAP line (4 rotating buffers) */
static const char *esc(const char *s)
{
    static char bufs[4][256];
    static int next;
    char *out = bufs[next++ % 4];
    size_t o = 0;

    for (; s != NULL && *s && o < sizeof(bufs[0]) - 5; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = 0;
    return s == NULL ? "(null)" : out;
}

/* lower - ASCII lower case in place */
static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* streq - NULL-safe string equality */
static int streq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* check_formatted - shape, parse-back, is_ours and dump of one formatted header */
static void check_formatted(const char *name, const char *value, const struct authres *want,
                            size_t width)
{
    struct authres *got = NULL;
    char *id = NULL;
    const char *error = NULL, *why = "";
    size_t i, j, k;
    int same = 1, used[MAXP];

    tap_ok(value != NULL, "%s: formatted", name);
    if (value == NULL)
        return;
    tap_ok(header_shape_ok(value, width, &why), "%s: shape (%s)", name, why);
    tap_ok(authres_parse(value, &got, &id, &error) == 0, "%s: parses back (%s)", name,
           error ? error : "ok");
    if (got == NULL)
        return;
    tap_is_str(id, ID, "%s: authserv-id", name);
    tap_is_int((long)got->n, (long)want->n, "%s: result count", name);
    for (i = 0; i < got->n && i < want->n; i++) {
        const struct authres_result *g = got->v[i], *w = want->v[i];

        if (!streq(g->method, w->method) || !streq(g->result, w->result) ||
            !streq(g->reason, w->reason) || !streq(g->comment, w->comment) ||
            g->nprops != w->nprops) {
            tap_diag("result %zu: got %s=%s reason=%s comment=%s nprops=%zu", i, g->method,
                     g->result, g->reason ? g->reason : "-", g->comment ? g->comment : "-",
                     g->nprops);
            same = 0;
            continue;
        }
        memset(used, 0, sizeof(used));
        for (j = 0; j < w->nprops; j++) {
            for (k = 0; k < g->nprops; k++)
                if (!used[k] && streq(g->props[k].ptype, w->props[j].ptype) &&
                    streq(g->props[k].property, w->props[j].property) &&
                    streq(g->props[k].value, w->props[j].value))
                    break;
            if (k == g->nprops) {
                tap_diag("result %zu: property %s.%s=%s missing", i, w->props[j].ptype,
                         w->props[j].property, w->props[j].value);
                same = 0;
            } else {
                used[k] = 1;
            }
        }
    }
    tap_ok(same, "%s: same results", name);
    tap_ok(authres_is_ours(value, ID), "%s: is ours", name);
    tap_ok(!authres_is_ours(value, "example.net"), "%s: not another id's", name);
    dump_header(name, value);
    free(id);
    authres_free(&got);
}

/* expect_add - add a result to the expected model (parsed form) */
static struct authres_result *expect_add(struct authres *want, const struct result_case *rc)
{
    struct authres_result *w = calloc(1, sizeof(*w));

    w->method = strdup(rc->method);
    w->result = strdup(rc->result);
    if (rc->want_reason || rc->reason)
        w->reason = strdup(rc->want_reason ? rc->want_reason : rc->reason);
    if (rc->want_comment || rc->comment)
        w->comment = strdup(rc->want_comment ? rc->want_comment : rc->comment);
    want->v[want->n++] = w;
    return w;
}

/* expect_prop - add an expected property */
static void expect_prop(struct authres_result *w, const char *name, const char *value)
{
    const char *dot = strchr(name, '.');
    struct authres_prop *p = &w->props[w->nprops++];

    p->ptype = strndup(name, (size_t)(dot - name));
    p->property = strdup(dot + 1);
    p->value = strdup(value);
}

/* ---- formatting ---- */

static const struct format_case format_cases[] = {
    {"single spf",
     {{"spf", "pass", NULL, NULL, NULL, NULL, {{"smtp.mailfrom", "user@example.com", NULL}}}},
     ID ";\n\tspf=pass smtp.mailfrom=user@example.com"},
    {"no results", {{NULL}}, ID "; none"},
    {"several",
     {{"auth", "pass", NULL, NULL, NULL, NULL, {{"smtp.auth", "alice", NULL}}},
      {"spf",
       "pass",
       NULL,
       NULL,
       NULL,
       NULL,
       {{"smtp.mailfrom", "example.com", NULL}, {"smtp.helo", "mail.example.com", NULL}}},
      {"dkim",
       "pass",
       NULL,
       "2048-bit key",
       NULL,
       NULL,
       {{"header.d", "example.com", NULL},
        {"header.i", "@example.com", NULL},
        {"header.b", "AbC/+12x", NULL},
        {"header.s", "sel1", NULL},
        {"header.a", "rsa-sha256", NULL}}},
      {"dmarc",
       "pass",
       NULL,
       "p=reject dis=none",
       NULL,
       NULL,
       {{"header.from", "example.com", NULL}, {"policy.dmarc", "reject", NULL}}}},
     ID ";\n\tauth=pass smtp.auth=alice;\n\tspf=pass smtp.mailfrom=example.com "
        "smtp.helo=mail.example.com;\n\tdkim=pass (2048-bit key) header.d=example.com "
        "header.i=@example.com\n\theader.s=sel1 header.a=rsa-sha256 "
        "header.b=\"AbC/+12x\";\n\tdmarc=pass (p=reject dis=none) header.from=example.com\n\t"
        "policy.dmarc=reject"},
    {"keywords lower-cased",
     {{"SPF", "SoftFail", NULL, NULL, NULL, NULL, {{"SMTP.MailFrom", "X@Example.COM", NULL}}}},
     ID ";\n\tspf=softfail smtp.mailfrom=X@Example.COM"},
    {"reason quoted",
     {{"dkim",
       "fail",
       "signature verification failed",
       NULL,
       NULL,
       NULL,
       {{"header.d", "example.com", NULL}}}},
     ID ";\n\tdkim=fail reason=\"signature verification failed\" header.d=example.com"},
    {"reason token",
     {{"dkim", "permerror", "no-key", NULL, NULL, NULL, {{NULL}}}},
     ID ";\n\tdkim=permerror reason=no-key"},
    {"local part quoted",
     {{"spf",
       "pass",
       NULL,
       NULL,
       NULL,
       NULL,
       {{"smtp.mailfrom", "john doe@example.com", "\"john doe\"@example.com"}}}},
     ID ";\n\tspf=pass smtp.mailfrom=\"john doe\"@example.com"},
    {"quoted local part kept",
     {{"spf",
       "pass",
       NULL,
       NULL,
       NULL,
       NULL,
       {{"smtp.mailfrom", "\"john doe\"@example.com", NULL}}}},
     ID ";\n\tspf=pass smtp.mailfrom=\"john doe\"@example.com"},
    {"odd addresses",
     {{"spf",
       "pass",
       NULL,
       NULL,
       NULL,
       NULL,
       {{"smtp.mailfrom", "a..b@example.com", "\"a..b\"@example.com"},
        {"smtp.helo", "[192.0.2.1]", NULL},
        {"header.from", "a@b@example.com", "\"a@b\"@example.com"},
        {"header.sender", "user@example.com.", NULL},
        {"header.i", "@example.com", NULL},
        {"smtp.rcptto", "o'brien+tag@example.com", NULL}}}},
     NULL},
    {"address literal quoted",
     {{"iprev", "pass", NULL, NULL, NULL, NULL, {{"smtp.mailfrom", "user@[192.0.2.1]", NULL}}}},
     ID ";\n\tiprev=pass smtp.mailfrom=\"user@[192.0.2.1]\""},
    {"quoted values last",
     {{"dkim",
       "pass",
       NULL,
       NULL,
       NULL,
       NULL,
       {{"header.b", "ab/cd", NULL}, {"header.d", "example.com", NULL}}}},
     ID ";\n\tdkim=pass header.d=example.com header.b=\"ab/cd\""},
    {"fold long result",
     {{"dkim",
       "pass",
       "good signature from a long-winded signer",
       "1024-bit key; unprotected key, test mode",
       NULL,
       NULL,
       {{"header.d", "a-rather-long-subdomain.of-a-rather-long-domain.example.com", NULL},
        {"header.i", "someone.with.a.long.name@a-rather-long-subdomain.example.com", NULL},
        {"header.s", "selector-2024-01-long-enough", NULL},
        {"header.a", "rsa-sha256", NULL},
        {"header.b", "AbCdEfGh", NULL}}}},
     NULL},
    {"hostile CR LF injection",
     {{"spf",
       "pass",
       NULL,
       NULL,
       NULL,
       NULL,
       {{"smtp.helo", "evil\r\nX-Injected: yes", "evil??X-Injected: yes"}}}},
     ID ";\n\tspf=pass smtp.helo=\"evil??X-Injected: yes\""},
    {"hostile semicolon and quotes",
     {{"spf",
       "fail",
       "x\"; dkim=pass header.d=bank.example",
       NULL,
       NULL,
       NULL,
       {{"smtp.mailfrom", "a;b\"c\\d@example.com", "\"a;b\\\"c\\\\d\"@example.com"}}}},
     ID ";\n\tspf=fail reason=\"x\\\"; dkim=pass header.d=bank.example\"\n\t"
        "smtp.mailfrom=\"a;b\\\"c\\\\d\"@example.com"},
    {"hostile result injection in value",
     {{"spf",
       "fail",
       NULL,
       NULL,
       NULL,
       NULL,
       {{"smtp.helo", "x; dkim=pass header.d=bank.example", NULL}}}},
     NULL},
    {"hostile comment",
     {{"dkim",
       "neutral",
       NULL,
       "unbalanced (( \\ ) ) ) \"",
       NULL,
       NULL,
       {{"header.d", "example.com", NULL}}}},
     ID ";\n\tdkim=neutral (unbalanced \\(\\( \\\\ \\) \\) \\) \") header.d=example.com"},
    {"hostile 8-bit",
     {{"dkim",
       "pass",
       "\xc3\xa9t\xc3\xa9",
       NULL,
       "??t??",
       NULL,
       {{"header.d", "caf\xc3\xa9.example", "caf??.example"}, {"header.s", "\x7f\x01", "??"}}}},
     NULL},
    {"hostile backslashes",
     {{"spf",
       "none",
       NULL,
       NULL,
       NULL,
       NULL,
       {{"smtp.helo", "\\\\\\", NULL},
        {"smtp.mailfrom", "\\\"@example.com", "\"\\\\\\\"\"@example.com"}}}},
     ID ";\n\tspf=none smtp.mailfrom=\"\\\\\\\"\"@example.com smtp.helo=\"\\\\\\\\\\\\\""},
    {"hostile NUL cuts the C string",
     {{"spf", "pass", NULL, NULL, NULL, NULL, {{"smtp.helo", "abc\0def", "abc"}}}},
     ID ";\n\tspf=pass smtp.helo=abc"},
    {"hostile tab and folding in reason",
     {{"spf", "pass", "a\r\n\tb", NULL, "a???b", NULL, {{NULL}}}},
     ID ";\n\tspf=pass reason=\"a???b\""},
    {"hostile two quoted values",
     {{"spf",
       "pass",
       NULL,
       NULL,
       NULL,
       NULL,
       {{"smtp.helo", "a b", NULL}, {"smtp.mailfrom", "c d", NULL}, {"policy.x", "ok", NULL}}}},
     ID ";\n\tspf=pass policy.x=ok smtp.helo=\"a b\" smtp.mailfrom=\"c d\""},
};

/* format_case_run - build, format and check one table row */
static void format_case_run(const struct format_case *fc)
{
    struct authres *ar = authres_new(), *want = authres_new();
    const struct result_case *rc;
    struct authres_result *res, *w;
    const struct prop_case *pc;
    char *value;
    size_t i, j;
    int built = 1;

    for (i = 0; i < 4 && (rc = &fc->res[i])->method != NULL; i++) {
        res = authres_add(ar, rc->method, rc->result);
        built &= res != NULL;
        if (rc->reason)
            built &= authres_set_reason(res, rc->reason) == 0;
        if (rc->comment)
            built &= authres_set_comment(res, rc->comment) == 0;
        w = expect_add(want, rc);
        lower(w->method);
        lower(w->result);
        for (j = 0; j < MAXP && (pc = &rc->props[j])->name != NULL; j++) {
            char lname[64];

            built &= authres_add_prop(res, pc->name, pc->value) == 0;
            snprintf(lname, sizeof(lname), "%s", pc->name);
            lower(lname);
            expect_prop(w, lname, pc->want ? pc->want : pc->value);
        }
    }
    tap_ok(built, "%s: built", fc->name);
    value = authres_format(ID, ar);
    if (fc->want != NULL)
        tap_is_str(value, fc->want, "%s: exact value", fc->name);
    check_formatted(fc->name, value, want, AUTHRES_FOLD_WIDTH);
    free(value);
    authres_free(&ar);
    authres_free(&want);
}

/* test_big_values - 10 KB values are capped, cleaned and still parse */
static void test_big_values(void)
{
    static const char *const fills[] = {"A", "x\r\n", "\xff", "\"", "a@", " ;"};
    size_t i, k;

    for (i = 0; i < sizeof(fills) / sizeof(fills[0]); i++) {
        char name[64], *big = malloc(10241), *value, *clean, *clean_r;
        struct authres *ar = authres_new(), *want = authres_new();
        struct authres_result *res, *w;
        static const struct result_case rc = {"spf", "pass", NULL, NULL, NULL, NULL, {{NULL}}};
        size_t flen = strlen(fills[i]);

        for (k = 0; k < 10240; k++)
            big[k] = fills[i][k % flen];
        big[10240] = 0;
        snprintf(name, sizeof(name), "10 KB value %zu", i);
        res = authres_add(ar, "spf", "pass");
        tap_ok(authres_add_prop(res, "smtp.helo", big) == 0 && authres_set_reason(res, big) == 0 &&
                   authres_set_comment(res, big) == 0,
               "%s: built", name);
        clean = value_clean(big, AUTHRES_MAX_VALUE);
        clean_r = value_clean(big, AUTHRES_MAX_REASON);
        tap_is_int((long)strlen(res->props[0].value), AUTHRES_MAX_VALUE, "%s: value capped", name);
        tap_is_str(res->props[0].value, clean, "%s: value cleaned", name);
        tap_is_int((long)strlen(res->reason), AUTHRES_MAX_REASON, "%s: reason capped", name);
        w = expect_add(want, &rc);
        w->reason = strdup(clean_r);
        w->comment = strdup(clean_r);
        /* "a@a@...a@..." keeps no domain: it is one quoted string */
        expect_prop(w, "smtp.helo", clean);
        value = authres_format(ID, ar);
        check_formatted(name, value, want, 998);
        tap_ok(value && strlen(value) < 4 * AUTHRES_MAX_VALUE + 2 * AUTHRES_MAX_REASON * 2,
               "%s: header size bounded", name);
        free(value);
        free(clean);
        free(clean_r);
        free(big);
        authres_free(&ar);
        authres_free(&want);
    }
}

/* test_header_cap - the header stays below AUTHRES_MAX_HEADER with whole results */
static void test_header_cap(void)
{
    struct authres *ar = authres_new(), *got = NULL;
    struct authres_result *res;
    char big[AUTHRES_MAX_VALUE + 1], *value, *id = NULL;
    const char *error = NULL;
    size_t i, j;
    int full = 1;

    memset(big, '"', AUTHRES_MAX_VALUE);
    big[AUTHRES_MAX_VALUE] = 0;
    for (i = 0; i < AUTHRES_MAX_RESULTS; i++) {
        res = authres_add(ar, "dkim", "pass");
        for (j = 0; j < AUTHRES_MAX_PROPS; j++)
            authres_add_prop(res, "header.b", big);
    }
    value = authres_format(ID, ar);
    tap_ok(value != NULL && strlen(value) <= AUTHRES_MAX_HEADER, "cap: header within %d bytes",
           AUTHRES_MAX_HEADER);
    tap_ok(value && authres_parse(value, &got, &id, &error) == 0, "cap: parses (%s)",
           error ? error : "ok");
    tap_ok(got && got->n > 0 && got->n < AUTHRES_MAX_RESULTS, "cap: some results left out (%zu)",
           got ? got->n : 0);
    for (i = 0; got && i < got->n; i++)
        full &= got->v[i]->nprops == AUTHRES_MAX_PROPS &&
                strcmp(got->v[i]->props[AUTHRES_MAX_PROPS - 1].value, big) == 0;
    tap_ok(got && full, "cap: every result written is complete");
    free(value);
    free(id);
    authres_free(&got);
    authres_free(&ar);
}

/* test_hand_filled - invalid keywords in a struct filled by hand are skipped */
static void test_hand_filled(void)
{
    struct authres ar = {0};
    struct authres_result bad = {0}, good = {0};
    char *value;

    bad.method = "sp f";
    bad.result = "pass";
    good.method = "spf";
    good.result = "pass";
    good.nprops = 2;
    good.props[0] = (struct authres_prop){"smtp", "mail;from", "x"};
    good.props[1] = (struct authres_prop){"smtp", "helo", "a\nb"};
    ar.n = 2;
    ar.v[0] = &bad;
    ar.v[1] = &good;
    value = authres_format(ID, &ar);
    tap_is_str(value, ID ";\n\tspf=pass smtp.helo=\"a?b\"", "hand-filled: bad parts skipped");
    free(value);
    ar.n = 1;
    value = authres_format(ID, &ar);
    tap_is_str(value, ID "; none", "hand-filled: no valid result is none");
    free(value);
    value = authres_format(ID, NULL);
    tap_is_str(value, ID "; none", "NULL list is none");
    free(value);
}

/* test_ids - which authserv-ids can be written */
static void test_ids(void)
{
    static const struct {
        const char *id;
        int ok;
    } rows[] = {
        {"mx.example.org", 1},
        {"localhost", 1},
        {"a-b_c.example", 1},
        {"", 0},
        {"a b", 0},
        {"a;b", 0},
        {"mx.example.org.", 0},
        {".example", 0},
        {"a..b", 0},
        {"x\r\nY: z", 0},
        {"a/b", 0},
        {"\"quoted\"", 0},
        {"caf\xc3\xa9", 0},
        {"a@b", 0},
        {"a=b", 0},
        {"(c)", 0},
    };
    size_t i;
    char *value, longid[300];

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        value = authres_format(rows[i].id, NULL);
        tap_ok((value != NULL) == rows[i].ok && authres_id_valid(rows[i].id) == rows[i].ok,
               "authserv-id \"%s\" %s", esc(rows[i].id), rows[i].ok ? "accepted" : "refused");
        free(value);
    }
    tap_ok(authres_format(NULL, NULL) == NULL && !authres_id_valid(NULL), "NULL id refused");
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = 0;
    tap_ok(!authres_id_valid(longid), "300-byte id refused");
    longid[255] = 0;
    tap_ok(authres_id_valid(longid), "255-byte id accepted");
}

/* ---- builder ---- */

/* test_builder - argument checks and caps of the builder */
static void test_builder(void)
{
    static const char *const bad_kw[] = {"",  "spf pass", "-x",  "sp;f", "sp.f",
                                         "é", "a=b",      "(x)", "x\n"};
    static const char *const bad_names[] = {"smtp",       "smtp.",       ".helo", "sm tp.helo",
                                            "smtp.he lo", "smtp.helo.x", "",      "smtp.-x"};
    struct authres *ar = authres_new();
    struct authres_result *res;
    char kw65[66];
    size_t i;

    for (i = 0; i < sizeof(bad_kw) / sizeof(bad_kw[0]); i++) {
        tap_ok(authres_add(ar, bad_kw[i], "pass") == NULL, "method \"%s\" refused", esc(bad_kw[i]));
        tap_ok(authres_add(ar, "spf", bad_kw[i]) == NULL, "result \"%s\" refused", esc(bad_kw[i]));
    }
    memset(kw65, 'a', 65);
    kw65[65] = 0;
    tap_ok(authres_add(ar, kw65, "pass") == NULL, "65-byte method refused");
    kw65[64] = 0;
    tap_ok(authres_add(ar, kw65, "pass") != NULL, "64-byte method accepted");
    tap_ok(authres_add(NULL, "spf", "pass") == NULL && authres_add(ar, NULL, "pass") == NULL,
           "NULL list or method refused");
    res = authres_add(ar, "spf", "pass");
    for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
        tap_ok(authres_add_prop(res, bad_names[i], "x") == -1, "property \"%s\" refused",
               bad_names[i]);
    tap_ok(authres_add_prop(res, "smtp.helo", "") == -1, "empty value refused");
    tap_ok(authres_add_prop(res, "smtp.helo", NULL) == -1, "NULL value refused");
    tap_ok(authres_add_prop(NULL, "smtp.helo", "x") == -1 && authres_set_reason(NULL, "x") == -1 &&
               authres_set_comment(NULL, "x") == -1,
           "NULL result refused");
    tap_is_int((long)res->nprops, 0, "nothing added by refused calls");
    for (i = 0; i < AUTHRES_MAX_PROPS; i++)
        authres_add_prop(res, "smtp.helo", "x");
    tap_ok(authres_add_prop(res, "smtp.helo", "x") == -1, "property %d refused",
           AUTHRES_MAX_PROPS + 1);
    tap_ok(authres_set_reason(res, "r") == 0 && authres_set_reason(res, "") == 0 &&
               res->reason == NULL,
           "empty reason removes it");
    while (ar->n < AUTHRES_MAX_RESULTS)
        authres_add(ar, "spf", "pass");
    tap_ok(authres_add(ar, "spf", "pass") == NULL, "result %d refused", AUTHRES_MAX_RESULTS + 1);
    authres_free(&ar);
    tap_ok(ar == NULL, "free clears the pointer");
    authres_free(&ar);
    authres_free(NULL);
    tap_is_str(authres_header_name(), "Authentication-Results", "header name");
}

/* ---- parser ---- */

static const struct {
    const char *value;
    const char *id;
    size_t n;
    const char *check; /* "i:method=result", "i:ptype.prop=value", "i:reason=", "i:comment=" */
} parse_ok[] = {
    {"example.com; spf=pass smtp.mailfrom=example.net", "example.com", 1,
     "0:smtp.mailfrom=example.net"},
    {"example.org 1; none", "example.org", 0, NULL},
    {"example.org; none (nothing done)", "example.org", 0, NULL},
    {"example.com; auth=pass (cram-md5) smtp.auth=sender@example.net; spf=pass "
     "smtp.mailfrom=example.net",
     "example.com", 2, "0:comment=cram-md5"},
    {"example.com;\r\n\tsender-id=fail header.from=example.com;\r\n\tdkim=pass (good signature) "
     "header.i=sender@example.com",
     "example.com", 2, "1:header.i=sender@example.com"},
    {"example.com;\n dkim=pass reason=\"good signature\"\n header.i=@mail-router.example.net;\n "
     "dkim=fail reason=\"bad signature\"\n header.i=@newyork.example.com",
     "example.com", 2, "1:reason=bad signature"},
    {"(c1) example.com (c2) 1 (c3); (c4) dkim (c5) / (c6) 1 (c7) = (c8) pass (first) (second) "
     "header (x) . (y) d (z) = (w) example.net (v)",
     "example.com", 1, "0:header.d=example.net"},
    {"x; dkim/1=pass (first) (second) header.d=a", "x", 1, "0:comment=first"},
    {"\"example.com\"; none", "example.com", 0, NULL},
    {"x; spf=pass smtp.mailfrom=\"a b\\\"c\"", "x", 1, "0:smtp.mailfrom=a b\"c"},
    {"x; spf=pass smtp.mailfrom=\"a b\"@example.com", "x", 1,
     "0:smtp.mailfrom=\"a b\"@example.com"},
    {"x; spf=pass (a (b) \\) c) smtp.helo=h", "x", 1, "0:comment=a (b) ) c"},
    {"X; SPF=PASS SMTP.MailFrom=a@b.c", "X", 1, "0:spf=pass"},
    {"X; SPF=PASS SMTP.MailFrom=a@b.c", "X", 1, "0:smtp.mailfrom=a@b.c"},
    {"x; dkim=pass header.b=abc/+de=", "x", 1, "0:header.b=abc/+de="},
    {"x; dmarc=fail (p=reject dis=reject) header.from=example.com policy.dmarc=reject", "x", 1,
     "0:policy.dmarc=reject"},
    {"x; spf=pass reason=\"\" smtp.helo=h", "x", 1, "0:reason="},
};

static const struct {
    const char *value;
    const char *error;
} parse_bad[] = {
    {"", "expected authserv-id"},
    {"   (only a comment)", "expected authserv-id"},
    {"example.com", "expected \";\" after authserv-id"},
    {"example.com;", "expected method"},
    {"example.com; spf", "expected \"=\" after method"},
    {"example.com; spf=", "expected result"},
    {"example.com; spf=pass smtp", "expected \".\" in property"},
    {"example.com; spf=pass smtp.mailfrom", "expected \"=\" after property"},
    {"example.com; spf=pass smtp.mailfrom=", "expected property value"},
    {"example.com; spf=pass smtp.mailfrom=;", "expected property value"},
    {"example.com; spf=pass smtp.mailfrom=\"abc", "unterminated quoted string"},
    {"example.com; spf=pass smtp.mailfrom=\"abc\\", "unterminated quoted string"},
    {"example.com; spf=pass (abc", "unterminated comment"},
    {"example.com; spf=pass (abc\\", "unterminated comment"},
    {"example.com 2; none", "unsupported version"},
    {"example.com 11; none", "unsupported version"},
    {"example.com; none; spf=pass", "text after \"none\""},
    {"example.com; spf=pass; none", "\"none\" after results"},
    {"example.com; spf=pass smtp.helo=h reason=x", "misplaced reason"},
    {"example.com; spf=pass reason=x reason=y", "misplaced reason"},
    {"example.com; dkim/x=pass", "expected method version"},
    {"example.com; spf=pass smtp.mailfrom=\"a\"@", "expected domain after \"@\""},
    {"example.com; spf=pass smtp.mailfrom=a@b,c", "expected property"},
    {"example.com; spf=pass;", "expected method"},
    {"example.com spf=pass", "expected \";\" between results"},
    {"example.com; -spf=pass", "expected method"},
    {"example.com; spf=pass reason=", "expected reason value"},
};

/* test_parse - valid and broken values */
static void test_parse(void)
{
    struct authres *ar;
    char *id, *big;
    const char *error;
    size_t i, k, len;

    for (i = 0; i < sizeof(parse_ok) / sizeof(parse_ok[0]); i++) {
        int found = 1;

        error = NULL;
        tap_ok(authres_parse(parse_ok[i].value, &ar, &id, &error) == 0, "parse ok %zu (%s)", i,
               error ? error : "ok");
        if (ar == NULL)
            continue;
        tap_is_str(id, parse_ok[i].id, "parse ok %zu: id", i);
        tap_is_int((long)ar->n, (long)parse_ok[i].n, "parse ok %zu: count", i);
        if (parse_ok[i].check != NULL) {
            const char *c = parse_ok[i].check + 2, *eq = strchr(c, '=');
            const struct authres_result *r = ar->v[parse_ok[i].check[0] - '0'];
            char want[512];

            len = (size_t)(eq - c);
            found = 0;
            if (len == 6 && strncmp(c, "reason", 6) == 0)
                found = streq(r->reason, eq + 1);
            else if (len == 7 && strncmp(c, "comment", 7) == 0)
                found = streq(r->comment, eq + 1);
            for (k = 0; k < r->nprops; k++) {
                snprintf(want, sizeof(want), "%s.%s=%s", r->props[k].ptype, r->props[k].property,
                         r->props[k].value);
                found |= strcmp(want, c) == 0;
            }
            snprintf(want, sizeof(want), "%s=%s", r->method, r->result);
            found |= strcmp(want, c) == 0;
        }
        tap_ok(found, "parse ok %zu: %s", i, parse_ok[i].check ? parse_ok[i].check : "-");
        free(id);
        authres_free(&ar);
    }
    for (i = 0; i < sizeof(parse_bad) / sizeof(parse_bad[0]); i++) {
        error = NULL;
        ar = (struct authres *)1;
        id = (char *)1;
        tap_ok(authres_parse(parse_bad[i].value, &ar, &id, &error) == -1 && ar == NULL &&
                   id == NULL,
               "parse refuses \"%s\"", esc(parse_bad[i].value));
        tap_is_str(error, parse_bad[i].error, "parse error for \"%s\"", esc(parse_bad[i].value));
    }

    /* bounds: nesting, counts, size */
    big = malloc(AUTHRES_MAX_PARSE + 2);
    len = (size_t)sprintf(big, "x; spf=pass ");
    for (k = 0; k < AUTHRES_MAX_NEST + 1; k++)
        big[len++] = '(';
    for (k = 0; k < AUTHRES_MAX_NEST + 1; k++)
        big[len++] = ')';
    big[len] = 0;
    tap_ok(authres_parse(big, &ar, &id, &error) == -1 && streq(error, "comments nested too deep"),
           "parse refuses comments nested %d deep", AUTHRES_MAX_NEST + 1);
    len = (size_t)sprintf(big, "x");
    for (k = 0; k < AUTHRES_MAX_RESULTS + 1; k++)
        len += (size_t)sprintf(big + len, "; spf=pass");
    tap_ok(authres_parse(big, &ar, &id, &error) == -1 && streq(error, "too many results"),
           "parse refuses %d results", AUTHRES_MAX_RESULTS + 1);
    len = (size_t)sprintf(big, "x; spf=pass");
    for (k = 0; k < AUTHRES_MAX_PROPS + 1; k++)
        len += (size_t)sprintf(big + len, " smtp.helo=h");
    tap_ok(authres_parse(big, &ar, &id, &error) == -1 && streq(error, "too many properties"),
           "parse refuses %d properties", AUTHRES_MAX_PROPS + 1);
    len = (size_t)sprintf(big, "x; spf=pass reason=\"");
    memset(big + len, 'a', AUTHRES_MAX_PARSE - len - 1);
    big[AUTHRES_MAX_PARSE - 1] = '"';
    big[AUTHRES_MAX_PARSE] = 0;
    tap_ok(authres_parse(big, &ar, &id, &error) == 0, "parse accepts %d bytes", AUTHRES_MAX_PARSE);
    free(id);
    authres_free(&ar);
    big[AUTHRES_MAX_PARSE] = ' ';
    big[AUTHRES_MAX_PARSE + 1] = 0;
    tap_ok(authres_parse(big, &ar, &id, &error) == -1 && streq(error, "header value too long"),
           "parse refuses %d bytes", AUTHRES_MAX_PARSE + 1);
    tap_ok(authres_parse(NULL, &ar, &id, NULL) == -1, "parse refuses NULL");
    free(big);
}

/* ---- forged-header recognition ---- */

static const struct {
    const char *value;
    const char *ours;
    int want;
} is_ours_rows[] = {
    {"mx.example.com; spf=pass", "mx.example.com", 1},
    {"MX.Example.COM; none", "mx.example.com", 1},
    {"mx.example.com; none", "MX.EXAMPLE.COM", 1},
    {"  mx.example.com;", "mx.example.com", 1},
    {"\n\tmx.example.com\n\t;", "mx.example.com", 1},
    {"(comment) mx.example.com; none", "mx.example.com", 1},
    {"(nested (comment \\) ) x) mx.example.com; none", "mx.example.com", 1},
    {"mx.example.com 1; none", "mx.example.com", 1},
    {"mx.example.com (v) 1 (c); none", "mx.example.com", 1},
    {"mx.example.com(c);", "mx.example.com", 1},
    {"mx.example.com.; none", "mx.example.com", 1},
    {"mx.example.com; none", "mx.example.com.", 1},
    {"\"mx.example.com\"; none", "mx.example.com", 1},
    {"\"mx.example\\.com\"; none", "mx.example.com", 1},
    {"mx.example.com; garbage((", "mx.example.com", 1},
    {"OURS ;", "ours", 1},
    {"ours", "ours", 1},
    {"mx.example.com/x; spf=pass", "mx.example.com", 1},
    {"mx.example.com..x; none", "mx.example.com", 1},
    {"mx.example.com\xc2\xa0; none", "mx.example.com", 1},
    {"mx.example.com@evil; none", "mx.example.com", 1},
    {"mx.example.com.evil; none", "mx.example.com", 0},
    {"mx.example.com-evil; none", "mx.example.com", 0},
    {"evil.mx.example.com; none", "mx.example.com", 0},
    {"mx.example.co; none", "mx.example.com", 0},
    {"mx.example.comm; none", "mx.example.com", 0},
    {"mx-example.com; none", "mx.example.com", 0},
    {"other.example; spf=pass", "mx.example.com", 0},
    {"other.example (mx.example.com); none", "mx.example.com", 0},
    {"other.example; mx.example.com", "mx.example.com", 0},
    {"other.example\n\tmx.example.com;", "mx.example.com", 0},
    {"\"other.example\"; none", "mx.example.com", 0},
    {"\"mx.example.com \"; none", "mx.example.com", 0},
    {"", "mx.example.com", 1},
    {"   \n\t", "mx.example.com", 1},
    {"(only a comment)", "mx.example.com", 1},
    {"(unterminated mx.example.com; none", "mx.example.com", 1},
    {"; spf=pass", "mx.example.com", 1},
    {"\"\"; none", "mx.example.com", 1},
    {"\"unterminated; none", "mx.example.com", 1},
    {"@@@; none", "mx.example.com", 1},
    {"[mx.example.com]; none", "mx.example.com", 1},
};

/* test_is_ours - forged, foreign and unparsable values */
static void test_is_ours(void)
{
    char deep[200];
    size_t i, n = 0;

    for (i = 0; i < sizeof(is_ours_rows) / sizeof(is_ours_rows[0]); i++)
        tap_ok(authres_is_ours(is_ours_rows[i].value, is_ours_rows[i].ours) == is_ours_rows[i].want,
               "is_ours(\"%s\", %s) is %s", esc(is_ours_rows[i].value), is_ours_rows[i].ours,
               is_ours_rows[i].want ? "yes" : "no");
    tap_ok(authres_is_ours(NULL, "x"), "is_ours(NULL) is yes");
    tap_ok(!authres_is_ours("x; none", NULL) && authres_is_ours("", NULL),
           "is_ours with no id of ours matches only id-less values");
    for (i = 0; i < AUTHRES_MAX_NEST + 5; i++)
        deep[n++] = '(';
    for (i = 0; i < AUTHRES_MAX_NEST + 5; i++)
        deep[n++] = ')';
    strcpy(deep + n, " other.example; none");
    tap_ok(authres_is_ours(deep, "mx.example.com"), "comments nested too deep: removed");
}

/* ---- random round trip ---- */

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

/* rng - xorshift64, fixed seed */
static unsigned rng(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

/* random_text - a value from an alphabet that hits every quoting rule */
static void random_text(char *buf, size_t max)
{
    static const char alphabet[] = "aZ09.-_@@@\"\\;()= \t\r\n[]<>,:/\x80\xff~!";
    size_t len = 1 + rng((unsigned)max), i;

    for (i = 0; i < len; i++)
        buf[i] = alphabet[rng(sizeof(alphabet) - 1)];
    buf[len] = 0;
}

/* test_random - random models format to headers that parse back identically */
static void test_random(void)
{
    static const char *const names[] = {"smtp.mailfrom", "smtp.helo", "header.d",
                                        "header.i",      "header.b",  "policy.dmarc"};
    int round, bad = 0, shape_bad = 0, ours_bad = 0;
    char text[400], name[32];

    for (round = 0; round < 2000; round++) {
        struct authres *ar = authres_new(), *got = NULL;
        char *value, *id = NULL;
        const char *error = NULL, *why = "";
        size_t nres = rng(4), i, j, k;

        for (i = 0; i < nres; i++) {
            struct authres_result *res = authres_add(ar, "dkim", "pass");

            if (rng(2)) {
                random_text(text, 60);
                authres_set_reason(res, text);
            }
            if (rng(2)) {
                random_text(text, 60);
                authres_set_comment(res, text);
            }
            for (j = rng(4); j > 0; j--) {
                random_text(text, rng(8) == 0 ? 399 : 40);
                authres_add_prop(res, names[rng(6)], text);
            }
        }
        value = authres_format(ID, ar);
        shape_bad += !value || !header_shape_ok(value, 998, &why);
        ours_bad += !value || !authres_is_ours(value, ID);
        if (value == NULL || authres_parse(value, &got, &id, &error) < 0 || got->n != ar->n) {
            bad++;
            tap_diag("random %d: %s: %s", round, error ? error : "count", value ? value : "-");
        } else {
            for (i = 0; i < got->n; i++) {
                const struct authres_result *g = got->v[i], *w = ar->v[i];
                int ok = streq(g->reason, w->reason) && streq(g->comment, w->comment) &&
                         g->nprops == w->nprops;

                /* a value comes back as stored, or with its local part quoted */
                for (j = 0; ok && j < w->nprops; j++) {
                    for (k = 0; k < g->nprops; k++)
                        if (streq(g->props[k].value, w->props[j].value) ||
                            (g->props[k].value[0] == '"' && strchr(g->props[k].value, '@') &&
                             strchr(w->props[j].value, '@')))
                            break;
                    ok = k < g->nprops;
                }
                if (!ok) {
                    bad++;
                    tap_diag("random %d: result %zu differs: %s", round, i, value);
                    break;
                }
            }
        }
        if (round < 300) {
            snprintf(name, sizeof(name), "random %d", round);
            dump_header(name, value);
        }
        free(value);
        free(id);
        authres_free(&got);
        authres_free(&ar);
    }
    tap_is_int(shape_bad, 0, "random: 2000 headers well formed");
    tap_is_int(ours_bad, 0, "random: 2000 headers recognised as ours");
    tap_is_int(bad, 0, "random: 2000 headers parse back to the same results");
}

/* test_random_parse - mutated headers never crash the parser; what parses re-formats */
static void test_random_parse(void)
{
    static const char alphabet[] = "x; spf=pass.\"\\()@ \n\r\t1none/reason";
    char text[512];
    int round, parsed = 0, reformat_bad = 0;

    for (round = 0; round < 20000; round++) {
        struct authres *ar = NULL, *again = NULL;
        char *id = NULL, *id2 = NULL, *value;
        const char *error = NULL,
                   *base = parse_ok[rng(sizeof(parse_ok) / sizeof(parse_ok[0]))].value;
        size_t len = strlen(base), pos, m;

        memcpy(text, base, len + 1);
        for (m = 1 + rng(3); m > 0; m--) {
            pos = rng((unsigned)len + 1);
            char c = rng(4) ? alphabet[rng(sizeof(alphabet) - 1)] : (char)(1 + rng(255));

            switch (rng(3)) {
            case 0: /* replace */
                if (pos < len)
                    text[pos] = c;
                break;
            case 1: /* insert */
                if (len + 1 < sizeof(text)) {
                    memmove(text + pos + 1, text + pos, len - pos + 1);
                    text[pos] = c;
                    len++;
                }
                break;
            default: /* delete */
                if (pos < len) {
                    memmove(text + pos, text + pos + 1, len - pos);
                    len--;
                }
                break;
            }
        }
        (void)authres_is_ours(text, "x");
        if (authres_parse(text, &ar, &id, &error) == 0) {
            parsed++;
            /* what we parsed we can write again, and it reads back the same size */
            value = authres_format(authres_id_valid(id) ? id : ID, ar);
            if (value == NULL || authres_parse(value, &again, &id2, &error) < 0 ||
                again->n != ar->n) {
                reformat_bad++;
                tap_diag("re-format of \"%s\" failed: %s", esc(text), esc(value));
            }
            free(value);
        }
        free(id);
        free(id2);
        authres_free(&ar);
        authres_free(&again);
    }
    tap_ok(parsed > 1000 && parsed < 19000, "random: 20000 mutated values, %d parsed", parsed);
    tap_is_int(reformat_bad, 0, "random: every parsed value formats and parses again");
}

/* main - run every group; --dump FILE also writes the headers for the validator */
int main(int argc, char **argv)
{
    size_t i;

    if (argc == 2 && strcmp(argv[1], "--parse") == 0)
        return parse_stdin();
    if (argc == 3 && strcmp(argv[1], "--dump") == 0 && (dump = fopen(argv[2], "w")) == NULL) {
        perror(argv[2]);
        return 2;
    }
    for (i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++)
        format_case_run(&format_cases[i]);
    test_big_values();
    test_header_cap();
    test_hand_filled();
    test_ids();
    test_builder();
    test_parse();
    test_is_ours();
    test_random();
    test_random_parse();
    if (dump != NULL && fclose(dump) != 0) {
        perror(argv[2]);
        return 2;
    }
    return tap_done();
}
