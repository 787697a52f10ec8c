/*
 * NAME
 *	dkim_verify_sig - one libopendkim signature to one RFC 8601 result
 * SYNOPSIS
 *	See include/dkim_verify_int.h.
 * DESCRIPTION
 *	verify_result_fill() decides in this order, first match wins:
 *	signature syntax (permerror), key lookup outcome (temperror for a
 *	DNS failure, permerror for no key / several / bad name), key record
 *	problems incl. revocation (permerror), x= in the past (fail), the
 *	cryptographic verdict (fail), then RFC 8301 and t= (policy), pass.
 *
 *	libopendkim 2.11 pitfalls handled here: DKIM_SIGFLAG_PASSED is set
 *	when the header signature verifies even if the body hash does not
 *	match, so a pass needs dkim_sig_getbh() == DKIM_SIGBH_MATCH too;
 *	Ed25519 keys are reported as 0 bits, so the RSA size rule looks at
 *	the algorithm first; a body shorter than l= leaves PASSED set with
 *	the body hash untested (no error code); x= and t= are checked here
 *	against the clock rather than trusting which of them the library
 *	enforces.
 * DIAGNOSTICS
 *	verify_result_fill() returns -1 only when memory ran out.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkim_verify_int.h"

#define TAG_MAX 255 /* longest tag value copied into a result */

/* tag_copy - a bounded, printable copy of a tag value ("" when absent) */
static char *tag_copy(const unsigned char *val)
{
    size_t len = 0;
    char *copy;

    if (val == NULL)
        val = (const unsigned char *)"";
    while (len < TAG_MAX && val[len])
        len++;
    if ((copy = malloc(len + 1)) == NULL)
        return NULL;
    for (size_t n = 0; n < len; n++)
        copy[n] = isprint(val[n]) ? (char)val[n] : '?';
    copy[len] = 0;
    return copy;
}

/* tag_number - a decimal tag value; 0 when absent or not a number */
static int tag_number(DKIM_SIGINFO *sig, const char *tag, uint64_t *val_r)
{
    const unsigned char *val = dkim_sig_gettagvalue(sig, 0, (unsigned char *)tag);
    uint64_t n = 0;

    if (val == NULL || *val == 0)
        return 0;
    for (; *val; val++) {
        if (!isdigit(*val) || n > (UINT64_MAX - 9) / 10)
            return 0;
        n = n * 10 + (uint64_t)(*val - '0');
    }
    *val_r = n;
    return 1;
}

/* syntax_error - is err a problem of the signature header itself? */
static int syntax_error(int err)
{
    switch (err) {
    case DKIM_SIGERROR_VERSION:
    case DKIM_SIGERROR_DOMAIN:
    case DKIM_SIGERROR_TIMESTAMPS:
    case DKIM_SIGERROR_INVALID_HC:
    case DKIM_SIGERROR_INVALID_BC:
    case DKIM_SIGERROR_MISSING_A:
    case DKIM_SIGERROR_INVALID_A:
    case DKIM_SIGERROR_MISSING_H:
    case DKIM_SIGERROR_INVALID_L:
    case DKIM_SIGERROR_INVALID_Q:
    case DKIM_SIGERROR_INVALID_QO:
    case DKIM_SIGERROR_MISSING_D:
    case DKIM_SIGERROR_EMPTY_D:
    case DKIM_SIGERROR_MISSING_S:
    case DKIM_SIGERROR_EMPTY_S:
    case DKIM_SIGERROR_MISSING_B:
    case DKIM_SIGERROR_EMPTY_B:
    case DKIM_SIGERROR_CORRUPT_B:
    case DKIM_SIGERROR_MISSING_BH:
    case DKIM_SIGERROR_EMPTY_BH:
    case DKIM_SIGERROR_CORRUPT_BH:
    case DKIM_SIGERROR_SUBDOMAIN:
    case DKIM_SIGERROR_EMPTY_H:
    case DKIM_SIGERROR_INVALID_H:
    case DKIM_SIGERROR_MISSING_V:
    case DKIM_SIGERROR_EMPTY_V:
        return 1;
    default:
        return 0;
    }
}

