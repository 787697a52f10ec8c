/*
 * NAME
 *	bench-sign - messages per second signing a 1 KB message, by method
 * SYNOPSIS
 *	contrib/bench/bench-sign [-s seconds] RSA-KEY.pem ED25519-KEY.pem
 * DESCRIPTION
 *	Measures, for RSA-2048 and Ed25519, with 1 and 2 threads:
 *
 *	odkim-pem    libopendkim 2.11 as opendkim uses it: one shared
 *	             DKIM_LIB, the PEM key handed to dkim_sign() per
 *	             message (libopendkim parses it again every time)
 *	odkim-der    the same with the key as DER (d2i instead of PEM)
 *	engine-odkim dkim_sign.c with DKIM_ENGINE_LIBOPENDKIM (adds one
 *	             DKIM_LIB per signer)
 *	engine-native dkim_sign.c with DKIM_ENGINE_NATIVE: canonicalize and
 *	             hash here, sign with the EVP_PKEY parsed once at load
 *
 *	and, to explain the numbers, the cost of one key parse (PEM, DER)
 *	and of one bare signature with the cached key.  Keys are read with
 *	keyset_load(require_safe off).  Nothing leaves the process.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <dkim.h>

#include "dkim_sign.h"
#include "keys.h"

static const char *const hdrs[][2] = {
    {"Received", "from client.example.com (client.example.com [192.0.2.1])\n\tby mx.example.com "
                 "(Postfix) with ESMTPSA id 4ABCDEF;\n\tMon, 1 Jan 2024 10:00:00 +0000"},
    {"From", "Alice Example <alice@example.com>"},
    {"To", "Bob Example <bob@example.org>"},
    {"Subject", "benchmark message of about one kilobyte"},
    {"Date", "Mon, 1 Jan 2024 10:00:00 +0000"},
    {"Message-ID", "<bench.12345@example.com>"},
    {"MIME-Version", "1.0"},
    {"Content-Type", "text/plain; charset=us-ascii"},
};
#define NHDRS (sizeof(hdrs) / sizeof(hdrs[0]))

static unsigned char body[700];
static size_t body_len;
static double run_seconds = 1.5;

struct method {
    const char *name;
    int (*sign_one)(const struct dkim_key *key, void *arg);
};

static DKIM_LIB *shared_lib;
static struct keyset *ks;
static unsigned char *der[2];
static size_t der_len[2];

/* now - monotonic seconds */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* odkim_sign_one - one message through libopendkim with key bytes */
static int odkim_sign_one(const struct dkim_key *key, const unsigned char *keydata)
{
    unsigned char *sig;
    char line[1024];
    size_t len, i;
    DKIM_STAT st;
    DKIM *d;

    d = dkim_sign(shared_lib, (const unsigned char *)"bench", NULL, (dkim_sigkey_t)keydata,
                  (const unsigned char *)key->selector, (const unsigned char *)key->domain,
                  DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
                  key->type == DKIM_KEY_ED25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1,
                  &st);
    if (d == NULL)
        return -1;
    for (i = 0; i < NHDRS; i++) {
        char *p = line;
        const char *v;

        p += snprintf(line, sizeof(line), "%s: ", hdrs[i][0]);
        for (v = hdrs[i][1]; *v && p < line + sizeof(line) - 2; v++) {
            if (*v == '\n')
                *p++ = '\r';
            *p++ = *v;
        }
        if (dkim_header(d, (unsigned char *)line, (size_t)(p - line)) != DKIM_STAT_OK)
            goto fail;
    }
    if (dkim_eoh(d) != DKIM_STAT_OK || dkim_body(d, body, body_len) != DKIM_STAT_OK ||
        dkim_eom(d, NULL) != DKIM_STAT_OK || dkim_getsighdr_d(d, 16, &sig, &len) != DKIM_STAT_OK)
        goto fail;
    dkim_free(d);
    return 0;
fail:
    dkim_free(d);
    return -1;
}

/* m_odkim_pem - libopendkim, PEM key */
static int m_odkim_pem(const struct dkim_key *key, void *arg)
{
    (void)arg;
    return odkim_sign_one(key, key->pem);
}

