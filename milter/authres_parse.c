/*
 * NAME
 *	authres_parse - Authentication-Results parser
 * SYNOPSIS
 *	See include/authres.h: authres_parse(), authres_is_ours().
 * DESCRIPTION
 *	The only code that reads RFC 8601 Authentication-Results.  The
 *	parser is a bounded recursive descent over the RFC 8601 grammar that
 *	never reads past the end of its input; authres_is_ours() recognises
 *	an incoming header that claims our authserv-id.  Character classes,
 *	scanners, the string buffer and the result constructors come from
 *	authres.c through include/authres_int.h.
 *
 *	Reentrant: no globals; the parser state lives on the stack.
 * DIAGNOSTICS
 *	Returned to the caller; see include/authres.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "authres_int.h"

/* ---- parser's character classes ---- */

/* ch_pvalue - character of an unquoted property value when parsing */
static bool ch_pvalue(int c)
{
    return c >= 0x80 || (c > 0x20 && c < 0x7f && strchr("()<>,;:\\\"[]", c) == NULL);
}

/* ch_space - white space or a folding line break */
static bool ch_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- parser ---- */

struct cursor {
    const char *p;
    const char *end;
    const char *error;
};

/* fail - record a parse error */
static int fail(struct cursor *c, const char *error)
{
    c->error = error;
    return -1;
}

/* comment_skip - skip the comment at "(", copying its unescaped text to out */
static int comment_skip(struct cursor *c, struct ar_buf *out)
{
    int depth = 0;
    char ch;

    do {
        if (c->p >= c->end)
            return fail(c, "unterminated comment");
        ch = *c->p++;
        if (ch == '\\') {
            if (c->p >= c->end)
                return fail(c, "unterminated comment");
            ch = *c->p++;
        } else if (ch == '(') {
            if (++depth > AUTHRES_MAX_NEST)
                return fail(c, "comments nested too deep");
            if (depth == 1)
                continue;
        } else if (ch == ')') {
            if (--depth == 0)
                continue;
        } else if (ch == '\r' || ch == '\n') {
            continue;
        }
        if (out != NULL)
            ar_buf_char(out, ch);
    } while (depth > 0);
    return 0;
}

/* cfws - skip white space, folding and comments; the first comment goes to capture */
static int cfws(struct cursor *c, struct ar_buf *capture, bool *captured)
{
    while (c->p < c->end) {
        if (ch_space((unsigned char)*c->p)) {
            c->p++;
        } else if (*c->p == '(') {
            bool take = capture != NULL && !*captured;

            if (comment_skip(c, take ? capture : NULL) < 0)
                return -1;
            if (take)
                *captured = true;
        } else {
            break;
        }
    }
    return 0;
}

/* skip - cfws without capture */
static int skip(struct cursor *c)
{
    return cfws(c, NULL, NULL);
}

/* quoted_read - read the quoted string at '"', unquoted and unfolded, into out */
static int quoted_read(struct cursor *c, struct ar_buf *out)
{
    char ch;

    c->p++;
    for (;;) {
        if (c->p >= c->end)
            return fail(c, "unterminated quoted string");
        ch = *c->p++;
        if (ch == '"')
            return 0;
        if (ch == '\\') {
            if (c->p >= c->end)
                return fail(c, "unterminated quoted string");
            ch = *c->p++;
        } else if (ch == '\r' || ch == '\n') {
            continue;
        }
        ar_buf_char(out, ch);
    }
}

/* value_read - RFC 2045 value (token or quoted string) into out */
static int value_read(struct cursor *c, struct ar_buf *out, const char *what)
{
    size_t n;

    if (c->p < c->end && *c->p == '"') {
        if (quoted_read(c, out) < 0)
            return -1;
        ar_buf_add(out, "", 0);
        return 0;
    }
    if ((n = ar_span(c->p, (size_t)(c->end - c->p), ar_ch_token)) == 0)
        return fail(c, what);
    ar_buf_add(out, c->p, n);
    c->p += n;
    return 0;
}

/* keyword_read - a keyword of at most AUTHRES_MAX_KEYWORD bytes */
static int keyword_read(struct cursor *c, const char **kw_r, size_t *len_r, const char *what)
{
    size_t n = ar_span(c->p, (size_t)(c->end - c->p), ar_ch_keyword);

    if (!ar_keyword_ok(c->p, n))
        return fail(c, what);
    *kw_r = c->p;
    *len_r = n;
    c->p += n;
    return 0;
}

