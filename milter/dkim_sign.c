/*
 * NAME
 *	dkim_sign - DKIM-sign one message with every key that applies
 * SYNOPSIS
 *	See include/dkim_sign.h.
 * DESCRIPTION
 *	Native engine: headers named in the sign list are kept in canonical
 *	form (nothing else is stored), the body is canonicalized and hashed
 *	as it streams (one SHA-256 shared by all signatures, which all use
 *	the same canonicalization), and dkim_signer_finish() builds each
 *	DKIM-Signature, hashes the selected headers bottom-up (RFC 6376
 *	5.4.2) plus the signature header with an empty b=, and signs the
 *	digest with the cached EVP_PKEY: RSASSA-PKCS1-v1_5 with SHA-256, or
 *	Ed25519 over the SHA-256 digest (RFC 8463).
 *
 *	libopendkim engine: the same input handed to one DKIM handle per
 *	key, on a DKIM_LIB of the signer's own (options are per library in
 *	libopendkim); no DNS is configured, signing needs none.
 *
 *	Both engines follow the same sign list and oversigning rules, so the
 *	tests can compare their bh= and h= values.  The canonicalization
 *	functions (include/dkim_sign_canon.h) live here too, so that the
 *	module is the one file milter/dkim_sign.c; they have no state.
 * DIAGNOSTICS
 *	dkim_signer_error() after a -1 return.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <dkim.h>

#include "dkim_sign.h"
#include "dkim_sign_canon.h"

#define SIG_NAME "DKIM-Signature"
#define SIG_PREFIX_LEN (sizeof(SIG_NAME) + 1) /* "DKIM-Signature: " */
#define FOLD_WIDTH 78
#define MAX_NAMES 64 /* distinct names in the sign list */

const char *const dkim_sign_default_headers[] = {
    "From",           "To",           "Cc",
    "Subject",        "Date",         "Message-ID",
    "Reply-To",       "In-Reply-To",  "References",
    "MIME-Version",   "Content-Type", "Content-Transfer-Encoding",
    "List-Id",        "List-Help",    "List-Unsubscribe",
    "List-Subscribe", "List-Post",    "List-Owner",
    "List-Archive",   NULL,
};

static const char *const default_oversign[] = {"From", NULL};

struct stored_hdr {
    size_t name; /* index into signer->names */
    char *canon;
    size_t len;
};

enum signer_state { ST_HEADERS, ST_BODY, ST_DONE, ST_FAILED };

struct dkim_signer {
    enum signer_state state;
    struct dkim_sign_options opt;
    const struct dkim_key *keys[KEYSET_MAX_SIGS];
    size_t nkeys;
    char *from_domain;

    /* sign list: distinct names, and whether each is oversigned */
    const char *names[MAX_NAMES];
    bool oversign[MAX_NAMES];
    size_t nnames;

    /* native engine */
    struct stored_hdr *hdrs;
    size_t nhdrs, hdr_bytes;
    EVP_MD_CTX *body_md;
    struct canon_body body;

    /* libopendkim engine */
    DKIM_LIB *lib;
    DKIM *dkim[KEYSET_MAX_SIGS];

    struct dkim_sig_header sigs[KEYSET_MAX_SIGS];
    size_t nsigs;
    char describe[KEYSET_MAX_SIGS * 200];
    char error[256];
};

static EVP_MD *sign_sha256;
static pthread_once_t sign_once = PTHREAD_ONCE_INIT;

