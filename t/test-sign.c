/*
 * NAME
 *	test-sign - canonicalization vectors and the signer's contract
 * DESCRIPTION
 *	Header and body canonicalization against RFC 6376 (3.4.5 example
 *	and edge cases), fed in every chunk size; the signer API: no key,
 *	state errors, bounds, folding, oversigning, x=, describe text, and
 *	signing from two threads with one keyset (signatures are
 *	deterministic with a fixed t=, so every thread must produce the
 *	same bytes).  Whether the signatures verify is t/test-sign-verify.sh's job.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dkim_sign.h"
#include "dkim_sign_canon.h"
#include "keys.h"
#include "tap.h"

/* sha256_of - digest of a buffer */
static void sha256_of(const void *data, size_t len, unsigned char *out)
{
    unsigned int n;

    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

/* body_digest - canonicalize a body fed in chunks of size chunk */
static void body_digest(const char *in, size_t len, enum dkim_sign_canon c, size_t chunk,
                        unsigned char *out)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    struct canon_body cb;
    unsigned int n;
    size_t off;

    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    canon_body_init(&cb, c, md);
    for (off = 0; off < len; off += chunk)
        canon_body_update(&cb, (const unsigned char *)in + off,
                          len - off < chunk ? len - off : chunk);
    canon_body_final(&cb);
    EVP_DigestFinal_ex(md, out, &n);
    EVP_MD_CTX_free(md);
}

static const struct {
    const char *in;
    enum dkim_sign_canon canon;
    const char *want;
} body_cases[] = {
    {" C \r\nD \t E\r\n\r\n\r\n", DKIM_SIGN_CANON_RELAXED, " C\r\nD E\r\n"}, /* RFC 6376 3.4.5 */
    {" C \r\nD \t E\r\n\r\n\r\n", DKIM_SIGN_CANON_SIMPLE, " C \r\nD \t E\r\n"},
    {"", DKIM_SIGN_CANON_RELAXED, ""},
    {"", DKIM_SIGN_CANON_SIMPLE, "\r\n"},
    {"\r\n\r\n", DKIM_SIGN_CANON_RELAXED, ""},
    {"\r\n\r\n", DKIM_SIGN_CANON_SIMPLE, "\r\n"},
    {"a", DKIM_SIGN_CANON_RELAXED, "a\r\n"},
    {"a", DKIM_SIGN_CANON_SIMPLE, "a\r\n"},
    {"a \t", DKIM_SIGN_CANON_RELAXED, "a\r\n"},
    {"a\r\n \t\r\n\r\n", DKIM_SIGN_CANON_RELAXED, "a\r\n"},
    {"a\r\n \t\r\n\r\n", DKIM_SIGN_CANON_SIMPLE, "a\r\n \t\r\n"},
    {"\r\n a\r\n", DKIM_SIGN_CANON_RELAXED, "\r\n a\r\n"},
    {"a\nb\n\n", DKIM_SIGN_CANON_SIMPLE, "a\r\nb\r\n"},
    {"a\nb \n", DKIM_SIGN_CANON_RELAXED, "a\r\nb\r\n"},
    {"a\rb\r\n", DKIM_SIGN_CANON_SIMPLE, "a\rb\r\n"},
    {"x\r", DKIM_SIGN_CANON_SIMPLE, "x\r\r\n"},
    {"x\r\r\n", DKIM_SIGN_CANON_RELAXED, "x\r\r\n"},
    {"  \t  x  \t  y  \r\n", DKIM_SIGN_CANON_RELAXED, " x y\r\n"},
    {"\r\n\r\nmid\r\n\r\n", DKIM_SIGN_CANON_SIMPLE, "\r\n\r\nmid\r\n"},
};

/* test_body - every vector, every chunk size */
static void test_body(void)
{
    unsigned char want[32], got[32];
    size_t i, chunk, len;
    int all;

    for (i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
        len = strlen(body_cases[i].in);
        sha256_of(body_cases[i].want, strlen(body_cases[i].want), want);
        all = 1;
        for (chunk = 1; chunk <= len + 1; chunk++) {
            body_digest(body_cases[i].in, len, body_cases[i].canon, chunk, got);
            all &= memcmp(want, got, 32) == 0;
        }
        tap_ok(all, "body %zu (%s) in every chunk size", i,
               body_cases[i].canon == DKIM_SIGN_CANON_SIMPLE ? "simple" : "relaxed");
    }
}

