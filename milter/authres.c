/*
 * NAME
 *	authres - Authentication-Results result model and writer
 * SYNOPSIS
 *	See include/authres.h; the helpers shared with the parser are
 *	declared in include/authres_int.h.
 * DESCRIPTION
 *	The only code that writes RFC 8601 Authentication-Results; the
 *	parser is in authres_parse.c.  Text from peers (HELO names,
 *	addresses, DKIM tags) is cleaned to printable ASCII and capped both
 *	when stored and when written, so a hostile value can never end the
 *	header, start another one, or add a result.  The writer quotes by
 *	the RFC 2045 / RFC 5322 rules.  Character classes are ASCII only and
 *	do not depend on the locale.
 *
 *	This file also defines the character classes, scanners, string
 *	buffer and result constructors the parser uses, so that it links on
 *	its own (the writer never needs the parser).
 *
 *	Reentrant: no globals; a struct authres belongs to one thread.
 * DIAGNOSTICS
 *	Returned to the caller; see include/authres.h.
 */
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "authres_int.h"

#define AUTHRES_PREFIX_WIDTH 24 /* strlen("Authentication-Results: ") */
#define AUTHRES_TAB_WIDTH 8
#define AUTHRES_MAX_ID 255

/* ---- character classes ---- */

/* ar_ch_alnum - ASCII letter or digit */
bool ar_ch_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ar_ch_token - RFC 2045 token character (printable, no space, no tspecial) */
bool ar_ch_token(int c)
{
    return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* ar_ch_atext - RFC 5322 atext */
bool ar_ch_atext(int c)
{
    return ar_ch_alnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* ch_id - authserv-id character we write: both token and atext */
static bool ch_id(int c)
{
    return ar_ch_token(c) && ar_ch_atext(c);
}

/* ar_ch_keyword - method, result, ptype and property character */
bool ar_ch_keyword(int c)
{
    return ar_ch_alnum(c) || c == '-' || c == '_';
}

/* ar_span - length of the prefix of s[0..n) whose bytes are all in a class */
size_t ar_span(const char *s, size_t n, bool (*in_class)(int))
{
    size_t i = 0;

    while (i < n && in_class((unsigned char)s[i]))
        i++;
    return i;
}

/* ar_dot_atom_len - length of the longest dot-atom of class chars at s, 0 if none */
size_t ar_dot_atom_len(const char *s, size_t n, bool (*in_class)(int))
{
    size_t len = ar_span(s, n, in_class), more;

    while (len > 0 && len + 1 < n && s[len] == '.' &&
           (more = ar_span(s + len + 1, n - len - 1, in_class)) > 0)
        len += 1 + more;
    return len;
}

/* ar_keyword_ok - method, result, ptype or property: 1..64 keyword chars, alnum first */
bool ar_keyword_ok(const char *s, size_t n)
{
    return n > 0 && n <= AUTHRES_MAX_KEYWORD && ar_ch_alnum((unsigned char)s[0]) &&
           ar_span(s, n, ar_ch_keyword) == n;
}

/* domain_ok - RFC 5321 Domain: let-dig/hyphen labels of 1..63, 255 in all */
static bool domain_ok(const char *s, size_t n)
{
    size_t i = 0, label;

    if (n == 0 || n > 255)
        return false;
    for (;;) {
        label = ar_span(s + i, n - i, ar_ch_keyword);
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

/* ar_buf_add - append n bytes; on failure remember it and keep the old text */
void ar_buf_add(struct ar_buf *b, const char *s, size_t n)
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
static void buf_str(struct ar_buf *b, const char *s)
{
    ar_buf_add(b, s, strlen(s));
}

/* ar_buf_char - append one byte */
void ar_buf_char(struct ar_buf *b, char c)
{
    ar_buf_add(b, &c, 1);
}

/* buf_escaped - append open, s with "\" before each byte in specials, close */
static void buf_escaped(struct ar_buf *b, char open, const char *s, size_t n, const char *specials,
                        char close)
{
    size_t i;

    ar_buf_char(b, open);
    for (i = 0; i < n; i++) {
        if (strchr(specials, s[i]) != NULL)
            ar_buf_char(b, '\\');
        ar_buf_char(b, s[i]);
    }
    ar_buf_char(b, close);
}

/* ar_buf_take - hand the text over to the caller (NULL on failure) */
char *ar_buf_take(struct ar_buf *b)
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

/* ar_result_new - append a result with n-byte method and result keywords */
struct authres_result *ar_result_new(struct authres *ar, const char *method, size_t mlen,
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
        !ar_keyword_ok(method, strnlen(method, AUTHRES_MAX_KEYWORD + 1)) ||
        !ar_keyword_ok(result, strnlen(result, AUTHRES_MAX_KEYWORD + 1)))
        return NULL;
    return ar_result_new(ar, method, strlen(method), result, strlen(result));
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

/* ar_prop_new - append a property from parts that are already checked */
int ar_prop_new(struct authres_result *res, const char *ptype, size_t tlen, const char *property,
                size_t plen, char *value)
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
    if ((dot = memchr(name, '.', len)) == NULL || !ar_keyword_ok(name, (size_t)(dot - name)) ||
        !ar_keyword_ok(dot + 1, len - (size_t)(dot - name) - 1))
        return -1;
    return ar_prop_new(res, name, (size_t)(dot - name), dot + 1, len - (size_t)(dot - name) - 1,
                       text_clean(value, AUTHRES_MAX_VALUE));
}

/* ---- writer ---- */

enum value_form { VALUE_TOKEN, VALUE_ADDR, VALUE_ADDR_QUOTE_LOCAL, VALUE_QUOTED };

/* value_form - how a cleaned property value is written */
static enum value_form value_form(const char *v, size_t n, size_t *at_r)
{
    const char *at = NULL, *p;
    size_t local;

    if (ar_span(v, n, ar_ch_token) == n)
        return VALUE_TOKEN;
    for (p = v; (p = memchr(p, '@', n - (size_t)(p - v))) != NULL; p++)
        at = p;
    if (at == NULL || !domain_ok(at + 1, n - (size_t)(at - v) - 1))
        return VALUE_QUOTED;
    *at_r = local = (size_t)(at - v);
    if (local == 0 || ar_dot_atom_len(v, local, ar_ch_atext) == local || quoted_ok(v, local))
        return VALUE_ADDR;
    return VALUE_ADDR_QUOTE_LOCAL;
}

/* value_write - write a property value as token, addr-spec or quoted string */
static void value_write(struct ar_buf *b, const char *value)
{
    char v[AUTHRES_MAX_VALUE + 1];
    size_t n = text_clean_into(v, value, AUTHRES_MAX_VALUE), at = 0;

    switch (value_form(v, n, &at)) {
    case VALUE_TOKEN:
    case VALUE_ADDR:
        ar_buf_add(b, v, n);
        break;
    case VALUE_ADDR_QUOTE_LOCAL:
        buf_escaped(b, '"', v, at, "\"\\", '"');
        ar_buf_add(b, v + at, n - at);
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
static void text_write(struct ar_buf *b, const char *text, bool comment)
{
    char v[AUTHRES_MAX_REASON + 1];
    size_t n = text_clean_into(v, text, AUTHRES_MAX_REASON);

    if (comment)
        buf_escaped(b, '(', v, n, "()\\", ')');
    else if (n > 0 && ar_span(v, n, ar_ch_token) == n)
        ar_buf_add(b, v, n);
    else
        buf_escaped(b, '"', v, n, "\"\\", '"');
}

struct fold {
    struct ar_buf *out;
    size_t col;
};

/* fold_piece - append an unbreakable piece after a space or a line break */
static void fold_piece(struct fold *f, const struct ar_buf *piece, bool newline)
{
    /* One column is kept free for the ";" that may follow the piece. */
    if (newline || f->col + 1 + piece->len + 1 > AUTHRES_FOLD_WIDTH) {
        ar_buf_add(f->out, "\n\t", 2);
        f->col = AUTHRES_TAB_WIDTH;
    } else {
        ar_buf_char(f->out, ' ');
        f->col++;
    }
    ar_buf_add(f->out, piece->s, piece->len);
    f->col += piece->len;
}

/* prop_ok - whether a property of a hand-filled struct can be written */
static bool prop_ok(const struct authres_prop *prop)
{
    return prop->ptype != NULL && prop->property != NULL && prop->value != NULL &&
           *prop->value != 0 && ar_keyword_ok(prop->ptype, strlen(prop->ptype)) &&
           ar_keyword_ok(prop->property, strlen(prop->property));
}

/* result_ok - whether a result of a hand-filled struct can be written */
static bool result_ok(const struct authres_result *res)
{
    return res != NULL && res->method != NULL && res->result != NULL &&
           ar_keyword_ok(res->method, strlen(res->method)) &&
           ar_keyword_ok(res->result, strlen(res->result));
}

/* result_write - write one resinfo (without the ";") as folded pieces */
static void result_write(struct fold *f, const struct authres_result *res, struct ar_buf *piece)
{
    size_t i, pass;

    piece->len = 0;
    buf_str(piece, res->method);
    ar_buf_char(piece, '=');
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
            ar_buf_char(piece, '.');
            buf_str(piece, res->props[i].property);
            ar_buf_char(piece, '=');
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
    return n > 0 && n <= AUTHRES_MAX_ID && ar_dot_atom_len(authserv_id, n, ch_id) == n;
}

/* authres_format - the header value for a result list */
char *authres_format(const char *authserv_id, const struct authres *ar)
{
    struct ar_buf out = {0}, piece = {0};
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
        ar_buf_char(&out, ';');
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
    free(ar_buf_take(&piece));
    return ar_buf_take(&out);
}

/* authres_header_name - the header field name */
const char *authres_header_name(void)
{
    return "Authentication-Results";
}