/* sign_init_once - fetch SHA-256 once (an implicit fetch per use is slow) */
static void sign_init_once(void)
{
    sign_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* signer_fail - record an error, refuse further input; returns -1 */
static int __attribute__((format(printf, 2, 3)))
signer_fail(struct dkim_signer *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
    s->state = ST_FAILED;
    ERR_clear_error();
    return -1;
}

/* xmalloc - malloc, fatal on exhaustion */
static void *xmalloc(size_t size)
{
    void *p = malloc(size);

    if (p == NULL) {
        fputs("dkim_sign: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* --- canonicalization (RFC 6376 3.4), see include/dkim_sign_canon.h --- */

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')

/* canon_header_text - "Name: value" with CRLF folding, no final CRLF */
char *canon_header_text(const char *name, const char *value, bool leadspace)
{
    size_t nlen = strlen(name), vlen = strlen(value), i;
    char *out = xmalloc(nlen + 2 + 2 * vlen + 1), *p = out;

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
    out = xmalloc(nlen + strlen(value) + 4);
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

/* --- the signer --- */

/* name_index - position of a header name in the sign list, or -1 */
static int name_index(const struct dkim_signer *s, const char *name)
{
    size_t i;

    for (i = 0; i < s->nnames; i++)
        if (strcasecmp(s->names[i], name) == 0)
            return (int)i;
    return -1;
}

/* name_add - add a name to the sign list once */
static void name_add(struct dkim_signer *s, const char *name, bool oversign)
{
    int i = name_index(s, name);

    if (i >= 0) {
        s->oversign[i] |= oversign;
    } else if (s->nnames < MAX_NAMES) {
        s->names[s->nnames] = name;
        s->oversign[s->nnames++] = oversign;
    }
}

/* key_domain - the d= of a key for this message */
static const char *key_domain(const struct dkim_signer *s, const struct dkim_key *key)
{
    return strcmp(key->domain, "%") == 0 ? s->from_domain : key->domain;
}

/* key_alg - the a= of a key */
static const char *key_alg(const struct dkim_key *key)
{
    return key->type == DKIM_KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256";
}

/* canon_name - "relaxed" or "simple" */
static const char *canon_name(enum dkim_sign_canon c)
{
    return c == DKIM_SIGN_CANON_SIMPLE ? "simple" : "relaxed";
}

/* odkim_start - libopendkim engine: one library, one handle per key */
static const char *odkim_start(struct dkim_signer *s)
{
    const char *list[MAX_NAMES + 1];
    const char *over[MAX_NAMES + 1];
    unsigned int flags = 0;
    uint64_t fixed = (uint64_t)s->opt.fixed_time, ttl = s->opt.ttl;
    DKIM_STAT st;
    size_t i, n = 0;

    s->lib = dkim_init(NULL, NULL);
    if (s->lib == NULL)
        return "dkim_init failed";
    for (i = 0; i < s->nnames; i++)
        if (s->oversign[i])
            over[n++] = s->names[i];
    over[n] = NULL;
    for (i = 0; i < s->nnames; i++)
        list[i] = s->names[i];
    list[s->nnames] = NULL;
    if (dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) !=
            DKIM_STAT_OK ||
        dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, over, sizeof(char **)) !=
            DKIM_STAT_OK ||
        dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, list, sizeof(char **)) !=
            DKIM_STAT_OK ||
        (fixed != 0 && dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &fixed,
                                    sizeof(fixed)) != DKIM_STAT_OK) ||
        (ttl != 0 && dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNATURETTL, &ttl,
                                  sizeof(ttl)) != DKIM_STAT_OK))
        return "dkim_options failed";
    for (i = 0; i < s->nkeys; i++) {
        const struct dkim_key *key = s->keys[i];

        s->dkim[i] = dkim_sign(
            s->lib, (const unsigned char *)"authmilter", NULL, key->pem,
            (const unsigned char *)key->selector, (const unsigned char *)key_domain(s, key),
            s->opt.header_canon == DKIM_SIGN_CANON_SIMPLE ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED,
            s->opt.body_canon == DKIM_SIGN_CANON_SIMPLE ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED,
            key->type == DKIM_KEY_ED25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1, &st);
        if (s->dkim[i] == NULL)
            return "dkim_sign failed";
    }
    return NULL;
}

