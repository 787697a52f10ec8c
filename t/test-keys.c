/*
 * NAME
 *	test-keys - KeyTable/SigningTable loading, key checks, lookups
 * DESCRIPTION
 *	Copies the fixture keys of t/data/keys into a fresh directory
 *	(git keeps no modes), writes tables there, and checks each error
 *	text ("file:line: reason"), the permission rules, the key types and
 *	the SigningTable lookup order (plain and refile:).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "tap.h"

static char dir[256];
static char kt_path[300], st_path[300];

/* copy_key - copy a fixture key into the test directory with a mode */
static void copy_key(const char *name, mode_t mode)
{
    char src[512], dst[512], buf[8192];
    const char *top = getenv("top_srcdir");
    size_t n;
    FILE *in, *out;

    snprintf(src, sizeof(src), "%s/t/data/keys/%s", top ? top : ".", name);
    snprintf(dst, sizeof(dst), "%s/%s", dir, name);
    in = fopen(src, "rb");
    out = fopen(dst, "wb");
    if (in == NULL || out == NULL) {
        printf("Bail out! cannot copy %s: %s\n", src, strerror(errno));
        exit(1);
    }
    n = fread(buf, 1, sizeof(buf), in);
    fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    chmod(dst, mode);
}

/* write_file - write text with @D@ replaced by the test directory */
static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    const char *p;

    for (p = text; *p; p++) {
        if (strncmp(p, "@D@", 3) == 0) {
            fputs(dir, fp);
            p += 2;
        } else {
            fputc(*p, fp);
        }
    }
    fclose(fp);
}

/* load - write both tables (NULL: not given) and load them */
static struct keyset *load(const char *kt, const char *st, bool refile, bool safe, char **err)
{
    char spec[320];

    if (kt)
        write_file(kt_path, kt);
    if (st) {
        write_file(st_path, st);
        snprintf(spec, sizeof(spec), "%s%s", refile ? "refile:" : "", st_path);
    }
    return keyset_load(kt ? kt_path : NULL, st ? spec : NULL, safe, err);
}

struct error_case {
    const char *what;
    const char *kt, *st;
    bool refile;
    const char *where; /* "KT:n" or "ST:n" prefix expected */
    const char *reason;
};

static const struct error_case error_cases[] = {
    {"no value", "# c\n\nk1\n", NULL, false, "KT:3", "key \"k1\" has no domain:selector:keyfile"},
    {"two fields", "k1 example.com:sel\n", NULL, false, "KT:1",
     "want domain:selector:/path/to/keyfile, got \"example.com:sel\""},
    {"empty selector", "k1 example.com::@D@/rsa2048.pem\n", NULL, false, "KT:1",
     "empty domain, selector or key file"},
    {"relative path", "k1 example.com:sel:keys/x.pem\n", NULL, false, "KT:1",
     "key file \"keys/x.pem\" must be an absolute path"},
    {"duplicate name", "k1 example.com:a:@D@/rsa2048.pem\nk1 example.com:b:@D@/ed25519.pem\n", NULL,
     false, "KT:2", "duplicate key name \"k1\""},
    {"missing key file", "k1 example.com:a:@D@/nope.pem\n", NULL, false, "KT:1",
     "cannot open key file @D@/nope.pem: No such file or directory"},
    {"garbage key", "k1 example.com:a:@D@/garbage.pem\n", NULL, false, "KT:1",
     "key file @D@/garbage.pem: cannot parse"},
    {"not PEM", "k1 example.com:a:@D@/plain.txt\n", NULL, false, "KT:1",
     "key file @D@/plain.txt: not a PEM private key"},
    {"RSA 512", "k1 example.com:a:@D@/rsa512.pem\n", NULL, false, "KT:1",
     "key file @D@/rsa512.pem: RSA key of 512 bits is too small (at least 1024)"},
    {"EC key", "k1 example.com:a:@D@/ec256.pem\n", NULL, false, "KT:1",
     "key file @D@/ec256.pem: unsupported key type"},
    {"encrypted", "k1 example.com:a:@D@/encrypted.pem\n", NULL, false, "KT:1",
     "key file @D@/encrypted.pem: encrypted keys are not supported"},
    {"world readable", "k1 example.com:a:@D@/loose.pem\n", NULL, false, "KT:1",
     "key file @D@/loose.pem is accessible by group or other (mode 0644): run chmod 600 "
     "@D@/loose.pem"},
    {"group readable", "k0 example.com:a:@D@/rsa2048.pem\nk1 example.com:a:@D@/group.pem\n", NULL,
     false, "KT:2", "(mode 0640): run chmod 600"},
    {"unknown key", "k1 example.com:a:@D@/rsa2048.pem\n", "example.com k1\nexample.org k2\n", false,
     "ST:2", "unknown key name \"k2\" (not in KeyTable"},
    {"no key name", "k1 example.com:a:@D@/rsa2048.pem\n", "example.com\n", false, "ST:1",
     "pattern \"example.com\" has no key name"},
    {"two key names", "k1 example.com:a:@D@/rsa2048.pem\n", "example.com k1,k2\n", false, "ST:1",
     "one key name per line, got \"k1,k2\""},
    {"duplicate entry", "k1 example.com:a:@D@/rsa2048.pem\n",
     "example.com k1\n# again\nEXAMPLE.com k1\n", false, "ST:3",
     "duplicate entry \"example.com k1\" (line 1)"},
    {"no KeyTable", NULL, "example.com k1\n", false, "ST:1", "unknown key name \"k1\""},
    {"refile unknown key", "k1 example.com:a:@D@/rsa2048.pem\n", "*@example.com k9\n", true, "ST:1",
     "unknown key name \"k9\""},
};

