/*
 * NAME
 *	addr_lex - RFC 5322 lexical layer of the address parsers
 * SYNOPSIS
 *	#include "addr_int.h"
 *
 *	See include/addr_int.h.
 * DESCRIPTION
 *	The first two passes of addr_parse_list() (see milter/addr.c):
 *	unfolding and tokenizing, plus the character classes and the
 *	canonical local part that addr_parse_path() (milter/addr_path.c)
 *	shares.  Comments are skipped with an iterative depth counter
 *	bounded by ADDR_MAX_DEPTH; nothing here recurses, and each pass is
 *	linear in its input.
 *
 *	Thread safe: no static data besides constant strings.
 * DIAGNOSTICS
 *	-1 and a static reason in *error_r; "out of memory" when realloc
 *	fails.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "addr_int.h"

#define ADDR_MAX_DEPTH 32 /* nested comments */

/* addr_is_atext - RFC 5322 atext, ASCII only */
bool addr_is_atext(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* addr_is_wsp - space or tab */
bool addr_is_wsp(int c)
{
    return c == ' ' || c == '\t';
}

/* addr_is_dot_atom - is text (len bytes) a valid RFC 5322 dot-atom-text? */
bool addr_is_dot_atom(const char *text, size_t len)
{
    size_t i;

    if (len == 0 || text[0] == '.' || text[len - 1] == '.')
        return false;
    for (i = 0; i < len; i++) {
        if (text[i] == '.') {
            if (text[i + 1] == '.')
                return false;
        } else if (!addr_is_atext((unsigned char)text[i])) {
            return false;
        }
    }
    return true;
}

/* addr_canon_local - canonical local part: dot-atom bare, else quoted */
char *addr_canon_local(const char *raw, size_t len)
{
    char *out, *cp;
    size_t i;

    if (addr_is_dot_atom(raw, len)) {
        if ((out = malloc(len + 1)) == NULL)
            return NULL;
        memcpy(out, raw, len);
        out[len] = '\0';
        return out;
    }
    if ((out = cp = malloc(2 * len + 3)) == NULL)
        return NULL;
    *cp++ = '"';
    for (i = 0; i < len; i++) {
        if (raw[i] == '"' || raw[i] == '\\')
            *cp++ = '\\';
        *cp++ = raw[i];
    }
    *cp++ = '"';
    *cp = '\0';
    return out;
}

/* addr_unfold - copy value without folding line breaks; refuse NUL and bare CR */
int addr_unfold(const char *value, size_t len, char *out, size_t *out_len, const char **error_r)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];

        if (c == '\0')
            FAIL("NUL byte in header value");
        if (c == '\r') {
            if (i + 1 >= len || value[i + 1] != '\n')
                FAIL("bare CR in header value");
            i++;
            c = '\n';
        }
        if (c == '\n') {
            if (i + 1 < len && !addr_is_wsp((unsigned char)value[i + 1]))
                FAIL("line break not followed by whitespace");
            continue;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    *out_len = o;
    return 0;
}

/* addr_tok_add - append a token */
static int addr_tok_add(struct toks *t, enum tok_type type, char ch, const char *p, size_t len,
                        const char **error_r)
{
    if (t->n == t->size) {
        size_t size = t->size ? 2 * t->size : 16;
        struct tok *nv = realloc(t->v, size * sizeof(*nv));

        if (nv == NULL)
            FAIL("out of memory");
        t->v = nv;
        t->size = size;
    }
    t->v[t->n].type = type;
    t->v[t->n].ch = ch;
    t->v[t->n].p = p;
    t->v[t->n].len = len;
    t->n++;
    return 0;
}

