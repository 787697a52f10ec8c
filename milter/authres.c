/*
 * NAME
 *	authres - Authentication-Results result model, writer and parser
 * SYNOPSIS
 *	See include/authres.h.
 * DESCRIPTION
 *	The only code that writes or reads RFC 8601 Authentication-Results.
 *	Text from peers (HELO names, addresses, DKIM tags) is cleaned to
 *	printable ASCII and capped both when stored and when written, so a
 *	hostile value can never end the header, start another one, or add a
 *	result.  The writer quotes by the RFC 2045 / RFC 5322 rules; the
 *	parser is a bounded recursive descent over the RFC 8601 grammar that
 *	never reads past the end of its input.  Character classes are ASCII
 *	only and do not depend on the locale.
 *
 *	Reentrant: no globals; a struct authres belongs to one thread.
 * DIAGNOSTICS
 *	Returned to the caller; see include/authres.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"

#define AUTHRES_PREFIX_WIDTH 24 /* strlen("Authentication-Results: ") */
#define AUTHRES_TAB_WIDTH 8
#define AUTHRES_MAX_ID 255

/* ---- character classes ---- */

/* ch_alnum - ASCII letter or digit */
static bool ch_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ch_token - RFC 2045 token character (printable, no space, no tspecial) */
static bool ch_token(int c)
{
    return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* ch_atext - RFC 5322 atext */
static bool ch_atext(int c)
{
    return ch_alnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* ch_id - authserv-id character we write: both token and atext */
static bool ch_id(int c)
{
    return ch_token(c) && ch_atext(c);
}

/* ch_keyword - method, result, ptype and property character */
static bool ch_keyword(int c)
{
    return ch_alnum(c) || c == '-' || c == '_';
}

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

/* span - length of the prefix of s[0..n) whose bytes are all in a class */
static size_t span(const char *s, size_t n, bool (*in_class)(int))
{
    size_t i = 0;

    while (i < n && in_class((unsigned char)s[i]))
        i++;
    return i;
}

/* dot_atom_len - length of the longest dot-atom of class chars at s, 0 if none */
static size_t dot_atom_len(const char *s, size_t n, bool (*in_class)(int))
{
    size_t len = span(s, n, in_class), more;

    while (len > 0 && len + 1 < n && s[len] == '.' &&
           (more = span(s + len + 1, n - len - 1, in_class)) > 0)
        len += 1 + more;
    return len;
}

/* keyword_ok - method, result, ptype or property: 1..64 keyword chars, alnum first */
static bool keyword_ok(const char *s, size_t n)
{
    return n > 0 && n <= AUTHRES_MAX_KEYWORD && ch_alnum((unsigned char)s[0]) &&
           span(s, n, ch_keyword) == n;
}

/* domain_ok - RFC 5321 Domain: let-dig/hyphen labels of 1..63, 255 in all */
static bool domain_ok(const char *s, size_t n)
{
    size_t i = 0, label;

    if (n == 0 || n > 255)
        return false;
    for (;;) {
        label = span(s + i, n - i, ch_keyword);
        if (label == 0 || label > 63 || memchr(s + i, '_', label) != NULL || s[i] == '-' ||
            s[i + label - 1] == '-')
            return false;
        i += label;
        if (i == n)
            return true;
        if (s[i] != '.')
            return false;
        i++;
    }
}

/* quoted_ok - a well-formed, non-empty RFC 5322 quoted string of printable ASCII */
static bool quoted_ok(const char *s, size_t n)
{
    size_t i;

    if (n < 3 || s[0] != '"' || s[n - 1] != '"')
        return false;
    for (i = 1; i < n - 1; i++) {
        if (s[i] == '"')
            return false;
        if (s[i] == '\\' && ++i >= n - 1)
            return false;
    }
    return true;
}

/* ---- growing string buffer ---- */

struct buf {
    char *s;
    size_t len;
    size_t size;
    bool oom;
};

/* buf_add - append n bytes; on failure remember it and keep the old text */
static void buf_add(struct buf *b, const char *s, size_t n)
{
    char *grown;
    size_t size;

    if (b->oom)
        return;
    if (b->len + n + 1 > b->size) {
        for (size = b->size ? b->size : 128; size < b->len + n + 1; size *= 2)
            ;
        if ((grown = realloc(b->s, size)) == NULL) {
            b->oom = true;
            return;
        }
        b->s = grown;
        b->size = size;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

/* buf_str - append a string */
static void buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* buf_char - append one byte */
static void buf_char(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

/* buf_escaped - append open, s with "\" before each byte in specials, close */
static void buf_escaped(struct buf *b, char open, const char *s, size_t n, const char *specials,
                        char close)
{
    size_t i;

    buf_char(b, open);
    for (i = 0; i < n; i++) {
        if (strchr(specials, s[i]) != NULL)
            buf_char(b, '\\');
        buf_char(b, s[i]);
    }
    buf_char(b, close);
}

/* buf_take - hand the text over to the caller (NULL on failure) */
static char *buf_take(struct buf *b)
{
    char *s = b->s;

    if (b->oom || s == NULL) {
        free(s);
        s = b->oom ? NULL : strdup("");
    }
    memset(b, 0, sizeof(*b));
    return s;
}

/* ---- text cleaning ---- */

/* text_clean_into - printable ASCII copy of s into dst (cap + 1 bytes), cut with "..." */
static size_t text_clean_into(char *dst, const char *s, size_t cap)
{
    size_t len = strnlen(s, cap + 1), i;
    int c;

    if (len > cap)
        len = cap;
    for (i = 0; i < len; i++) {
        c = (unsigned char)s[i];
        dst[i] = (c >= 0x20 && c <= 0x7e) ? (char)c : '?';
    }
    if (s[len] != 0)
        memcpy(dst + len - 3, "...", 3);
    dst[len] = 0;
    return len;
}

/* text_clean - new cleaned copy of s, NULL when out of memory */
static char *text_clean(const char *s, size_t cap)
{
    char *dst = malloc(cap + 1);

    if (dst != NULL)
        text_clean_into(dst, s, cap);
    return dst;
}

/* lower_dup - new lower-case copy of n bytes */
static char *lower_dup(const char *s, size_t n)
{
    char *dst = malloc(n + 1);
    size_t i;

    if (dst == NULL)
        return NULL;
    for (i = 0; i < n; i++)
        dst[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    dst[n] = 0;
    return dst;
}

/* ---- result model ---- */

/* authres_new - empty result list */
struct authres *authres_new(void)
{
    return calloc(1, sizeof(struct authres));
}

/* result_free - release one result and everything it owns */
static void result_free(struct authres_result *res)
{
    size_t i;

    if (res == NULL)
        return;
    for (i = 0; i < res->nprops; i++) {
        free(res->props[i].ptype);
        free(res->props[i].property);
        free(res->props[i].value);
    }
    free(res->method);
    free(res->result);
    free(res->reason);
    free(res->comment);
    free(res);
}

/* authres_free - release a result list and clear the caller's pointer */
void authres_free(struct authres **ar)
{
    size_t i;

    if (ar == NULL || *ar == NULL)
        return;
    for (i = 0; i < (*ar)->n; i++)
        result_free((*ar)->v[i]);
    free(*ar);
    *ar = NULL;
}

/* result_new - append a result with n-byte method and result keywords */
static struct authres_result *result_new(struct authres *ar, const char *method, size_t mlen,
                                         const char *result, size_t rlen)
{
    struct authres_result *res;

    if (ar->n >= AUTHRES_MAX_RESULTS || (res = calloc(1, sizeof(*res))) == NULL)
        return NULL;
    res->method = lower_dup(method, mlen);
    res->result = lower_dup(result, rlen);
    if (res->method == NULL || res->result == NULL) {
        result_free(res);
        return NULL;
    }
    ar->v[ar->n++] = res;
    return res;
}

/* authres_add - append "method=result" */
struct authres_result *authres_add(struct authres *ar, const char *method, const char *result)
{
    if (ar == NULL || method == NULL || result == NULL ||
        !keyword_ok(method, strnlen(method, AUTHRES_MAX_KEYWORD + 1)) ||
        !keyword_ok(result, strnlen(result, AUTHRES_MAX_KEYWORD + 1)))
        return NULL;
    return result_new(ar, method, strlen(method), result, strlen(result));
}

/* text_set - replace a reason or comment; NULL or "" removes it */
static int text_set(char **slot, const char *text)
{
    char *copy = NULL;

    if (text != NULL && *text != 0 && (copy = text_clean(text, AUTHRES_MAX_REASON)) == NULL)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

/* authres_set_reason - set the reason="..." of a result */
int authres_set_reason(struct authres_result *res, const char *reason)
{
    return res == NULL ? -1 : text_set(&res->reason, reason);
}

/* authres_set_comment - set the "(...)" written after the result keyword */
int authres_set_comment(struct authres_result *res, const char *comment)
{
    return res == NULL ? -1 : text_set(&res->comment, comment);
}

/* prop_new - append a property from parts that are already checked */
static int prop_new(struct authres_result *res, const char *ptype, size_t tlen,
                    const char *property, size_t plen, char *value)
{
    struct authres_prop *prop;

    if (value == NULL || res->nprops >= AUTHRES_MAX_PROPS) {
        free(value);
        return -1;
    }
    prop = &res->props[res->nprops];
    prop->ptype = lower_dup(ptype, tlen);
    prop->property = lower_dup(property, plen);
    prop->value = value;
    if (prop->ptype == NULL || prop->property == NULL) {
        free(prop->ptype);
        free(prop->property);
        free(prop->value);
        memset(prop, 0, sizeof(*prop));
        return -1;
    }
    res->nprops++;
    return 0;
}

/* authres_add_prop - append "ptype.property=value"; name is "ptype.property" */
int authres_add_prop(struct authres_result *res, const char *name, const char *value)
{
    const char *dot;
    size_t len;

    if (res == NULL || name == NULL || value == NULL || *value == 0 ||
        res->nprops >= AUTHRES_MAX_PROPS)
        return -1;
    len = strnlen(name, 2 * AUTHRES_MAX_KEYWORD + 2);
    if ((dot = memchr(name, '.', len)) == NULL || !keyword_ok(name, (size_t)(dot - name)) ||
        !keyword_ok(dot + 1, len - (size_t)(dot - name) - 1))
        return -1;
    return prop_new(res, name, (size_t)(dot - name), dot + 1, len - (size_t)(dot - name) - 1,
                    text_clean(value, AUTHRES_MAX_VALUE));
}

/* ---- writer ---- */

enum value_form { VALUE_TOKEN, VALUE_ADDR, VALUE_ADDR_QUOTE_LOCAL, VALUE_QUOTED };

/* value_form - how a cleaned property value is written */
static enum value_form value_form(const char *v, size_t n, size_t *at_r)
{
    const char *at = NULL, *p;
    size_t local;

    if (span(v, n, ch_token) == n)
        return VALUE_TOKEN;
    for (p = v; (p = memchr(p, '@', n - (size_t)(p - v))) != NULL; p++)
        at = p;
    if (at == NULL || !domain_ok(at + 1, n - (size_t)(at - v) - 1))
        return VALUE_QUOTED;
    *at_r = local = (size_t)(at - v);
    if (local == 0 || dot_atom_len(v, local, ch_atext) == local || quoted_ok(v, local))
        return VALUE_ADDR;
    return VALUE_ADDR_QUOTE_LOCAL;
}

/* value_write - write a property value as token, addr-spec or quoted string */
static void value_write(struct buf *b, const char *value)
{
    char v[AUTHRES_MAX_VALUE + 1];
    size_t n = text_clean_into(v, value, AUTHRES_MAX_VALUE), at = 0;

    switch (value_form(v, n, &at)) {
    case VALUE_TOKEN:
    case VALUE_ADDR:
        buf_add(b, v, n);
        break;
    case VALUE_ADDR_QUOTE_LOCAL:
        buf_escaped(b, '"', v, at, "\"\\", '"');
        buf_add(b, v + at, n - at);
        break;
    case VALUE_QUOTED:
        buf_escaped(b, '"', v, n, "\"\\", '"');
        break;
    }
}

/* value_quoted - whether a property value is written as a bare quoted string */
static bool value_quoted(const char *value)
{
    char v[AUTHRES_MAX_VALUE + 1];
    size_t n = text_clean_into(v, value, AUTHRES_MAX_VALUE), at;

    return value_form(v, n, &at) == VALUE_QUOTED;
}

/* text_write - write a reason (token or quoted string) or a comment */
static void text_write(struct buf *b, const char *text, bool comment)
{
    char v[AUTHRES_MAX_REASON + 1];
    size_t n = text_clean_into(v, text, AUTHRES_MAX_REASON);

    if (comment)
        buf_escaped(b, '(', v, n, "()\\", ')');
    else if (n > 0 && span(v, n, ch_token) == n)
        buf_add(b, v, n);
    else
        buf_escaped(b, '"', v, n, "\"\\", '"');
}

struct fold {
    struct buf *out;
    size_t col;
};

/* fold_piece - append an unbreakable piece after a space or a line break */
static void fold_piece(struct fold *f, const struct buf *piece, bool newline)
{
    /* One column is kept free for the ";" that may follow the piece. */
    if (newline || f->col + 1 + piece->len + 1 > AUTHRES_FOLD_WIDTH) {
        buf_add(f->out, "\n\t", 2);
        f->col = AUTHRES_TAB_WIDTH;
    } else {
        buf_char(f->out, ' ');
        f->col++;
    }
    buf_add(f->out, piece->s, piece->len);
    f->col += piece->len;
}

/* prop_ok - whether a property of a hand-filled struct can be written */
static bool prop_ok(const struct authres_prop *prop)
{
    return prop->ptype != NULL && prop->property != NULL && prop->value != NULL &&
           *prop->value != 0 && keyword_ok(prop->ptype, strlen(prop->ptype)) &&
           keyword_ok(prop->property, strlen(prop->property));
}

/* result_ok - whether a result of a hand-filled struct can be written */
static bool result_ok(const struct authres_result *res)
{
    return res != NULL && res->method != NULL && res->result != NULL &&
           keyword_ok(res->method, strlen(res->method)) &&
           keyword_ok(res->result, strlen(res->result));
}

/* result_write - write one resinfo (without the ";") as folded pieces */
static void result_write(struct fold *f, const struct authres_result *res, struct buf *piece)
{
    size_t i, pass;

    piece->len = 0;
    buf_str(piece, res->method);
    buf_char(piece, '=');
    buf_str(piece, res->result);
    fold_piece(f, piece, true);
    if (res->comment != NULL && *res->comment != 0) {
        piece->len = 0;
        text_write(piece, res->comment, true);
        fold_piece(f, piece, false);
    }
    if (res->reason != NULL && *res->reason != 0) {
        piece->len = 0;
        buf_str(piece, "reason=");
        text_write(piece, res->reason, false);
        fold_piece(f, piece, false);
    }
    /* Quoted-string values last: python3-authres drops one that is followed. */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < res->nprops && i < AUTHRES_MAX_PROPS; i++) {
            if (!prop_ok(&res->props[i]) || value_quoted(res->props[i].value) != (pass == 1))
                continue;
            piece->len = 0;
            buf_str(piece, res->props[i].ptype);
            buf_char(piece, '.');
            buf_str(piece, res->props[i].property);
            buf_char(piece, '=');
            value_write(piece, res->props[i].value);
            fold_piece(f, piece, false);
        }
    }
}

/* authres_id_valid - whether an authserv-id can be written */
bool authres_id_valid(const char *authserv_id)
{
    size_t n;

    if (authserv_id == NULL)
        return false;
    n = strnlen(authserv_id, AUTHRES_MAX_ID + 1);
    return n > 0 && n <= AUTHRES_MAX_ID && dot_atom_len(authserv_id, n, ch_id) == n;
}

/* authres_format - the header value for a result list */
char *authres_format(const char *authserv_id, const struct authres *ar)
{
    struct buf out = {0}, piece = {0};
    struct fold f = {&out, AUTHRES_PREFIX_WIDTH};
    size_t i, saved_len, saved_col, written = 0;

    if (!authres_id_valid(authserv_id))
        return NULL;
    buf_str(&out, authserv_id);
    f.col += out.len;
    for (i = 0; ar != NULL && i < ar->n && i < AUTHRES_MAX_RESULTS; i++) {
        if (!result_ok(ar->v[i]))
            continue;
        saved_len = out.len;
        saved_col = f.col;
        buf_char(&out, ';');
        f.col++;
        result_write(&f, ar->v[i], &piece);
        if (out.len > AUTHRES_MAX_HEADER && !out.oom) {
            out.len = saved_len;
            out.s[saved_len] = 0;
            f.col = saved_col;
            break;
        }
        written++;
    }
    if (written == 0)
        buf_str(&out, "; none");
    free(buf_take(&piece));
    return buf_take(&out);
}

/* authres_header_name - the header field name */
const char *authres_header_name(void)
{
    return "Authentication-Results";
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
static int comment_skip(struct cursor *c, struct buf *out)
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
            buf_char(out, ch);
    } while (depth > 0);
    return 0;
}

/* cfws - skip white space, folding and comments; the first comment goes to capture */
static int cfws(struct cursor *c, struct buf *capture, bool *captured)
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
static int quoted_read(struct cursor *c, struct buf *out)
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
        buf_char(out, ch);
    }
}

/* value_read - RFC 2045 value (token or quoted string) into out */
static int value_read(struct cursor *c, struct buf *out, const char *what)
{
    size_t n;

    if (c->p < c->end && *c->p == '"') {
        if (quoted_read(c, out) < 0)
            return -1;
        buf_add(out, "", 0);
        return 0;
    }
    if ((n = span(c->p, (size_t)(c->end - c->p), ch_token)) == 0)
        return fail(c, what);
    buf_add(out, c->p, n);
    c->p += n;
    return 0;
}

/* keyword_read - a keyword of at most AUTHRES_MAX_KEYWORD bytes */
static int keyword_read(struct cursor *c, const char **kw_r, size_t *len_r, const char *what)
{
    size_t n = span(c->p, (size_t)(c->end - c->p), ch_keyword);

    if (!keyword_ok(c->p, n))
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
    struct buf v = {0};
    const char *start = c->p;
    size_t n;

    if (c->p < c->end && *c->p == '"') {
        if (quoted_read(c, &v) < 0) {
            free(buf_take(&v));
            return -1;
        }
        buf_add(&v, "", 0);
        if (c->p < c->end && *c->p == '@') {
            c->p++;
            if ((n = dot_atom_len(c->p, (size_t)(c->end - c->p), ch_atext)) == 0) {
                free(buf_take(&v));
                return fail(c, "expected domain after \"@\"");
            }
            c->p += n;
            v.len = 0;
            buf_add(&v, start, (size_t)(c->p - start));
        }
    } else {
        if ((n = span(c->p, (size_t)(c->end - c->p), ch_pvalue)) == 0)
            return fail(c, "expected property value");
        buf_add(&v, c->p, n);
        c->p += n;
    }
    if ((*value_r = buf_take(&v)) == NULL)
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
    struct buf reason = {0};
    char *value;

    if (keyword_read(c, &ptype, &tlen, "expected property") < 0 || skip(c) < 0)
        return -1;
    if (tlen == 6 && strncasecmp(ptype, "reason", 6) == 0 && c->p < c->end && *c->p == '=') {
        if (res->reason != NULL || res->nprops > 0)
            return fail(c, "misplaced reason");
        if (expect(c, '=', "expected \"=\" after reason") < 0 ||
            value_read(c, &reason, "expected reason value") < 0) {
            free(buf_take(&reason));
            return -1;
        }
        if ((res->reason = buf_take(&reason)) == NULL)
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
    if (prop_new(res, ptype, tlen, property, plen, value) < 0)
        return fail(c, "out of memory");
    return 0;
}

/* resinfo_read - one result after ";"; sets *none for "none" */
static int resinfo_read(struct cursor *c, struct authres *ar, bool *none)
{
    const char *method, *result;
    size_t mlen, rlen;
    struct authres_result *res;
    struct buf comment = {0};
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
        if (span(c->p, (size_t)(c->end - c->p), ch_alnum) == 0 || *c->p < '0' || *c->p > '9')
            return fail(c, "expected method version");
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    if (expect(c, '=', "expected \"=\" after method") < 0 ||
        keyword_read(c, &result, &rlen, "expected result") < 0)
        return -1;
    if (ar->n >= AUTHRES_MAX_RESULTS)
        return fail(c, "too many results");
    if ((res = result_new(ar, method, mlen, result, rlen)) == NULL)
        return fail(c, "out of memory");
    if (cfws(c, &comment, &captured) < 0) {
        free(buf_take(&comment));
        return -1;
    }
    if (captured && (res->comment = buf_take(&comment)) == NULL)
        return fail(c, "out of memory");
    while (c->p < c->end && *c->p != ';')
        if (propspec_read(c, res) < 0)
            return -1;
    return 0;
}

/* payload_read - the whole header value */
static int payload_read(struct cursor *c, struct authres *ar, struct buf *id)
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
    struct buf id = {0};
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
    if (payload_read(&c, ar, &id) < 0 || (*authserv_id_r = buf_take(&id)) == NULL) {
        *error_r = c.error ? c.error : "out of memory";
        free(buf_take(&id));
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
    struct buf quoted = {0};
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
            free(buf_take(&quoted));
            return true;
        }
        ours = id_equal(quoted.s, quoted.len, authserv_id);
        free(buf_take(&quoted));
        return ours;
    }
    token = span(c.p, n, ch_token);
    atom = dot_atom_len(c.p, n, ch_atext);
    for (word = 0;
         word < n && !ch_space((unsigned char)c.p[word]) && c.p[word] != ';' && c.p[word] != '(';
         word++)
        ;
    if (token == 0 && atom == 0)
        return true;
    return id_equal(c.p, token, authserv_id) || id_equal(c.p, atom, authserv_id) ||
           id_equal(c.p, word, authserv_id);
}