/* signer_describe - the log text, once */
static void signer_describe(struct dkim_signer *s)
{
    size_t i, off = 0;

    for (i = 0; i < s->nkeys && off < sizeof(s->describe); i++) {
        int n = snprintf(s->describe + off, sizeof(s->describe) - off, "%sd=%.100s s=%.60s a=%s",
                         i ? ", " : "", key_domain(s, s->keys[i]), s->keys[i]->selector,
                         key_alg(s->keys[i]));
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

/* dkim_signer_new - prepare the signatures for one message */
struct dkim_signer *dkim_signer_new(const struct keyset *ks, const char *from_addr,
                                    const struct dkim_sign_options *opt, const char **error_r)
{
    static const struct dkim_sign_options defaults;
    const struct dkim_key *keys[KEYSET_MAX_SIGS];
    const char *const *list;
    const char *at, *err;
    struct dkim_signer *s;
    size_t n, i;

    *error_r = NULL;
    n = keyset_match(ks, from_addr, keys, KEYSET_MAX_SIGS);
    if (n == 0)
        return NULL;
    pthread_once(&sign_once, sign_init_once);
    if (sign_sha256 == NULL) {
        *error_r = "SHA-256 is not available from OpenSSL";
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        *error_r = "out of memory";
        return NULL;
    }
    s->opt = opt ? *opt : defaults;
    memcpy(s->keys, keys, n * sizeof(keys[0]));
    s->nkeys = n;
    at = strrchr(from_addr, '@');
    s->from_domain = strdup(at + 1);
    if (s->from_domain == NULL) {
        free(s);
        *error_r = "out of memory";
        return NULL;
    }
    for (i = 0; s->from_domain[i]; i++)
        s->from_domain[i] = (char)tolower((unsigned char)s->from_domain[i]);
    name_add(s, "From", false); /* RFC 6376 5.4: From is always signed */
    list = s->opt.sign_headers ? s->opt.sign_headers : dkim_sign_default_headers;
    for (i = 0; list[i] != NULL; i++)
        name_add(s, list[i], false);
    list = s->opt.oversign_headers ? s->opt.oversign_headers : default_oversign;
    for (i = 0; list[i] != NULL; i++)
        name_add(s, list[i], true);
    signer_describe(s);

    if (s->opt.engine == DKIM_ENGINE_LIBOPENDKIM) {
        err = odkim_start(s);
    } else {
        err = NULL;
        s->body_md = EVP_MD_CTX_new();
        if (s->body_md == NULL || EVP_DigestInit_ex(s->body_md, sign_sha256, NULL) != 1)
            err = "cannot start SHA-256";
        else
            canon_body_init(&s->body, s->opt.body_canon, s->body_md);
    }
    if (err != NULL) {
        dkim_signer_free(&s);
        *error_r = err;
        return NULL;
    }
    return s;
}

/* dkim_signer_header - one header, as libmilter hands it */
int dkim_signer_header(struct dkim_signer *s, const char *name, const char *value)
{
    size_t i;
    int idx;

    if (s->state != ST_HEADERS)
        return s->state == ST_FAILED ? -1 : signer_fail(s, "header after end of headers");
    if (s->lib != NULL) {
        char *text = canon_header_text(name, value, s->opt.value_leadspace);
        DKIM_STAT st = DKIM_STAT_OK;

        for (i = 0; i < s->nkeys && st == DKIM_STAT_OK; i++)
            st = dkim_header(s->dkim[i], (unsigned char *)text, strlen(text));
        free(text);
        if (st != DKIM_STAT_OK)
            return signer_fail(s, "libopendkim: header: %s", dkim_getresultstr(st));
        return 0;
    }
    if ((idx = name_index(s, name)) < 0)
        return 0;
    s->hdrs = realloc(s->hdrs, (s->nhdrs + 1) * sizeof(*s->hdrs));
    if (s->hdrs == NULL) {
        fputs("dkim_sign: out of memory\n", stderr);
        abort();
    }
    s->hdrs[s->nhdrs].name = (size_t)idx;
    s->hdrs[s->nhdrs].canon = canon_header(name, value, s->opt.header_canon, s->opt.value_leadspace,
                                           &s->hdrs[s->nhdrs].len);
    s->hdr_bytes += s->hdrs[s->nhdrs].len;
    s->nhdrs++;
    if (s->hdr_bytes > DKIM_SIGN_MAX_HDR_BYTES)
        return signer_fail(s, "signed headers exceed %d bytes", DKIM_SIGN_MAX_HDR_BYTES);
    return 0;
}

/* dkim_signer_eoh - end of headers */
int dkim_signer_eoh(struct dkim_signer *s)
{
    size_t i;

    if (s->state != ST_HEADERS)
        return s->state == ST_FAILED ? -1 : signer_fail(s, "end of headers twice");
    s->state = ST_BODY;
    for (i = 0; s->lib != NULL && i < s->nkeys; i++) {
        DKIM_STAT st = dkim_eoh(s->dkim[i]);

        if (st != DKIM_STAT_OK)
            return signer_fail(s, "libopendkim: end of headers: %s: %s", dkim_getresultstr(st),
                               dkim_geterror(s->dkim[i]) ? dkim_geterror(s->dkim[i]) : "");
    }
    return 0;
}

/* dkim_signer_body - one body chunk */
int dkim_signer_body(struct dkim_signer *s, const unsigned char *buf, size_t len)
{
    size_t i;

    if (s->state != ST_BODY)
        return s->state == ST_FAILED ? -1 : signer_fail(s, "body outside the body phase");
    if (s->lib == NULL)
        return canon_body_update(&s->body, buf, len) < 0 ? signer_fail(s, "body hash failed") : 0;
    for (i = 0; i < s->nkeys; i++) {
        DKIM_STAT st = dkim_body(s->dkim[i], (unsigned char *)buf, len);

        if (st != DKIM_STAT_OK)
            return signer_fail(s, "libopendkim: body: %s", dkim_getresultstr(st));
    }
    return 0;
}

/* struct fold - a header value being built with CRLF folding */
struct fold {
    char *buf;
    size_t len, cap, col;
};

/* fold_put - append bytes */
static void fold_put(struct fold *f, const char *data, size_t len)
{
    if (f->len + len + 1 > f->cap) {
        f->cap = (f->len + len + 1) * 2;
        f->buf = realloc(f->buf, f->cap);
        if (f->buf == NULL) {
            fputs("dkim_sign: out of memory\n", stderr);
            abort();
        }
    }
    memcpy(f->buf + f->len, data, len);
    f->len += len;
    f->buf[f->len] = 0;
    f->col += len;
}

/* fold_break - start a continuation line */
static void fold_break(struct fold *f)
{
    fold_put(f, "\r\n\t", 3);
    f->col = 8;
}

/* fold_tag - append "tag=value;" as one unit, breaking before it if needed */
static void fold_tag(struct fold *f, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        n = (int)strlen(tmp);
    if (f->len > 0) {
        if (f->col + 1 + (size_t)n > FOLD_WIDTH)
            fold_break(f);
        else
            fold_put(f, " ", 1);
    }
    fold_put(f, tmp, (size_t)n);
}

/* fold_split - append a long value in pieces; breaks allowed between pieces */
static void fold_split(struct fold *f, const char *data, size_t len, char sep)
{
    size_t i = 0;

    while (i < len) {
        size_t piece = 1;

        if (sep != 0) {
            const char *p = memchr(data + i, sep, len - i);

            piece = p ? (size_t)(p - (data + i)) + 1 : len - i;
        } else {
            if (f->col >= FOLD_WIDTH)
                fold_break(f);
            piece = len - i;
            if (piece > FOLD_WIDTH - f->col)
                piece = FOLD_WIDTH - f->col;
        }
        if (f->col + piece > FOLD_WIDTH && f->col > 8)
            fold_break(f);
        fold_put(f, data + i, piece);
        i += piece;
    }
}

/* b64 - base64 of binary data into a malloc'd string */
static char *b64(const unsigned char *data, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);

    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

/* native_hlist - build h= and hash the selected headers bottom-up */
static void native_hlist(struct dkim_signer *s, EVP_MD_CTX *md, char *hlist, size_t size)
{
    size_t i, j, k, off = 0, count, idx[DKIM_SIGN_MAX_INSTANCES];

    hlist[0] = 0;
    for (i = 0; i < s->nnames; i++) {
        /* the last DKIM_SIGN_MAX_INSTANCES instances, bottom-up */
        count = 0;
        for (j = s->nhdrs; j-- > 0 && count < DKIM_SIGN_MAX_INSTANCES;)
            if (s->hdrs[j].name == i)
                idx[count++] = j;
        for (k = 0; k < count + (s->oversign[i] ? 1 : 0); k++) {
            if (k < count)
                EVP_DigestUpdate(md, s->hdrs[idx[k]].canon, s->hdrs[idx[k]].len);
            off += (size_t)snprintf(hlist + off, size - off, "%s%s", off ? ":" : "", s->names[i]);
            if (off >= size)
                off = size - 1;
        }
    }
}

/* native_sign - sign a SHA-256 digest with a cached key; length or 0 */
static size_t native_sign(const struct dkim_key *key, const unsigned char *digest,
                          unsigned char *sig, size_t size)
{
    size_t len = size;
    int ok;

    if (key->type == DKIM_KEY_ED25519) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestSign(ctx, sig, &len, digest, 32) == 1;
        EVP_MD_CTX_free(ctx);
    } else {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key->pkey, NULL);

        ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
             EVP_PKEY_CTX_set_signature_md(ctx, sign_sha256) == 1 &&
             EVP_PKEY_sign(ctx, sig, &len, digest, 32) == 1;
        EVP_PKEY_CTX_free(ctx);
    }
    return ok ? len : 0;
}