/* test_headers - header canonicalization */
static void test_headers(void)
{
    static const struct {
        const char *name, *value;
        enum dkim_sign_canon canon;
        bool lead;
        const char *want;
    } cases[] = {
        {"A", "X", DKIM_SIGN_CANON_RELAXED, false, "a:X\r\n"}, /* RFC 6376 3.4.5 */
        {"B ", "Y\t\n\tZ  ", DKIM_SIGN_CANON_RELAXED, false, "b:Y Z\r\n"},
        {"Subject", "  a  b\r\n\t c  ", DKIM_SIGN_CANON_RELAXED, false, "subject:a b c\r\n"},
        {"X-Empty", "", DKIM_SIGN_CANON_RELAXED, false, "x-empty:\r\n"},
        {"Subject", "hello\n world", DKIM_SIGN_CANON_SIMPLE, false, "Subject: hello\r\n world\r\n"},
        {"Subject", "hello\r\n\tworld", DKIM_SIGN_CANON_SIMPLE, false,
         "Subject: hello\r\n\tworld\r\n"},
        {"to", "x@example.org", DKIM_SIGN_CANON_SIMPLE, true, "to:x@example.org\r\n"},
        {"To", " x@example.org", DKIM_SIGN_CANON_SIMPLE, true, "To: x@example.org\r\n"},
        {"X-Tab", "\tv", DKIM_SIGN_CANON_SIMPLE, false, "X-Tab: \tv\r\n"},
    };
    size_t i, len;
    char *got;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        got = canon_header(cases[i].name, cases[i].value, cases[i].canon, cases[i].lead, &len);
        tap_ok(strcmp(got, cases[i].want) == 0 && len == strlen(cases[i].want), "header %zu: %s", i,
               cases[i].name);
        free(got);
    }
}

static char dir[200];

/* make_keyset - fixture keys and tables in a fresh directory */
static struct keyset *make_keyset(void)
{
    const char *top = getenv("top_srcdir");
    char cmd[2048], kt[300], st[300], *err = NULL;
    struct keyset *ks;
    FILE *fp;