/* expect - skip CFWS, then require one character */
static int expect(struct cursor *c, char ch, const char *what)
{
    if (skip(c) < 0)
        return -1;
    if (c->p >= c->end || *c->p != ch)
        return fail(c, what);
    c->p++;
    return skip(c);
}

/* pvalue_read - a property value: value, or [[local-part] "@"] domain-name */
static int pvalue_read(struct cursor *c, char **value_r)
{
    struct ar_buf v = {0};
    const char *start = c->p;
    size_t n;

    if (c->p < c->end && *c->p == '"') {
        if (quoted_read(c, &v) < 0) {
            free(ar_buf_take(&v));
            return -1;
        }
        ar_buf_add(&v, "", 0);
        if (c->p < c->end && *c->p == '@') {
            c->p++;
            if ((n = ar_dot_atom_len(c->p, (size_t)(c->end - c->p), ar_ch_atext)) == 0) {
                free(ar_buf_take(&v));
                return fail(c, "expected domain after \"@\"");
            }
            c->p += n;
            v.len = 0;
            ar_buf_add(&v, start, (size_t)(c->p - start));
        }
    } else {
        if ((n = ar_span(c->p, (size_t)(c->end - c->p), ch_pvalue)) == 0)
            return fail(c, "expected property value");
        ar_buf_add(&v, c->p, n);
        c->p += n;
    }
    if ((*value_r = ar_buf_take(&v)) == NULL)
        return fail(c, "out of memory");
    if (skip(c) < 0) {
        free(*value_r);
        *value_r = NULL;
        return -1;
    }
    return 0;
}

/* propspec_read - "ptype.property=pvalue" or "reason=value" after the result */
static int propspec_read(struct cursor *c, struct authres_result *res)
{
    const char *ptype, *property;
    size_t tlen, plen;
    struct ar_buf reason = {0};
    char *value;

    if (keyword_read(c, &ptype, &tlen, "expected property") < 0 || skip(c) < 0)
        return -1;
    if (tlen == 6 && strncasecmp(ptype, "reason", 6) == 0 && c->p < c->end && *c->p == '=') {
        if (res->reason != NULL || res->nprops > 0)
            return fail(c, "misplaced reason");
        if (expect(c, '=', "expected \"=\" after reason") < 0 ||
            value_read(c, &reason, "expected reason value") < 0) {
            free(ar_buf_take(&reason));
            return -1;
        }
        if ((res->reason = ar_buf_take(&reason)) == NULL)
            return fail(c, "out of memory");
        return skip(c);
    }
    if (expect(c, '.', "expected \".\" in property") < 0 ||
        keyword_read(c, &property, &plen, "expected property name") < 0 ||
        expect(c, '=', "expected \"=\" after property") < 0 || pvalue_read(c, &value) < 0)
        return -1;
    if (res->nprops >= AUTHRES_MAX_PROPS) {
        free(value);
        return fail(c, "too many properties");
    }
    if (ar_prop_new(res, ptype, tlen, property, plen, value) < 0)
        return fail(c, "out of memory");
    return 0;
}