/* native_one - build and sign one DKIM-Signature; 0 or -1 */
static int native_one(struct dkim_signer *s, const struct dkim_key *key, const char *bh,
                      struct dkim_sig_header *out)
{
    unsigned char digest[EVP_MAX_MD_SIZE], sig[1024];
    char hlist[MAX_NAMES * DKIM_SIGN_MAX_INSTANCES * 8];
    struct fold f = {NULL, 0, 0, SIG_PREFIX_LEN};
    long long t = s->opt.fixed_time ? (long long)s->opt.fixed_time : (long long)time(NULL);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int dlen = 0;
    size_t siglen, i, j;
    char *canon, *sigb64;
    int ok;

    if (md == NULL || EVP_DigestInit_ex(md, sign_sha256, NULL) != 1) {
        EVP_MD_CTX_free(md);
        return signer_fail(s, "cannot start SHA-256");
    }
    native_hlist(s, md, hlist, sizeof(hlist));
    fold_tag(&f, "v=1;");
    fold_tag(&f, "a=%s;", key_alg(key));
    fold_tag(&f, "c=%s/%s;", canon_name(s->opt.header_canon), canon_name(s->opt.body_canon));
    fold_tag(&f, "d=%.253s;", key_domain(s, key));
    fold_tag(&f, "s=%.63s;", key->selector);
    fold_tag(&f, "t=%lld;", t);
    if (s->opt.ttl != 0)
        fold_tag(&f, "x=%lld;", t + (long long)s->opt.ttl);
    fold_tag(&f, "h=");
    fold_split(&f, hlist, strlen(hlist), ':');
    fold_put(&f, ";", 1);
    fold_tag(&f, "bh=");
    fold_split(&f, bh, strlen(bh), 0);
    fold_put(&f, ";", 1);
    fold_tag(&f, "b=");

