/*
 * NAME
 *	dkim_sign_native - the native engine's DKIM-Signature headers
 * SYNOPSIS
 *	#include "dkim_sign_int.h"
 *
 *	int	native_finish(struct dkim_signer *s);
 * DESCRIPTION
 *	native_finish() ends a message for the native engine of
 *	milter/dkim_sign.c: it finishes the body hash (bh=, shared by every
 *	signature), then for each key builds the DKIM-Signature tags,
 *	folded at 78 columns, hashes the selected headers bottom-up (RFC
 *	6376 5.4.2) plus the signature header with an empty b=, and signs
 *	the digest with the cached EVP_PKEY: RSASSA-PKCS1-v1_5 with
 *	SHA-256, or Ed25519 over the SHA-256 digest (RFC 8463).  The
 *	headers go to s->sigs, LF-folded as libmilter's header insertion wants them.
 * DIAGNOSTICS
 *	0, or -1 after signer_fail(): no From header, a digest or signing
 *	failure.  Memory exhaustion aborts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "dkim_sign_int.h"

#define FOLD_WIDTH 78

/* canon_name - "relaxed" or "simple" */
static const char *canon_name(enum dkim_sign_canon c)
{
    return c == DKIM_SIGN_CANON_SIMPLE ? "simple" : "relaxed";
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
    char *out = sign_xmalloc(4 * ((len + 2) / 3) + 1);

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
    fold_tag(&f, "a=%s;", sign_key_alg(key));
    fold_tag(&f, "c=%s/%s;", canon_name(s->opt.header_canon), canon_name(s->opt.body_canon));
    fold_tag(&f, "d=%.253s;", sign_key_domain(s, key));
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

/* native_finish - native engine: body hash, then one signature per key */
int native_finish(struct dkim_signer *s)
{
    unsigned char bh[EVP_MAX_MD_SIZE];
    unsigned int bhlen = 0;
    char *bh64;
    size_t i;

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
    return 0;
}