/* resinfo_read - one result after ";"; sets *none for "none" */
static int resinfo_read(struct cursor *c, struct authres *ar, bool *none)
{
    const char *method, *result;
    size_t mlen, rlen;
    struct authres_result *res;
    struct ar_buf comment = {0};
    bool captured = false;

    if (skip(c) < 0 || keyword_read(c, &method, &mlen, "expected method") < 0 || skip(c) < 0)
        return -1;
    if (mlen == 4 && strncasecmp(method, "none", 4) == 0 &&
        (c->p >= c->end || (*c->p != '=' && *c->p != '/'))) {
        *none = true;
        return 0;
    }
    if (c->p < c->end && *c->p == '/') {
        c->p++;
        if (skip(c) < 0)
            return -1;
        if (ar_span(c->p, (size_t)(c->end - c->p), ar_ch_alnum) == 0 || *c->p < '0' || *c->p > '9')
            return fail(c, "expected method version");
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    if (expect(c, '=', "expected \"=\" after method") < 0 ||
        keyword_read(c, &result, &rlen, "expected result") < 0)
        return -1;
    if (ar->n >= AUTHRES_MAX_RESULTS)
        return fail(c, "too many results");
    if ((res = ar_result_new(ar, method, mlen, result, rlen)) == NULL)
        return fail(c, "out of memory");
    if (cfws(c, &comment, &captured) < 0) {
        free(ar_buf_take(&comment));
        return -1;
    }
    if (captured && (res->comment = ar_buf_take(&comment)) == NULL)
        return fail(c, "out of memory");
    while (c->p < c->end && *c->p != ';')
        if (propspec_read(c, res) < 0)
            return -1;
    return 0;
}

/* payload_read - the whole header value */
static int payload_read(struct cursor *c, struct authres *ar, struct ar_buf *id)
{
    const char *digits;
    bool none = false;

    if (skip(c) < 0 || value_read(c, id, "expected authserv-id") < 0 || skip(c) < 0)
        return -1;
    if (id->oom)
        return fail(c, "out of memory");
    if (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        for (digits = c->p; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++)
            ;
        if (c->p - digits != 1 || *digits != '1')
            return fail(c, "unsupported version");
        if (skip(c) < 0)
            return -1;
    }
    if (c->p >= c->end)
        return fail(c, "expected \";\" after authserv-id");
    while (c->p < c->end) {
        if (*c->p != ';')
            return fail(c, "expected \";\" between results");
        c->p++;
        if (resinfo_read(c, ar, &none) < 0)
            return -1;
        if (none) {
            if (ar->n > 0)
                return fail(c, "\"none\" after results");
            if (skip(c) < 0)
                return -1;
            if (c->p < c->end)
                return fail(c, "text after \"none\"");
        }
    }
    return 0;
}

/* authres_parse - parse a header value into a result list */
int authres_parse(const char *value, struct authres **ar_r, char **authserv_id_r,
                  const char **error_r)
{
    struct cursor c = {0};
    struct ar_buf id = {0};
    struct authres *ar;
    const char *ignored;
    size_t len;

    if (error_r == NULL)
        error_r = &ignored;
    *ar_r = NULL;
    *authserv_id_r = NULL;
    if (value == NULL) {
        *error_r = "no header value";
        return -1;
    }
    if ((len = strnlen(value, AUTHRES_MAX_PARSE + 1)) > AUTHRES_MAX_PARSE) {
        *error_r = "header value too long";
        return -1;
    }
    if ((ar = authres_new()) == NULL) {
        *error_r = "out of memory";
        return -1;
    }
    c.p = value;
    c.end = value + len;
    if (payload_read(&c, ar, &id) < 0 || (*authserv_id_r = ar_buf_take(&id)) == NULL) {
        *error_r = c.error ? c.error : "out of memory";
        free(ar_buf_take(&id));
        authres_free(&ar);
        return -1;
    }
    *ar_r = ar;
    return 0;
}

/* ---- forged-header recognition ---- */

/* id_equal - n-byte id equals ours, ignoring case and one trailing dot */
static bool id_equal(const char *s, size_t n, const char *ours)
{
    size_t olen = strlen(ours);

    if (n > 0 && s[n - 1] == '.')
        n--;
    if (olen > 0 && ours[olen - 1] == '.')
        olen--;
    return n > 0 && n == olen && strncasecmp(s, ours, n) == 0;
}

/* authres_is_ours - whether an incoming header value claims our authserv-id */
bool authres_is_ours(const char *value, const char *authserv_id)
{
    struct cursor c = {0};
    struct ar_buf quoted = {0};
    size_t n, token, atom, word;
    bool ours;

    if (value == NULL)
        return true;
    if (authserv_id == NULL)
        authserv_id = "";
    c.p = value;
    c.end = value + strnlen(value, AUTHRES_MAX_PARSE);
    if (skip(&c) < 0)
        return true; /* no authserv-id can be extracted */
    n = (size_t)(c.end - c.p);
    if (n > 0 && *c.p == '"') {
        if (quoted_read(&c, &quoted) < 0 || quoted.oom || quoted.len == 0) {
            free(ar_buf_take(&quoted));
            return true;
        }
        ours = id_equal(quoted.s, quoted.len, authserv_id);
        free(ar_buf_take(&quoted));
        return ours;
    }
    token = ar_span(c.p, n, ar_ch_token);
    atom = ar_dot_atom_len(c.p, n, ar_ch_atext);
    for (word = 0;
         word < n && !ch_space((unsigned char)c.p[word]) && c.p[word] != ';' && c.p[word] != '(';
         word++)
        ;
    if (token == 0 && atom == 0)
        return true;
    return id_equal(c.p, token, authserv_id) || id_equal(c.p, atom, authserv_id) ||
           id_equal(c.p, word, authserv_id);
}