/* m_odkim_der - libopendkim, DER key */
static int m_odkim_der(const struct dkim_key *key, void *arg)
{
    (void)arg;
    return odkim_sign_one(key, der[key->type == DKIM_KEY_ED25519]);
}

/* engine_sign_one - one message through dkim_sign.c */
static int engine_sign_one(const struct dkim_key *key, enum dkim_sign_engine engine)
{
    struct dkim_sign_options opt;
    const struct dkim_sig_header *sigs;
    struct dkim_signer *s;
    const char *err;
    size_t n, i;
    int rc = -1;

    memset(&opt, 0, sizeof(opt));
    opt.engine = engine;
    s = dkim_signer_new(
        ks, key->type == DKIM_KEY_ED25519 ? "alice@ed.example" : "alice@rsa.example", &opt, &err);
    if (s == NULL)
        return -1;
    for (i = 0; i < NHDRS; i++)
        if (dkim_signer_header(s, hdrs[i][0], hdrs[i][1]) < 0)
            goto out;
    if (dkim_signer_eoh(s) == 0 && dkim_signer_body(s, body, body_len) == 0 &&
        dkim_signer_finish(s, &sigs, &n) == 0 && n == 1)
        rc = 0;
out:
    dkim_signer_free(&s);
    return rc;
}

/* m_engine_odkim - dkim_sign.c, libopendkim engine */
static int m_engine_odkim(const struct dkim_key *key, void *arg)
{
    (void)arg;
    return engine_sign_one(key, DKIM_ENGINE_LIBOPENDKIM);
}

/* m_engine_native - dkim_sign.c, native engine */
static int m_engine_native(const struct dkim_key *key, void *arg)
{
    (void)arg;
    return engine_sign_one(key, DKIM_ENGINE_NATIVE);
}

/* m_parse_pem - only parse the PEM key (what libopendkim adds per message) */
static int m_parse_pem(const struct dkim_key *key, void *arg)
{
    BIO *bio = BIO_new_mem_buf(key->pem, (int)key->pem_len);
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);

    (void)arg;
    BIO_free(bio);
    EVP_PKEY_free(pk);
    return pk ? 0 : -1;
}

/* m_parse_der - only parse the DER key */
static int m_parse_der(const struct dkim_key *key, void *arg)
{
    int ed = key->type == DKIM_KEY_ED25519;
    BIO *bio = BIO_new_mem_buf(der[ed], (int)der_len[ed]);
    EVP_PKEY *pk = d2i_PrivateKey_bio(bio, NULL);

    (void)arg;
    BIO_free(bio);
    EVP_PKEY_free(pk);
    return pk ? 0 : -1;
}

/* m_sign_only - one bare signature of a digest with the cached key */
static int m_sign_only(const struct dkim_key *key, void *arg)
{
    unsigned char digest[32] = {1, 2, 3}, sig[512];
    size_t len = sizeof(sig);
    int ok;

    (void)arg;
    if (key->type == DKIM_KEY_ED25519) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestSign(ctx, sig, &len, digest, 32) == 1;
        EVP_MD_CTX_free(ctx);
    } else {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key->pkey, NULL);

        ok = EVP_PKEY_sign_init(ctx) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
             EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
             EVP_PKEY_sign(ctx, sig, &len, digest, 32) == 1;
        EVP_PKEY_CTX_free(ctx);
    }
    return ok ? 0 : -1;
}

struct worker {
    const struct method *m;
    const struct dkim_key *key;
    double deadline;
    unsigned long count;
    int failed;
};

/* worker_run - sign until the deadline */
static void *worker_run(void *arg)
{
    struct worker *w = arg;

    while (now() < w->deadline) {
        int i;

        for (i = 0; i < 16; i++) {
            if (w->m->sign_one(w->key, NULL) < 0) {
                w->failed = 1;
                return NULL;
            }
            w->count++;
        }
    }
    return NULL;
}