    snprintf(dir, sizeof(dir), "%s/test-sign.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL)
        return NULL;
    snprintf(cmd, sizeof(cmd),
             "cp %s/t/data/keys/rsa2048.pem %s/t/data/keys/ed25519.pem %s/ && chmod 600 %s/*.pem",
             top ? top : ".", top ? top : ".", dir, dir);
    if (system(cmd) != 0)
        return NULL;
    snprintf(kt, sizeof(kt), "%s/KeyTable", dir);
    snprintf(st, sizeof(st), "%s/SigningTable", dir);
    fp = fopen(kt, "w");
    fprintf(fp,
            "rsa example.com:rsa:%s/rsa2048.pem\ned example.com:ed:%s/ed25519.pem\n"
            "any %%:any:%s/ed25519.pem\n",
            dir, dir, dir);
    fclose(fp);
    fp = fopen(st, "w");
    fprintf(fp, "example.com rsa\nexample.com ed\n.example.net any\n");
    fclose(fp);
    ks = keyset_load(kt, st, true, &err);
    if (ks == NULL)
        tap_diag("keyset: %s", err);
    free(err);
    return ks;
}

/* sign_simple - sign a small message; returns the signer (finished) or NULL */
static struct dkim_signer *sign_simple(const struct keyset *ks, const char *from,
                                       const struct dkim_sign_options *opt,
                                       const struct dkim_sig_header **sigs, size_t *n)
{
    static const unsigned char body[] = "Hello.\r\n";
    struct dkim_signer *s;
    const char *err;

    s = dkim_signer_new(ks, from, opt, &err);
    if (s == NULL)
        return NULL;
    if (dkim_signer_header(s, "From", "A <a@example.com>") < 0 ||
        dkim_signer_header(s, "To", "b@example.org") < 0 ||
        dkim_signer_header(s, "Subject", "folded\n subject") < 0 ||
        dkim_signer_header(s, "Received", "not signed") < 0 || dkim_signer_eoh(s) < 0 ||
        dkim_signer_body(s, body, sizeof(body) - 1) < 0 || dkim_signer_finish(s, sigs, n) < 0)
        tap_diag("signing failed: %s", dkim_signer_error(s));
    return s;
}

/* unfold - copy a folded value without LF, TAB as space (relaxed reading) */
static void unfold(const char *in, char *out, size_t size)
{
    size_t o = 0;

    for (; *in && o + 1 < size; in++)
        if (*in != '\n')
            out[o++] = *in == '\t' ? ' ' : *in;
    out[o] = 0;
}

/* has_tag - the unfolded value has this tag text once spaces inside are ignored */
static int has_tag(const char *flat, const char *want)
{
    char squeezed[4096];
    size_t o = 0;

    for (; *flat && o + 1 < sizeof(squeezed); flat++)
        if (*flat != ' ')
            squeezed[o++] = *flat;
    squeezed[o] = 0;
    return strstr(squeezed, want) != NULL;
}

/* test_api - the signer's contract */
static void test_api(const struct keyset *ks)
{
    static const char *const no_oversign[] = {NULL};
    static const char *const only_subject[] = {"Subject", NULL};
    struct dkim_sign_options opt;
    const struct dkim_sig_header *sigs;
    const char *err = "x", *line, *nl;
    struct dkim_signer *s;
    char flat[4096];
    size_t n = 0, maxlen = 0, i;
    int bad = 0;

    s = dkim_signer_new(ks, "x@nowhere.test", NULL, &err);
    tap_ok(s == NULL && err == NULL, "no key: NULL, no error");
    s = dkim_signer_new(ks, "not-an-address", NULL, &err);
    tap_ok(s == NULL && err == NULL, "no @: NULL, no error");

    s = sign_simple(ks, "a@EXAMPLE.com", NULL, &sigs, &n);
    tap_ok(s != NULL && n == 2, "two keys, two signatures");
    if (s == NULL || n != 2)
        return;
    tap_is_str(dkim_signer_describe(s),
               "d=example.com s=rsa a=rsa-sha256, d=example.com s=ed a=ed25519-sha256", "describe");
    tap_is_str(sigs[0].name, "DKIM-Signature", "header name");
    tap_ok(strchr(sigs[0].value, '\r') == NULL && strchr(sigs[1].value, '\r') == NULL,
           "values have no CR");
    for (line = sigs[0].value; line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl && nl[1] != '\t')
            bad = 1;
        if ((size_t)(nl ? nl - line : (long)strlen(line)) > maxlen)
            maxlen = (size_t)(nl ? nl - line : (long)strlen(line));
    }
    tap_ok(!bad && maxlen <= 78, "folded with LF TAB, lines of at most 78 (got %zu)", maxlen);
    unfold(sigs[0].value, flat, sizeof(flat));
    tap_ok(has_tag(flat, "h=From:From:To:Subject;"), "From oversigned, Received unsigned: %s",
           flat);
    {
        static const char tags[] = "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=rsa; t=";

        tap_ok(strncmp(flat, tags, sizeof(tags) - 1) == 0, "tags: %.70s", flat);
    }
    tap_ok(strstr(flat, " x=") == NULL, "no x= by default");
    tap_ok(dkim_signer_finish(s, &sigs, &n) < 0 &&
               strcmp(dkim_signer_error(s), "finished twice") == 0,
           "finish twice refused");
    dkim_signer_free(&s);
    tap_ok(s == NULL, "free clears the pointer");

    memset(&opt, 0, sizeof(opt));
    opt.oversign_headers = no_oversign;
    opt.sign_headers = only_subject;
    opt.header_canon = DKIM_SIGN_CANON_SIMPLE;
    opt.ttl = 600;
    opt.fixed_time = 1700000000;
    s = sign_simple(ks, "a@example.com", &opt, &sigs, &n);
    unfold(n ? sigs[0].value : "", flat, sizeof(flat));
    tap_ok(has_tag(flat, "h=From:Subject;"), "custom list, From always, no oversign: %s", flat);
    tap_ok(has_tag(flat, "c=simple/relaxed;") && has_tag(flat, "t=1700000000;x=1700000600;"),
           "simple/relaxed, t= and x=");
    dkim_signer_free(&s);

