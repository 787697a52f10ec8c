/*
 * NAME
 *	dkim_sign_canon - RFC 6376 canonicalization of headers and body
 * SYNOPSIS
 *	See include/dkim_sign_canon.h.
 *
 *	void	*sign_xmalloc(size_t size);	(include/dkim_sign_int.h)
 * DESCRIPTION
 *	canon_header() and canon_header_text() build one header line in
 *	simple (3.4.1) or relaxed (3.4.2) form; canon_body_*() stream a body
 *	(3.4.3, 3.4.4) into a digest through a 4 KB buffer, holding back
 *	empty lines and relaxed white space until later data shows whether
 *	they count.  No state beyond the struct canon_body the caller owns;
 *	safe from many threads on distinct structs.
 *
 *	sign_xmalloc() lives here, the lowest layer of the dkim_sign files.
 * DIAGNOSTICS
 *	canon_body_update() and canon_body_final() return -1 when the digest
 *	fails.  Memory exhaustion aborts.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_sign_canon.h"
#include "dkim_sign_int.h"

/* sign_xmalloc - malloc, fatal on exhaustion */
void *sign_xmalloc(size_t size)
{
    void *p = malloc(size);

    if (p == NULL) {
        fputs("dkim_sign: out of memory\n", stderr);
        abort();
    }
    return p;
}

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')

/* canon_header_text - "Name: value" with CRLF folding, no final CRLF */
char *canon_header_text(const char *name, const char *value, bool leadspace)
{
    size_t nlen = strlen(name), vlen = strlen(value), i;
    char *out = sign_xmalloc(nlen + 2 + 2 * vlen + 1), *p = out;

    memcpy(p, name, nlen);
    p += nlen;
    *p++ = ':';
    if (!leadspace)
        *p++ = ' ';
    for (i = 0; i < vlen; i++) {
        if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
            *p++ = '\r';
        *p++ = value[i];
    }
    *p = 0;
    return out;
}

/* canon_relaxed_value - append the relaxed form of a value: unfold, squeeze, trim */
static char *canon_relaxed_value(char *p, const char *value)
{
    bool wsp = false, started = false;

    for (; *value; value++) {
        unsigned char c = (unsigned char)*value;

        if (c == '\r' || c == '\n')
            continue;
        if (IS_WSP(c)) {
            wsp = true;
            continue;
        }
        if (wsp && started)
            *p++ = ' ';
        wsp = false;
        started = true;
        *p++ = (char)c;
    }
    return p;
}

/* canon_header - one canonical header line ending in CRLF */
char *canon_header(const char *name, const char *value, enum dkim_sign_canon canon, bool leadspace,
                   size_t *len_r)
{
    size_t nlen = strlen(name), i;
    char *out, *p;

    if (canon == DKIM_SIGN_CANON_SIMPLE) {
        out = canon_header_text(name, value, leadspace);
        *len_r = strlen(out) + 2;
        out = realloc(out, *len_r + 1);
        if (out == NULL) {
            fputs("dkim_sign: out of memory\n", stderr);
            abort();
        }
        memcpy(out + *len_r - 2, "\r\n", 3);
        return out;
    }
    while (nlen > 0 && IS_WSP(name[nlen - 1]))
        nlen--;
    out = sign_xmalloc(nlen + strlen(value) + 4);
    for (i = 0, p = out; i < nlen; i++) {
        char c = name[i];

        *p++ = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    *p++ = ':';
    p = canon_relaxed_value(p, value);
    *p++ = '\r';
    *p++ = '\n';
    *p = 0;
    *len_r = (size_t)(p - out);
    return out;
}

/* canon_body_init - start a body in a digest context already initialised */
void canon_body_init(struct canon_body *cb, enum dkim_sign_canon canon, EVP_MD_CTX *md)
{
    memset(cb, 0, offsetof(struct canon_body, out));
    cb->md = md;
    cb->canon = canon;
}

/* canon_flush - hash what is buffered */
static int canon_flush(struct canon_body *cb)
{
    if (cb->out_len > 0 && EVP_DigestUpdate(cb->md, cb->out, cb->out_len) != 1)
        return -1;
    cb->out_len = 0;
    return 0;
}

/* canon_emit - buffer bytes for the digest */
static int canon_emit(struct canon_body *cb, const char *data, size_t len)
{
    if (cb->out_len + len > sizeof(cb->out) && canon_flush(cb) < 0)
        return -1;
    memcpy(cb->out + cb->out_len, data, len);
    cb->out_len += len;
    cb->emitted = true;
    return 0;
}

/* canon_data - one byte of line content */
static int canon_data(struct canon_body *cb, unsigned char c)
{
    if (cb->canon == DKIM_SIGN_CANON_RELAXED && IS_WSP(c)) {
        cb->wsp_pending = true;
        return 0;
    }
    for (; cb->blank_lines > 0; cb->blank_lines--)
        if (canon_emit(cb, "\r\n", 2) < 0)
            return -1;
    if (cb->wsp_pending) {
        cb->wsp_pending = false;
        if (canon_emit(cb, " ", 1) < 0)
            return -1;
        cb->line_len++;
    }
    cb->line_len++;
    return canon_emit(cb, (const char *)&c, 1);
}

/* canon_eol - end of one line */
static int canon_eol(struct canon_body *cb)
{
    cb->wsp_pending = false; /* relaxed: trailing white space goes */
    if (cb->line_len == 0) {
        cb->blank_lines++;
        return 0;
    }
    cb->line_len = 0;
    return canon_emit(cb, "\r\n", 2);
}

/* canon_body_update - stream a chunk */
int canon_body_update(struct canon_body *cb, const unsigned char *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = buf[i];

        if (c == '\n') {
            cb->cr_pending = false;
            if (canon_eol(cb) < 0)
                return -1;
            continue;
        }
        if (cb->cr_pending && canon_data(cb, '\r') < 0)
            return -1;
        cb->cr_pending = (c == '\r');
        if (!cb->cr_pending && canon_data(cb, c) < 0)
            return -1;
    }
    return 0;
}

/* canon_body_final - finish the body: last line, empty-body rules */
int canon_body_final(struct canon_body *cb)
{
    if (cb->cr_pending && canon_data(cb, '\r') < 0)
        return -1;
    cb->cr_pending = false;
    if (cb->line_len > 0 && canon_eol(cb) < 0)
        return -1;
    if (cb->canon == DKIM_SIGN_CANON_SIMPLE && !cb->emitted && canon_emit(cb, "\r\n", 2) < 0)
        return -1;
    return canon_flush(cb);
}