/* measure - operations per second with nthreads */
static double measure(const struct method *m, const struct dkim_key *key, int nthreads)
{
    struct worker w[8];
    pthread_t tid[8];
    double start, elapsed;
    unsigned long total = 0;
    int i;

    m->sign_one(key, NULL); /* warm up */
    start = now();
    for (i = 0; i < nthreads; i++) {
        w[i] = (struct worker){m, key, start + run_seconds, 0, 0};
        pthread_create(&tid[i], NULL, worker_run, &w[i]);
    }
    for (i = 0; i < nthreads; i++) {
        pthread_join(tid[i], NULL);
        if (w[i].failed)
            return -1;
        total += w[i].count;
    }
    elapsed = now() - start;
    return (double)total / elapsed;
}

/* setup - keyset with one RSA and one Ed25519 key, DER copies, shared DKIM_LIB */
static void setup(const char *rsa, const char *ed)
{
    char dir[] = "/tmp/bench-sign.XXXXXX", kt[64], st[64], *err = NULL;
    const struct dkim_key *k[2];
    FILE *fp;
    int i;

    if (mkdtemp(dir) == NULL)
        exit(1);
    snprintf(kt, sizeof(kt), "%s/KeyTable", dir);
    snprintf(st, sizeof(st), "%s/SigningTable", dir);
    fp = fopen(kt, "w");
    fprintf(fp, "rsa rsa.example:bench:%s\ned ed.example:bench:%s\n", rsa, ed);
    fclose(fp);
    fp = fopen(st, "w");
    fprintf(fp, "rsa.example rsa\ned.example ed\n");
    fclose(fp);
    ks = keyset_load(kt, st, false, &err);
    unlink(kt);
    unlink(st);
    rmdir(dir);
    if (ks == NULL) {
        fprintf(stderr, "bench-sign: %s\n", err);
        exit(1);
    }
    keyset_match(ks, "x@rsa.example", &k[0], 1);
    keyset_match(ks, "x@ed.example", &k[1], 1);
    for (i = 0; i < 2; i++) {
        unsigned char *p = NULL;
        int n = i2d_PrivateKey(k[i]->pkey, &p);

        der[i] = p;
        der_len[i] = n > 0 ? (size_t)n : 0;
    }
    shared_lib = dkim_init(NULL, NULL);
    memset(body, 'x', sizeof(body));
    for (i = 60; i < (int)sizeof(body); i += 62) {
        body[i] = '\r';
        body[i + 1] = '\n';
    }
    body_len = sizeof(body) - (sizeof(body) % 62);
    body[body_len - 2] = '\r';
    body[body_len - 1] = '\n';
}

/* main - run the table */
int main(int argc, char **argv)
{
    static const struct method methods[] = {
        {"odkim-pem", m_odkim_pem},       {"odkim-der", m_odkim_der},
        {"engine-odkim", m_engine_odkim}, {"engine-native", m_engine_native},
        {"parse-pem-only", m_parse_pem},  {"parse-der-only", m_parse_der},
        {"sign-only", m_sign_only},
    };
    const struct dkim_key *key;
    size_t m;
    int ch, t, ed;

    while ((ch = getopt(argc, argv, "s:")) != -1)
        if (ch == 's')
            run_seconds = atof(optarg);
    if (argc - optind != 2) {
        fputs("usage: bench-sign [-s seconds] rsa-key.pem ed25519-key.pem\n", stderr);
        return 2;
    }
    setup(argv[optind], argv[optind + 1]);
    printf("%-16s %-8s %12s %12s %10s\n", "method", "key", "1 thread/s", "2 threads/s",
           "us/op(1t)");
    for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
        for (ed = 0; ed < 2; ed++) {
            double r[3];

            keyset_match(ks, ed ? "x@ed.example" : "x@rsa.example", &key, 1);
            for (t = 1; t <= 2; t++)
                r[t] = measure(&methods[m], key, t);
            printf("%-16s %-8s %12.0f %12.0f %10.1f\n", methods[m].name, ed ? "ed25519" : "rsa2048",
                   r[1], r[2], r[1] > 0 ? 1e6 / r[1] : -1.0);
            fflush(stdout);
        }
    }
    dkim_close(shared_lib);
    OPENSSL_free(der[0]);
    OPENSSL_free(der[1]);
    keyset_free(&ks);
    return 0;
}