/* key_error - is err a problem of the key record? */
static int key_error(int err)
{
    switch (err) {
    case DKIM_SIGERROR_NOKEY:
    case DKIM_SIGERROR_DNSSYNTAX:
    case DKIM_SIGERROR_MULTIREPLY:
    case DKIM_SIGERROR_KEYVERSION:
    case DKIM_SIGERROR_KEYUNKNOWNHASH:
    case DKIM_SIGERROR_KEYHASHMISMATCH:
    case DKIM_SIGERROR_NOTEMAILKEY:
    case DKIM_SIGERROR_KEYTYPEMISSING:
    case DKIM_SIGERROR_KEYTYPEUNKNOWN:
    case DKIM_SIGERROR_KEYREVOKED:
    case DKIM_SIGERROR_KEYDECODE:
        return 1;
    default:
        return 0;
    }
}

/* error_text - libopendkim's text for err, never NULL */
static const char *error_text(int err)
{
    const char *s = dkim_sig_geterrorstr(err);

    return s ? s : "unknown error";
}

/* lookup_verdict - result from what our key lookup saw, or NULL */
static const char *lookup_verdict(const struct key_lookup *kl)
{
    if (kl == NULL)
        return NULL;
    switch (kl->outcome) {
    case KEY_DNSFAIL:
        return "temperror";
    case KEY_NONE:
    case KEY_MULTI:
    case KEY_TOOLONG:
    case KEY_BADNAME:
        return "permerror";
    default:
        return NULL;
    }
}

/* policy_reason - why a verified signature is not acceptable, or NULL */
static const char *policy_reason(DKIM_SIGINFO *sig, char *buf, size_t len)
{
    dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
    unsigned int bits = 0;
    uint64_t t;

    (void)dkim_sig_getsignalg(sig, &alg);
    if (alg == DKIM_SIGN_RSASHA1)
        return "rsa-sha1 is not acceptable (RFC 8301)";
    if (alg == DKIM_SIGN_RSASHA256 && dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK &&
        bits < DKIM_VERIFY_MIN_RSA_BITS) {
        snprintf(buf, len, "RSA key of %u bits, under %d (RFC 8301)", bits,
                 DKIM_VERIFY_MIN_RSA_BITS);
        return buf;
    }
    if (tag_number(sig, "t", &t) && t > (uint64_t)time(NULL) + DKIM_VERIFY_CLOCK_DRIFT) {
        snprintf(buf, len, "signature timestamp t=%llu is in the future", (unsigned long long)t);
        return buf;
    }
    return NULL;
}

/* body_short - did less body arrive than l= covers? */
static int body_short(DKIM *dkim, DKIM_SIGINFO *sig)
{
    ssize_t msglen = -1, canonlen = -1, signlen = -1;

    if (dkim_sig_getcanonlen(dkim, sig, &msglen, &canonlen, &signlen) != DKIM_STAT_OK)
        return 0;
    return signlen >= 0 && canonlen >= 0 && canonlen < signlen;
}

/* crypto_verdict - "pass", or "fail" with the reason */
static const char *crypto_verdict(DKIM *dkim, DKIM_SIGINFO *sig, int err, const char **reason_r)
{
    unsigned int flags = dkim_sig_getflags(sig);
    int bh = dkim_sig_getbh(sig);

    if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH)
        return "pass";
    /* libopendkim 2.11: a body shorter than l= leaves PASSED set, bh untested */
    if (err == DKIM_SIGERROR_TOOLARGE_L || body_short(dkim, sig))
        *reason_r = "body shorter than l=";
    else if (bh == DKIM_SIGBH_UNTESTED && (flags & DKIM_SIGFLAG_PASSED))
        *reason_r = "body hash not checked";
    else if (bh == DKIM_SIGBH_MISMATCH)
        *reason_r = "body hash mismatch";
    else if (err == DKIM_SIGERROR_BADSIG || (flags & DKIM_SIGFLAG_PROCESSED))
        *reason_r = "signature does not verify";
    else
        return NULL;
    return "fail";
}

/* classify - result and reason of one signature */
static const char *classify(struct dkim_verifier *v, DKIM_SIGINFO *sig, const char **reason_r,
                            char *buf, size_t len)
{
    const struct key_lookup *kl = verify_lookup_find(v, sig);
    int err = dkim_sig_geterror(sig);
    const char *res;
    uint64_t t = 0, x;

    if (syntax_error(err) || (dkim_sig_getflags(sig) & DKIM_SIGFLAG_IGNORE)) {
        *reason_r = error_text(err);
        return "permerror";
    }
    if ((res = lookup_verdict(kl)) != NULL) {
        *reason_r = kl->reason;
        return res;
    }
    if (key_error(err)) {
        *reason_r = error_text(err);
        return "permerror";
    }
    if (tag_number(sig, "x", &x)) {
        if (tag_number(sig, "t", &t) && x < t) {
            *reason_r = "x= is before t=";
            return "permerror";
        }
        if (x < (uint64_t)time(NULL) - DKIM_VERIFY_CLOCK_DRIFT) {
            snprintf(buf, len, "signature expired (x=%llu)", (unsigned long long)x);
            *reason_r = buf;
            return "fail";
        }
    }
    if ((res = crypto_verdict(v->dkim, sig, err, reason_r)) == NULL) {
        *reason_r = err == DKIM_SIGERROR_OK ? "signature not evaluated" : error_text(err);
        return "permerror";
    }
    if (strcmp(res, "fail") == 0)
        return res;
    if ((*reason_r = policy_reason(sig, buf, len)) != NULL)
        return "policy";
    *reason_r = "";
    return "pass";
}