/* expand - replace @D@, KT: and ST: by the real paths */
static void expand(char *out, size_t size, const char *in)
{
    size_t o = 0;

    for (; *in && o + 1 < size; in++) {
        const char *rep = NULL;

        if (strncmp(in, "@D@", 3) == 0)
            rep = dir, in += 2;
        else if (strncmp(in, "KT:", 3) == 0)
            rep = kt_path, in += 1;
        else if (strncmp(in, "ST:", 3) == 0)
            rep = st_path, in += 1;
        if (rep) {
            o += (size_t)snprintf(out + o, size - o, "%s", rep);
            if (o >= size)
                o = size - 1;
        } else {
            out[o++] = *in;
        }
    }
    out[o] = 0;
}

/* test_errors - every table error with its file:line text */
static void test_errors(void)
{
    char want_where[400], want_reason[1200], *err;
    struct keyset *ks;
    size_t i;

    for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const struct error_case *c = &error_cases[i];

        err = NULL;
        ks = load(c->kt, c->st, c->refile, true, &err);
        tap_ok(ks == NULL && err != NULL, "%s: refused", c->what);
        expand(want_where, sizeof(want_where), c->where);
        strcat(want_where, ": ");
        expand(want_reason, sizeof(want_reason), c->reason);
        tap_ok(err && strncmp(err, want_where, strlen(want_where)) == 0, "%s: error at %s", c->what,
               want_where);
        tap_ok(err && strstr(err, want_reason) != NULL, "%s: reason \"%s\"", c->what, want_reason);
        if (err &&
            (strncmp(err, want_where, strlen(want_where)) != 0 || strstr(err, want_reason) == NULL))
            tap_diag("got: %s", err);
        free(err);
        keyset_free(&ks);
    }
}

/* test_misc_errors - errors that are not about one table line */
static void test_misc_errors(void)
{
    char *err = NULL, want[400], line[6000];
    struct keyset *ks;

    ks = keyset_load("/nonexistent/KeyTable", NULL, true, &err);
    tap_ok(ks == NULL && err &&
               strcmp(err, "/nonexistent/KeyTable: cannot open: No such file or "
                           "directory") == 0,
           "missing KeyTable named");
    free(err);
    err = NULL;
    ks = keyset_load("db:/etc/x", NULL, true, &err);
    tap_ok(ks == NULL && err && strstr(err, "unsupported data set type"), "db: refused");
    free(err);
    err = NULL;
    ks = keyset_load("refile:/etc/x", NULL, true, &err);
    tap_ok(ks == NULL && err && strstr(err, "refile: is only meaningful for the SigningTable"),
           "refile: KeyTable refused");
    free(err);

    memset(line, 'a', sizeof(line) - 2);
    line[sizeof(line) - 2] = '\n';
    line[sizeof(line) - 1] = 0;
    err = NULL;
    ks = load(line, NULL, false, true, &err);
    snprintf(want, sizeof(want), "%s:1: line longer than 4096 bytes", kt_path);
    tap_ok(ks == NULL && err && strcmp(err, want) == 0, "overlong line refused");
    free(err);

    {
        FILE *fp = fopen(kt_path, "w");

        fputs("# ok\nk1 exa", fp);
        fputc(0, fp);
        fputs("mple.com:a:/x\n", fp);
        fclose(fp);
    }
    err = NULL;
    ks = keyset_load(kt_path, NULL, true, &err);
    snprintf(want, sizeof(want), "%s:2: NUL byte in line", kt_path);
    tap_ok(ks == NULL && err && strcmp(err, want) == 0, "NUL byte refused");
    free(err);

    {
        char kt[2048] = "", st[2048] = "";
        int i;

        for (i = 0; i < KEYSET_MAX_SIGS + 1; i++) {
            snprintf(kt + strlen(kt), sizeof(kt) - strlen(kt), "k%d example.com:s%d:@D@/%s\n", i, i,
                     i % 2 ? "ed25519.pem" : "rsa2048.pem");
            snprintf(st + strlen(st), sizeof(st) - strlen(st), "example.com k%d\n", i);
        }
        err = NULL;
        ks = load(kt, st, false, true, &err);
        snprintf(want, sizeof(want), "%s:%d: more than %d keys", st_path, KEYSET_MAX_SIGS + 1,
                 KEYSET_MAX_SIGS);
        tap_ok(ks == NULL && err && strncmp(err, want, strlen(want)) == 0, "too many keys refused");
        free(err);
    }
}