    /* the signature header itself, b= empty, no final CRLF */
    canon = canon_header(SIG_NAME, f.buf, s->opt.header_canon, false, &i);
    ok = EVP_DigestUpdate(md, canon, i - 2) == 1 && EVP_DigestFinal_ex(md, digest, &dlen) == 1;
    free(canon);
    EVP_MD_CTX_free(md);
    siglen = ok ? native_sign(key, digest, sig, sizeof(sig)) : 0;
    if (siglen == 0) {
        free(f.buf);
        return signer_fail(s, "signing with key %.100s failed", key->name);
    }
    sigb64 = b64(sig, siglen);
    fold_split(&f, sigb64, strlen(sigb64), 0);
    free(sigb64);

    /* CRLF folding becomes LF for smfi_insheader */
    for (i = j = 0; i < f.len; i++)
        if (f.buf[i] != '\r')
            f.buf[j++] = f.buf[i];
    f.buf[j] = 0;
    out->name = SIG_NAME;
    out->value = f.buf;
    return 0;
}

/* odkim_finish - libopendkim engine: end of message, fetch each header */
static int odkim_finish(struct dkim_signer *s)
{
    size_t i, j, len;
    unsigned char *hdr;
    DKIM_STAT st;

    for (i = 0; i < s->nkeys; i++) {
        st = dkim_eom(s->dkim[i], NULL);
        if (st == DKIM_STAT_OK)
            st = dkim_getsighdr_d(s->dkim[i], SIG_PREFIX_LEN, &hdr, &len);
        if (st != DKIM_STAT_OK)
            return signer_fail(s, "libopendkim: key %.100s: %s: %.100s", s->keys[i]->name,
                               dkim_getresultstr(st),
                               dkim_geterror(s->dkim[i]) ? dkim_geterror(s->dkim[i]) : "");
        s->sigs[i].name = SIG_NAME;
        s->sigs[i].value = xmalloc(len + 1);
        for (j = 0; len > 0 && *hdr; hdr++, len--)
            if (*hdr != '\r')
                s->sigs[i].value[j++] = (char)*hdr;
        s->sigs[i].value[j] = 0;
        s->nsigs = i + 1;
    }
    return 0;
}