/* b8_copy - first 8 characters of b= (RFC 6008), whitespace skipped */
static void b8_copy(DKIM_SIGINFO *sig, char b8[9])
{
    const unsigned char *b = dkim_sig_gettagvalue(sig, 0, (unsigned char *)"b");
    size_t n = 0;

    for (; b != NULL && *b && n < 8; b++)
        if (isalnum(*b) || *b == '+' || *b == '/' || *b == '=')
            b8[n++] = (char)*b;
    b8[n] = 0;
}

/* verify_result_fill - result idx from signature sig */
int verify_result_fill(struct dkim_verifier *v, size_t idx, DKIM_SIGINFO *sig)
{
    struct dkim_sig_result *r = v->res + idx;
    const unsigned char *d = dkim_sig_getdomain(sig);
    const unsigned char *i = dkim_sig_gettagvalue(sig, 0, (unsigned char *)"i");
    const char *reason = "";
    char buf[200];

    r->result = classify(v, sig, &reason, buf, sizeof(buf));
    r->d = tag_copy(d);
    r->s = tag_copy(dkim_sig_getselector(sig));
    r->a = tag_copy(dkim_sig_gettagvalue(sig, 0, (unsigned char *)"a"));
    if (i == NULL && d != NULL && asprintf(&r->i, "@%.*s", TAG_MAX - 1, (const char *)d) < 0)
        r->i = NULL;
    else if (r->i == NULL)
        r->i = tag_copy(i);
    b8_copy(sig, r->b8);
    r->reason = strdup(reason);
    if (r->d == NULL || r->s == NULL || r->a == NULL || r->i == NULL || r->reason == NULL)
        return -1;
    verify_trace(v, "signature %zu: d=%s s=%s a=%s i=%s b=%s: %s%s%s (flags 0x%x, bh %d, error %d)",
                 idx + 1, r->d, r->s, r->a, r->i, r->b8, r->result, *reason ? ": " : "", reason,
                 dkim_sig_getflags(sig), dkim_sig_getbh(sig), dkim_sig_geterror(sig));
    return 0;
}

/* verify_results_alloc - room for one result per signature header evaluated */
int verify_results_alloc(struct dkim_verifier *v, size_t n)
{
    if (n == 0)
        return 0;
    if ((v->res = calloc(n, sizeof(*v->res))) == NULL)
        return -1;
    v->nres = n;
    return 0;
}

/* verify_results_uniform - every evaluated signature gets one result (broken, overflow) */
int verify_results_uniform(struct dkim_verifier *v, const char *result, const char *reason)
{
    size_t n = v->sig_headers < v->max_sigs ? v->sig_headers : v->max_sigs;

    if (verify_results_alloc(v, n) < 0)
        return -1;
    for (size_t k = 0; k < n; k++) {
        struct dkim_sig_result *r = v->res + k;

        r->result = result;
        r->d = strdup("");
        r->i = strdup("");
        r->s = strdup("");
        r->a = strdup("");
        r->reason = strdup(reason);
        if (!r->d || !r->i || !r->s || !r->a || !r->reason)
            return -1;
    }
    verify_trace(v, "%zu signature(s): %s: %s", n, result, reason);
    return 0;
}

/* verify_results_missing - permerror from idx on: libopendkim kept no handle for those */
int verify_results_missing(struct dkim_verifier *v, size_t idx)
{
    for (size_t k = idx; k < v->nres; k++) {
        struct dkim_sig_result *r = v->res + k;

        r->result = "permerror";
        r->d = strdup("");
        r->i = strdup("");
        r->s = strdup("");
        r->a = strdup("");
        r->reason = strdup("signature not parsed");
        if (!r->d || !r->i || !r->s || !r->a || !r->reason)
            return -1;
        verify_trace(v, "signature %zu: permerror: libopendkim kept no handle for it", k + 1);
    }
    return 0;
}