/* test_permissions - require_safe on and off, owner check */
static void test_permissions(void)
{
    char *err = NULL;
    struct keyset *ks;
    char path[400];

    ks = load("k1 example.com:a:@D@/loose.pem\n", NULL, false, false, &err);
    tap_ok(ks != NULL && err == NULL, "require_safe off accepts a 0644 key");
    keyset_free(&ks);
    tap_ok(ks == NULL, "keyset_free clears the pointer");

    snprintf(path, sizeof(path), "%s/other.pem", dir);
    if (geteuid() == 0 && chown(path, 65534, 65534) == 0) {
        ks = load("k1 example.com:a:@D@/other.pem\n", NULL, false, true, &err);
        tap_ok(ks == NULL && err && strstr(err, "is owned by uid 65534, not root or uid 0"),
               "key owned by another user refused");
        free(err);
        err = NULL;
        ks = load("k1 example.com:a:@D@/other.pem\n", NULL, false, false, &err);
        tap_ok(ks != NULL, "require_safe off accepts a foreign owner");
        keyset_free(&ks);
    } else {
        tap_ok(1, "# SKIP owner check needs root");
        tap_ok(1, "# SKIP owner check needs root");
    }
}

/* expect_match - keyset_match gives these selectors in order ("" for none) */
static void expect_match(const struct keyset *ks, const char *addr, const char *want)
{
    const struct dkim_key *keys[KEYSET_MAX_SIGS];
    char got[256] = "";
    size_t n, i;

    n = keyset_match(ks, addr, keys, KEYSET_MAX_SIGS);
    for (i = 0; i < n; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "",
                 keys[i]->selector);
    tap_is_str(got, want, "match %s", addr);
}

static const char key_table[] = "# all key formats\n"
                                "rsa     example.com:rsa:@D@/rsa2048.pem\n"
                                "rsa8    example.com:rsa8:@D@/rsa2048-pkcs8.pem\n"
                                "ed      example.com:ed:@D@/ed25519.pem\n"
                                "small   example.net:small:@D@/rsa1024-pkcs8.pem\n"
                                "any     %:any:@D@/rsa2048.pem\n"
                                "alice   example.com:alice:@D@/ed25519.pem\n"
                                "sub     example.org:sub:@D@/rsa2048.pem\n";

/* test_types - every key format loads with the right type */
static void test_types(void)
{
    const struct dkim_key *keys[KEYSET_MAX_SIGS];
    char *err = NULL;
    struct keyset *ks;
    size_t n;

    ks = load(key_table, "example.com rsa\nexample.com rsa8\nexample.com ed\nexample.net small\n",
              false, true, &err);
    tap_ok(ks != NULL, "all key formats load%s%s", err ? ": " : "", err ? err : "");
    free(err);
    if (ks == NULL)
        return;
    tap_is_int((long)keyset_count(ks), 7, "seven keys");
    n = keyset_match(ks, "User@Example.COM", keys, KEYSET_MAX_SIGS);
    tap_is_int((long)n, 3, "three signatures for example.com");
    if (n == 3) {
        tap_ok(keys[0]->type == DKIM_KEY_RSA && keys[0]->bits == 2048, "PEM RSA: rsa 2048");
        tap_ok(keys[1]->type == DKIM_KEY_RSA && keys[1]->bits == 2048, "PKCS#8 RSA: rsa 2048");
        tap_ok(keys[2]->type == DKIM_KEY_ED25519, "PKCS#8 Ed25519: ed25519");
        tap_ok(keys[0]->pkey != NULL && keys[2]->pkey != NULL, "keys parsed once, cached");
        tap_ok(keys[0]->pem_len > 0 && strncmp((char *)keys[0]->pem, "-----", 5) == 0,
               "PEM text kept for libopendkim");
        tap_is_str(keys[0]->domain, "example.com", "domain");
    }
    n = keyset_match(ks, "x@example.net", keys, 1);
    tap_ok(n == 1 && keys[0]->bits == 1024, "RSA 1024 accepted");
    n = keyset_match(ks, "x@example.com", keys, 2);
    tap_is_int((long)n, 2, "max respected");
    keyset_free(&ks);
}