    s = dkim_signer_new(ks, "u@mail.example.net", NULL, &err);
    tap_ok(s != NULL &&
               strcmp(dkim_signer_describe(s), "d=mail.example.net s=any a=ed25519-sha256") == 0,
           "%% domain is the From domain");
    dkim_signer_free(&s);

    s = dkim_signer_new(ks, "a@example.com", NULL, &err);
    dkim_signer_eoh(s);
    tap_ok(dkim_signer_header(s, "From", "x") < 0 &&
               strcmp(dkim_signer_error(s), "header after end of headers") == 0,
           "header after eoh refused");
    tap_ok(dkim_signer_body(s, (const unsigned char *)"x", 1) < 0, "failed signer stays failed");
    dkim_signer_free(&s);

    s = dkim_signer_new(ks, "a@example.com", NULL, &err);
    tap_ok(dkim_signer_body(s, (const unsigned char *)"x", 1) < 0, "body before eoh refused");
    dkim_signer_free(&s);

    s = dkim_signer_new(ks, "a@example.com", NULL, &err);
    {
        char *big = malloc(64 * 1024 + 1);
        int rc = 0;

        memset(big, 'x', 64 * 1024);
        big[64 * 1024] = 0;
        for (i = 0; i < 20 && rc == 0; i++)
            rc = dkim_signer_header(s, "To", big);
        tap_ok(rc < 0 && strstr(dkim_signer_error(s), "signed headers exceed"),
               "signed headers bounded");
        free(big);
    }
    dkim_signer_free(&s);

    s = dkim_signer_new(ks, "a@example.com", NULL, &err);
    dkim_signer_header(s, "To", "x@example.org");
    tap_ok(dkim_signer_finish(s, &sigs, &n) < 0 &&
               strcmp(dkim_signer_error(s), "message has no From header") == 0,
           "no From: refused");
    dkim_signer_free(&s);
}

struct thread_arg {
    const struct keyset *ks;
    char first[2][2048];
    int mismatches;
};

/* thread_sign - sign 100 messages, compare with the first */
static void *thread_sign(void *p)
{
    struct thread_arg *a = p;
    struct dkim_sign_options opt;
    const struct dkim_sig_header *sigs;
    struct dkim_signer *s;
    size_t n, k;
    int i;

    memset(&opt, 0, sizeof(opt));
    opt.fixed_time = 1700000000;
    for (i = 0; i < 100; i++) {
        s = sign_simple(a->ks, "a@example.com", &opt, &sigs, &n);
        for (k = 0; k < 2; k++) {
            if (s == NULL || n != 2)
                a->mismatches++;
            else if (a->first[k][0] == 0)
                snprintf(a->first[k], sizeof(a->first[k]), "%s", sigs[k].value);
            else if (strcmp(a->first[k], sigs[k].value) != 0)
                a->mismatches++;
        }
        dkim_signer_free(&s);
    }
    return NULL;
}

/* test_threads - two threads, one keyset, identical signatures */
static void test_threads(const struct keyset *ks)
{
    static struct thread_arg a[2];
    pthread_t t[2];
    int i;

    for (i = 0; i < 2; i++) {
        a[i].ks = ks;
        pthread_create(&t[i], NULL, thread_sign, &a[i]);
    }
    for (i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    tap_ok(a[0].mismatches == 0 && a[1].mismatches == 0 && a[0].first[0][0] != 0 &&
               strcmp(a[0].first[0], a[1].first[0]) == 0 &&
               strcmp(a[0].first[1], a[1].first[1]) == 0,
           "two threads, 200 messages, identical deterministic signatures");
}

/* main - run every group */
int main(void)
{
    struct keyset *ks;
    char cmd[300];

    test_body();
    test_headers();
    ks = make_keyset();
    tap_ok(ks != NULL, "test keyset loads");
    if (ks != NULL) {
        test_api(ks);
        test_threads(ks);
        keyset_free(&ks);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (dir[0] && system(cmd) != 0)
        tap_diag("cannot remove %s", dir);
    return tap_done();
}