/* dkim_signer_finish - compute every signature */
int dkim_signer_finish(struct dkim_signer *s, const struct dkim_sig_header **sigs_r, size_t *n_r)
{
    unsigned char bh[EVP_MAX_MD_SIZE];
    unsigned int bhlen = 0;
    char *bh64;
    size_t i;

    *sigs_r = NULL;
    *n_r = 0;
    if (s->state == ST_HEADERS && dkim_signer_eoh(s) < 0)
        return -1;
    if (s->state != ST_BODY)
        return s->state == ST_FAILED ? -1 : signer_fail(s, "finished twice");
    s->state = ST_DONE;
    if (s->lib != NULL) {
        if (odkim_finish(s) < 0)
            return -1;
    } else {
        for (i = 0; i < s->nhdrs && s->hdrs[i].name != 0; i++)
            ;
        if (i == s->nhdrs)
            return signer_fail(s, "message has no From header");
        if (canon_body_final(&s->body) < 0 || EVP_DigestFinal_ex(s->body_md, bh, &bhlen) != 1)
            return signer_fail(s, "body hash failed");
        bh64 = b64(bh, bhlen);
        for (i = 0; i < s->nkeys; i++) {
            if (native_one(s, s->keys[i], bh64, &s->sigs[i]) < 0) {
                free(bh64);
                return -1;
            }
            s->nsigs = i + 1;
        }
        free(bh64);
    }
    *sigs_r = s->sigs;
    *n_r = s->nsigs;
    return 0;
}

/* dkim_signer_describe - "d=... s=... a=..." per signature */
const char *dkim_signer_describe(const struct dkim_signer *s)
{
    return s->describe;
}

/* dkim_signer_error - why the last call failed */
const char *dkim_signer_error(const struct dkim_signer *s)
{
    return s->error[0] ? s->error : "no error";
}

/* dkim_signer_free - release a signer; sets *sp to NULL */
void dkim_signer_free(struct dkim_signer **sp)
{
    struct dkim_signer *s = *sp;
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->nhdrs; i++)
        free(s->hdrs[i].canon);
    free(s->hdrs);
    EVP_MD_CTX_free(s->body_md);
    for (i = 0; i < s->nkeys; i++)
        if (s->dkim[i] != NULL)
            dkim_free(s->dkim[i]);
    if (s->lib != NULL)
        dkim_close(s->lib);
    for (i = 0; i < s->nsigs; i++)
        free(s->sigs[i].value);
    free(s->from_domain);
    free(s);
    *sp = NULL;
}