/* test_plain_lookup - OpenDKIM's lookup order for plain tables */
static void test_plain_lookup(void)
{
    char *err = NULL;
    struct keyset *ks;

    ks = load(key_table,
              "example.com rsa\n"
              "example.com ed\n"
              "alice@example.com alice\n"
              ".example.org sub\n"
              "bob@.example.org rsa\n"
              "*  any\n",
              false, true, &err);
    tap_ok(ks != NULL, "plain SigningTable loads%s%s", err ? ": " : "", err ? err : "");
    free(err);
    if (ks == NULL)
        return;
    expect_match(ks, "carol@example.com", "rsa,ed");
    expect_match(ks, "ALICE@example.com", "alice");
    expect_match(ks, "x@mail.example.org", "sub");
    expect_match(ks, "bob@mail.example.org", "rsa");
    expect_match(ks, "x@example.org", "any");
    expect_match(ks, "x@elsewhere.test", "any");
    expect_match(ks, "no-at-sign", "");
    expect_match(ks, "trailing@", "");
    keyset_free(&ks);

    ks = load(key_table, "example.com rsa\n", false, true, &err);
    expect_match(ks, "x@elsewhere.test", "");
    expect_match(ks, "x@sub.example.com", "");
    keyset_free(&ks);

    ks = keyset_load(NULL, NULL, true, &err);
    tap_ok(ks != NULL && keyset_count(ks) == 0 && err == NULL, "NULL tables: empty keyset");
    expect_match(ks, "x@example.com", "");
    keyset_free(&ks);
}

/* test_refile - wildcard SigningTable */
static void test_refile(void)
{
    const struct dkim_key *keys[KEYSET_MAX_SIGS];
    char *err = NULL;
    struct keyset *ks;

    ks = load(key_table,
              "alice@example.com alice\n"
              "*@example.com rsa\n"
              "*@example.com ed\n"
              "*@*.example.org sub\n"
              "*@example.* rsa8\n",
              true, true, &err);
    tap_ok(ks != NULL, "refile: SigningTable loads%s%s", err ? ": " : "", err ? err : "");
    free(err);
    if (ks == NULL)
        return;
    expect_match(ks, "alice@example.com", "alice");
    expect_match(ks, "Bob@EXAMPLE.com", "rsa,ed");
    expect_match(ks, "x@a.b.example.org", "sub");
    expect_match(ks, "x@example.org", "rsa8");
    expect_match(ks, "x@example.net", "rsa8");
    expect_match(ks, "x@other.test", "");
    tap_ok(keyset_match(ks, "x@example.com", keys, KEYSET_MAX_SIGS) == 2 &&
               keys[0]->type == DKIM_KEY_RSA && keys[1]->type == DKIM_KEY_ED25519,
           "RSA and Ed25519 side by side");
    keyset_free(&ks);

    write_file(st_path, "*@example.com rsa\n");
    {
        char spec[400];

        snprintf(spec, sizeof(spec), "file:%s", st_path);
        write_file(kt_path, key_table);
        ks = keyset_load(kt_path, spec, true, &err);
        tap_ok(ks != NULL, "file: prefix accepted");
        expect_match(ks, "x@example.com", "");
        keyset_free(&ks);
    }
}

/* main - run every group in a fresh directory */
int main(void)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(dir, sizeof(dir), "%s/test-keys.XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    snprintf(kt_path, sizeof(kt_path), "%s/KeyTable", dir);
    snprintf(st_path, sizeof(st_path), "%s/SigningTable", dir);
    copy_key("rsa2048.pem", 0600);
    copy_key("rsa2048-pkcs8.pem", 0600);
    copy_key("rsa1024-pkcs8.pem", 0600);
    copy_key("ed25519.pem", 0600);
    copy_key("rsa512.pem", 0600);
    copy_key("ec256.pem", 0600);
    copy_key("garbage.pem", 0600);
    copy_key("encrypted.pem", 0600);
    copy_key("rsa2048.pem", 0600);
    {
        char a[1200], b[2400];

        snprintf(a, sizeof(a), "cp -p %s/rsa2048.pem %s/loose.pem && chmod 644 %s/loose.pem", dir,
                 dir, dir);
        snprintf(b, sizeof(b),
                 "cp -p %s/ed25519.pem %s/group.pem && chmod 640 %s/group.pem && "
                 "cp -p %s/ed25519.pem %s/other.pem && echo hello > %s/plain.txt && "
                 "chmod 600 %s/plain.txt",
                 dir, dir, dir, dir, dir, dir, dir);
        if (system(a) != 0 || system(b) != 0) {
            printf("Bail out! cannot prepare keys\n");
            return 1;
        }
    }
    test_errors();
    test_misc_errors();
    test_permissions();
    test_types();
    test_plain_lookup();
    test_refile();
    {
        char cmd[400];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            tap_diag("cannot remove %s", dir);
    }
    return tap_done();
}