/* addr_skip_comment - skip a (nested) comment starting at s[*ip] == '(' */
static int addr_skip_comment(const char *s, size_t len, size_t *ip, const char **error_r)
{
    size_t i = *ip + 1;
    int depth = 1;

    while (depth > 0) {
        unsigned char c;

        if (i >= len)
            FAIL("unterminated comment");
        c = (unsigned char)s[i++];
        if (c == '\\') {
            if (i >= len)
                FAIL("unterminated comment");
            c = (unsigned char)s[i++];
        } else if (c == '(') {
            if (++depth > ADDR_MAX_DEPTH)
                FAIL("comments nested too deeply");
        } else if (c == ')') {
            depth--;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            FAIL("control character in comment");
    }
    *ip = i;
    return 0;
}

/* addr_scan_qstring - decode a quoted string at s[*ip] == '"' into *qp */
static int addr_scan_qstring(const char *s, size_t len, size_t *ip, char **qp, const char **error_r)
{
    size_t i = *ip + 1;
    char *q = *qp;

    for (;;) {
        unsigned char c;

        if (i >= len)
            FAIL("unterminated quoted string");
        c = (unsigned char)s[i++];
        if (c == '"')
            break;
        if (c == '\\') {
            if (i >= len)
                FAIL("unterminated quoted string");
            c = (unsigned char)s[i++];
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            FAIL("control character in quoted string");
        *q++ = (char)c;
    }
    *ip = i;
    *qp = q;
    return 0;
}

/* addr_scan_dliteral - copy a domain literal at s[*ip] == '[' into *qp, brackets kept */
static int addr_scan_dliteral(const char *s, size_t len, size_t *ip, char **qp,
                              const char **error_r)
{
    size_t i = *ip + 1;
    char *q = *qp;

    *q++ = '[';
    for (;;) {
        unsigned char c;

        if (i >= len)
            FAIL("unterminated domain literal");
        c = (unsigned char)s[i++];
        if (c == ']')
            break;
        if (addr_is_wsp(c))
            continue;
        if (c == '[' || c == '\\')
            FAIL("invalid character in domain literal");
        if (c < 0x21 || c >= 0x7f)
            FAIL("invalid character in domain literal");
        *q++ = (char)c;
    }
    *q++ = ']';
    *ip = i;
    *qp = q;
    return 0;
}

/* addr_tokenize - split the unfolded value into tokens; qbuf holds decoded text */
int addr_tokenize(const char *s, size_t len, char *qbuf, struct toks *t, const char **error_r)
{
    size_t i = 0;
    char *q = qbuf;

    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        char *start;

        if (addr_is_wsp(c)) {
            i++;
        } else if (c == '(') {
            if (addr_skip_comment(s, len, &i, error_r) < 0)
                return -1;
        } else if (c == '"' || c == '[') {
            start = q;
            if ((c == '"' ? addr_scan_qstring(s, len, &i, &q, error_r)
                          : addr_scan_dliteral(s, len, &i, &q, error_r)) < 0)
                return -1;
            if (addr_tok_add(t, c == '"' ? T_QSTR : T_DLIT, 0, start, (size_t)(q - start),
                             error_r) < 0)
                return -1;
        } else if (strchr("<>@,;:.", c) != NULL) {
            if (addr_tok_add(t, T_SPECIAL, (char)c, s + i, 1, error_r) < 0)
                return -1;
            i++;
        } else if (addr_is_atext(c)) {
            size_t j = i;

            while (j < len && addr_is_atext((unsigned char)s[j]))
                j++;
            if (addr_tok_add(t, T_ATOM, 0, s + i, j - i, error_r) < 0)
                return -1;
            i = j;
        } else if (c == ')') {
            FAIL("unbalanced ')'");
        } else if (c == ']') {
            FAIL("unbalanced ']'");
        } else if (c == '\\') {
            FAIL("backslash outside quoted string");
        } else if (c >= 0x80) {
            FAIL("8-bit character outside quoted string");
        } else {
            FAIL("control character in header value");
        }
    }
    return addr_tok_add(t, T_END, 0, s + len, 0, error_r);
}
