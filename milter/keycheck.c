/*
 * NAME
 *	keycheck - compare published DKIM keys with the private keys we hold
 * SYNOPSIS
 *	See include/keycheck.h.
 * DESCRIPTION
 *	A DKIM key record is a tag list (RFC 6376 3.6.1); only v=, k= and p=
 *	matter here.  Base64 in p= may hold white space (several TXT strings
 *	are already joined by the DNS layer).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dns.h"
#include "keycheck.h"
#include "keys.h"

#define KEYCHECK_MAX_DER 4096

/* tag_value - copy the value of tag name from a tag list; NULL when absent */
static char *tag_value(const char *rec, const char *name)
{
    const char *p = rec;
    size_t nlen = strlen(name);

    while (*p) {
        const char *end = strchr(p, ';');
        const char *q = p;
        size_t len;

        if (end == NULL)
            end = p + strlen(p);
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
            q++;
        if ((size_t)(end - q) > nlen && strncasecmp(q, name, nlen) == 0) {
            const char *v = q + nlen;

            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            if (v < end && *v == '=') {
                char *out = malloc((size_t)(end - v)), *o = out;

                if (out == NULL)
                    return NULL;
                for (v++; v < end; v++)
                    if (*v != ' ' && *v != '\t' && *v != '\r' && *v != '\n')
                        *o++ = *v;
                *o = '\0';
                return out;
            }
        }
        len = (size_t)(end - p);
        p += len + (*end == ';');
    }
    return NULL;
}

/* public_der - the public half as DKIM publishes it; length or -1 */
static int public_der(const struct dkim_key *k, unsigned char *buf, size_t size)
{
    if (k->type == DKIM_KEY_ED25519) {
        size_t len = size;

        return EVP_PKEY_get_raw_public_key(k->pkey, buf, &len) == 1 ? (int)len : -1;
    } else {
        unsigned char *p = buf;
        int len = i2d_PUBKEY(k->pkey, NULL);

        if (len <= 0 || (size_t)len > size)
            return -1;
        return i2d_PUBKEY(k->pkey, &p);
    }
}

/* keycheck_compare - verdict for one record; NULL when it matches */
static const char *keycheck_compare(const struct dkim_key *k, const char *rec)
{
    unsigned char want[KEYCHECK_MAX_DER], got[KEYCHECK_MAX_DER];
    char *p = tag_value(rec, "p"), *kt = tag_value(rec, "k");
    const char *verdict = NULL;
    int wlen, glen;

    if (kt && strcasecmp(kt, k->type == DKIM_KEY_ED25519 ? "ed25519" : "rsa") != 0)
        verdict = "MISMATCH k= names another key type";
    else if (kt == NULL && k->type == DKIM_KEY_ED25519)
        verdict = "MISMATCH no k=ed25519 (k= defaults to rsa)";
    else if (p == NULL)
        verdict = "MISMATCH no p= tag";
    else if (*p == '\0')
        verdict = "REVOKED p= is empty";
    else if (strlen(p) > (KEYCHECK_MAX_DER * 4) / 3)
        verdict = "MISMATCH p= too long";
    else if ((wlen = public_der(k, want, sizeof(want))) < 0)
        verdict = "MISMATCH cannot derive our public key";
    else if ((glen = EVP_DecodeBlock(got, (const unsigned char *)p, (int)strlen(p))) < 0)
        verdict = "MISMATCH p= is not base64";
    else if (glen - (p[strlen(p) - 1] == '=') - (strlen(p) > 1 && p[strlen(p) - 2] == '=') !=
                 wlen ||
             memcmp(got, want, (size_t)wlen) != 0)
        verdict = "MISMATCH p= is another key";
    free(p);
    free(kt);
    return verdict;
}

/* keycheck_dns - check every key; returns the number of problems */
int keycheck_dns(const struct config *cfg, FILE *out)
{
    size_t i, n = keyset_count(cfg->keys);
    int problems = 0;

    if (n == 0) {
        fprintf(out, "check-dns: no KeyTable keys to check\n");
        return 0;
    }
    for (i = 0; i < n; i++) {
        const struct dkim_key *k = keyset_key(cfg->keys, i);
        struct dns_answer ans;
        enum dns_status status;
        const char *verdict = NULL;
        char name[600];

        if (strcmp(k->domain, "%") == 0) {
            fprintf(out, "SKIPPED %s: domain %% is the From domain, no fixed name\n", k->name);
            continue;
        }
        snprintf(name, sizeof(name), "%s._domainkey.%s", k->selector, k->domain);
        memset(&ans, 0, sizeof(ans));
        switch ((status = dns_query(cfg->dns, name, 16 /* TXT */, NULL, &ans))) {
        case DNS_OK:
            verdict = ans.count == 1 ? keycheck_compare(k, ans.rr[0].data)
                                     : "MISMATCH several TXT records";
            break;
        case DNS_NXDOMAIN:
        case DNS_NODATA:
            verdict = "MISSING no TXT record";
            break;
        default:
            verdict = "DNS-ERROR";
            break;
        }
        if (verdict == NULL)
            fprintf(out, "ok %s (%s)\n", name, k->name);
        else
            fprintf(out, "%s: %s (%s)%s%s\n", verdict, name, k->name,
                    status != DNS_OK && *ans.reason ? ": " : "",
                    status != DNS_OK ? ans.reason : "");
        problems += verdict != NULL;
        dns_answer_clear(&ans);
    }
    return problems;
}
