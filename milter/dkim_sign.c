/*
 * NAME
 *	dkim_sign - DKIM-sign one message with every key that applies
 * SYNOPSIS
 *	See include/dkim_sign.h.
 * DESCRIPTION
 *	Native engine: headers named in the sign list are kept in canonical
 *	form (nothing else is stored), the body is canonicalized and hashed
 *	as it streams (one SHA-256 shared by all signatures, which all use
 *	the same canonicalization), and dkim_signer_finish() has
 *	native_finish() (milter/dkim_sign_native.c) build and sign each
 *	DKIM-Signature.
 *
 *	libopendkim engine: the same input handed to one DKIM handle per
 *	key, on a DKIM_LIB of the signer's own (options are per library in
 *	libopendkim); no DNS is configured, signing needs none.
 *
 *	Both engines follow the same sign list and oversigning rules, so the
 *	tests can compare their bh= and h= values.  The canonicalization
 *	functions (include/dkim_sign_canon.h) are in milter/dkim_sign_canon.c;
 *	the state the three files share is in include/dkim_sign_int.h.
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

#include <dkim.h>

#include "dkim_sign.h"
#include "dkim_sign_canon.h"
#include "dkim_sign_int.h"

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

EVP_MD *sign_sha256;
static pthread_once_t sign_once = PTHREAD_ONCE_INIT;

/* sign_init_once - fetch SHA-256 once (an implicit fetch per use is slow) */
static void sign_init_once(void)
{
    sign_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* signer_fail - record an error, refuse further input; returns -1 */
int __attribute__((format(printf, 2, 3))) signer_fail(struct dkim_signer *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
    s->state = ST_FAILED;
    ERR_clear_error();
    return -1;
}

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

/* sign_key_domain - the d= of a key for this message */
const char *sign_key_domain(const struct dkim_signer *s, const struct dkim_key *key)
{
    return strcmp(key->domain, "%") == 0 ? s->from_domain : key->domain;
}

/* sign_key_alg - the a= of a key */
const char *sign_key_alg(const struct dkim_key *key)
{
    return key->type == DKIM_KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256";
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
            (const unsigned char *)key->selector, (const unsigned char *)sign_key_domain(s, key),
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
                         i ? ", " : "", sign_key_domain(s, s->keys[i]), s->keys[i]->selector,
                         sign_key_alg(s->keys[i]));
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
        s->sigs[i].value = sign_xmalloc(len + 1);
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
    *sigs_r = NULL;
    *n_r = 0;
    if (s->state == ST_HEADERS && dkim_signer_eoh(s) < 0)
        return -1;
    if (s->state != ST_BODY)
        return s->state == ST_FAILED ? -1 : signer_fail(s, "finished twice");
    s->state = ST_DONE;
    if ((s->lib != NULL ? odkim_finish(s) : native_finish(s)) < 0)
        return -1;
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