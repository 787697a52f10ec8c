/*
 * NAME
 *	test-spf - unit tests of spf_check() over a DNSZoneFile
 * DESCRIPTION
 *	Table-driven: each row is one check against t/data/dns/spf.zone,
 *	through the same code path as production (no network).  The macro
 *	expander and the exp= rules (milter/spf_exp.c) have their own tables;
 *	their DNS data is a DNSZoneFile written to a temporary file here.
 */
#include "am_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns.h"
#include "spf.h"
#include "spf_exp.h"
#include "tap.h"

static const struct {
    const char *ip, *helo, *mail_from;
    enum spf_result want;
    enum spf_identity id;
    const char *problem; /* substring, or NULL */
} cases[] = {
    {"192.0.2.1", "mx.example", "a@pass.test", SPF_RES_PASS, SPF_ID_MAILFROM, NULL},
    {"2001:db8::5", "mx.example", "a@pass.test", SPF_RES_PASS, SPF_ID_MAILFROM, NULL},
    {"::ffff:192.0.2.9", "mx.example", "a@pass.test", SPF_RES_PASS, SPF_ID_MAILFROM, NULL},
    {"198.51.100.1", "mx.example", "a@pass.test", SPF_RES_FAIL, SPF_ID_MAILFROM, NULL},
    {"127.0.0.1", "localhost", "a@pass.test", SPF_RES_FAIL, SPF_ID_MAILFROM, NULL},
    {"198.51.100.1", "mx.example", "<a@soft.test>", SPF_RES_SOFTFAIL, SPF_ID_MAILFROM, NULL},
    {"198.51.100.1", "mx.example", "a@neutral.test", SPF_RES_NEUTRAL, SPF_ID_MAILFROM, NULL},
    {"198.51.100.1", "mx.example", "a@nospf.test", SPF_RES_NONE, SPF_ID_MAILFROM, "no SPF"},
    {"198.51.100.1", "mx.example", "a@missing.test", SPF_RES_NONE, SPF_ID_MAILFROM, "no SPF"},
    {"198.51.100.1", "mx.example", "a@bad.test", SPF_RES_PERMERROR, SPF_ID_MAILFROM, "cidr"},
    {"198.51.100.1", "mx.example", "a@tmp.test", SPF_RES_TEMPERROR, SPF_ID_MAILFROM, "timed out"},
    {"198.51.100.1", "mx.example", "a@slow.test", SPF_RES_TEMPERROR, SPF_ID_MAILFROM, "timed out"},
    {"198.51.100.1", "mx.example", "a@voids.test", SPF_RES_PERMERROR, SPF_ID_MAILFROM, "void"},
    {"198.51.100.1", "mx.example", "a@many.test", SPF_RES_PERMERROR, SPF_ID_MAILFROM, "terms"},
    {"192.0.2.7", "helo.test", "", SPF_RES_PASS, SPF_ID_HELO, NULL},
    {"192.0.2.8", "helo.test", "<>", SPF_RES_FAIL, SPF_ID_HELO, NULL},
    {"192.0.2.8", "not_a_fqdn", "", SPF_RES_NONE, SPF_ID_HELO, "not a valid domain"},
    {"192.0.2.8", "mx.example", "a@x..test", SPF_RES_NONE, SPF_ID_MAILFROM, "not a valid"},
    {"not-an-ip", "mx.example", "a@pass.test", SPF_RES_TEMPERROR, SPF_ID_MAILFROM, NULL},
};

/* ---- macro expansion (milter/spf_exp.c) ------------------------------------ */

#define EXP SPF_MACRO_EXP
#define DOM SPF_MACRO_DOMAIN
#define RFC_SENDER "strong-bad@email.example.com"

/* RFC 7208 7.4 examples first, then every letter, transformer, delimiter and error */
static const struct {
    int v6, mode;
    const char *sender;    /* NULL: RFC_SENDER */
    const char *in, *want; /* want NULL: syntax error */
} macro_cases[] = {
    {0, DOM, NULL, "%{s}", "strong-bad@email.example.com"},
    {0, DOM, NULL, "%{o}", "email.example.com"},
    {0, DOM, NULL, "%{d}", "email.example.com"},
    {0, DOM, NULL, "%{d4}", "email.example.com"},
    {0, DOM, NULL, "%{d3}", "email.example.com"},
    {0, DOM, NULL, "%{d2}", "example.com"},
    {0, DOM, NULL, "%{d1}", "com"},
    {0, DOM, NULL, "%{dr}", "com.example.email"},
    {0, DOM, NULL, "%{d2r}", "example.email"},
    {0, DOM, NULL, "%{l}", "strong-bad"},
    {0, DOM, NULL, "%{l-}", "strong.bad"},
    {0, DOM, NULL, "%{lr}", "strong-bad"},
    {0, DOM, NULL, "%{lr-}", "bad.strong"},
    {0, DOM, NULL, "%{l1r-}", "strong"},
    {0, DOM, NULL, "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
    {0, DOM, NULL, "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
    {0, DOM, NULL, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
     "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
    {0, DOM, NULL, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
     "3.2.0.192.in-addr.strong.lp._spf.example.com"},
    {0, DOM, NULL, "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
    {1, DOM, NULL, "%{ir}.%{v}._spf.%{d2}",
     "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com"},
    {1, DOM, NULL, "%{i}", "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1"},
    {0, DOM, NULL, "%{i}", "192.0.2.3"},
    {0, DOM, NULL, "%{v}", "in-addr"},
    {1, DOM, NULL, "%{v}", "ip6"},
    {0, DOM, NULL, "%{h}", "mx.example.org"},
    {0, DOM, NULL, "%{p}", "unknown"},
    {0, EXP, NULL, "%{c}", "192.0.2.3"},
    {1, EXP, NULL, "%{c}", "2001:db8::cb01"},
    {0, EXP, NULL, "%{r}", "rcv.example"},
    {0, EXP, NULL, "%{t}", "1234567890"},
    {0, EXP, NULL, "%{t1}", "1234567890"},
    /* upper case: URL escaping of everything but ALPHA DIGIT - . _ ~ */
    {0, DOM, NULL, "%{S}", "strong-bad%40email.example.com"},
    {0, DOM, NULL, "%{D2R}", "example.email"},
    {0, DOM, "~jack&jill=up-a_b3.c@e8.example.com", "%{L}", "~jack%26jill%3Dup-a_b3.c"},
    {0, EXP, "a b/c:d@x.example", "%{L}", "a%20b%2Fc%3Ad"},
    {1, EXP, NULL, "%{C}", "2001%3Adb8%3A%3Acb01"},
    {0, EXP, NULL, "%{R} %{T} %{V}", "rcv.example 1234567890 in-addr"},
    /* transformers and delimiters */
    {0, DOM, "foo-bar+zip+quux@e12.example.com", "%{l2r+-}", "bar.foo"},
    {0, DOM, "foo-bar+zip+quux@e12.example.com", "%{l+-}", "foo.bar.zip.quux"},
    {0, DOM, "foo-bar+zip+quux@e12.example.com", "%{l-+}", "foo.bar.zip.quux"},
    {0, DOM, "foo-bar+zip+quux@e12.example.com", "%{l+}", "foo-bar.zip.quux"},
    {0, DOM, "a,b/c_d=e@x.example", "%{l,/_=}", "a.b.c.d.e"},
    {0, DOM, "a,b/c_d=e@x.example", "%{lr=}", "e.a,b/c_d"},
    {0, DOM, "a--b@x.example", "%{l-}", "a..b"},
    {0, DOM, NULL, "%{d99999999999999999999}", "email.example.com"},
    {0, DOM, NULL, "%{d01}", "com"},
    {0, DOM, NULL, "%{dR}", "com.example.email"},
    {0, DOM, "@x.example", "%{l}.%{o}", "postmaster.x.example"},
    /* escapes and literals */
    {0, DOM, NULL, "a%%b%_c%-d", "a%b c%20d"},
    {0, EXP, NULL, "see %{d} now.", "see email.example.com now."},
    {0, EXP, NULL, "", ""},
    /* syntax errors */
    {0, DOM, NULL, "%", NULL},
    {0, DOM, NULL, "a%", NULL},
    {0, DOM, NULL, "%x", NULL},
    {0, DOM, NULL, "%(ir)", NULL},
    {0, DOM, NULL, "%{x}", NULL},
    {0, DOM, NULL, "%{}", NULL},
    {0, DOM, NULL, "%{d", NULL},
    {0, DOM, NULL, "%{d0}", NULL},
    {0, DOM, NULL, "%{d2q}", NULL},
    {0, DOM, NULL, "%{d2r-x}", NULL},
    {0, DOM, NULL, "%{rd}", NULL},
    {0, DOM, NULL, "%{c}", NULL},
    {0, DOM, NULL, "%{r}", NULL},
    {0, DOM, NULL, "%{t}", NULL},
    {0, DOM, NULL, "a b", NULL},
    {0, EXP, NULL, "The %{x}-files.", NULL},
    {0, EXP, NULL, "tab\there", NULL},
    {0, EXP, NULL, "del\x7f", NULL},
    {0, EXP, NULL,
     "\xef\xbb\xbf"
     "Explanation",
     NULL},
};

/* rfc_env - the RFC 7208 7.4 example environment */
static void rfc_env(struct spf_macro_env *env, int v6, const char *sender)
{
    static const unsigned char v4[4] = {192, 0, 2, 3};
    static const unsigned char a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,    0,
                                         0,    0,    0,    0,    0, 0, 0xcb, 0x01};

    memset(env, 0, sizeof(*env));
    env->sender = sender ? sender : RFC_SENDER;
    env->domain = "email.example.com";
    env->helo = "mx.example.org";
    env->receiver = "rcv.example";
    env->now = 1234567890;
    env->v6 = v6;
    memcpy(env->ip, v6 ? a6 : v4, v6 ? 16 : 4);
}

/* test_macros - the expander table, truncation and the length bound */
static void test_macros(void)
{
    struct spf_macro_env env;
    char *got, big[64 * 5 + 1], longspec[5 * 200 + 1];
    const char *why;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(macro_cases) / sizeof(macro_cases[0]); i++) {
        rfc_env(&env, macro_cases[i].v6, macro_cases[i].sender);
        why = NULL;
        rc = spf_macro_expand(&env, macro_cases[i].in, macro_cases[i].mode, &got, &why);
        if (macro_cases[i].want) {
            tap_is_str(rc == 0 ? got : why, macro_cases[i].want, "%s \"%s\"",
                       macro_cases[i].mode == EXP ? "exp" : "domain", macro_cases[i].in);
        } else {
            tap_ok(rc < 0 && got == NULL && why != NULL, "%s \"%s\" is a syntax error (%s)",
                   macro_cases[i].mode == EXP ? "exp" : "domain", macro_cases[i].in,
                   rc < 0 ? why : got);
        }
        free(got);
    }

    rfc_env(&env, 0, NULL);
    for (i = 0; i < 200; i++)
        memcpy(longspec + 5 * i, "%{s}.", 5);
    longspec[5 * 200] = '\0';
    rc = spf_macro_expand(&env, longspec, DOM, &got, &why);
    tap_ok(rc < 0 && got == NULL, "expansion past SPF_MACRO_MAX refused (%s)", rc < 0 ? why : "?");
    free(got);

    /* five 63-byte labels: 319 bytes, the two left labels go */
    for (i = 0; i < 5; i++) {
        memset(big + 64 * i, 'a' + (int)i, 63);
        big[64 * i + 63] = i < 4 ? '.' : '\0';
    }
    spf_domain_truncate(big);
    tap_ok(strlen(big) == 191 && big[0] == 'c' && big[63] == '.',
           "truncated to 191 bytes, left cut");
    snprintf(big, sizeof(big), "msg.example.com.");
    spf_domain_truncate(big);
    tap_is_str(big, "msg.example.com", "trailing dot dropped");
    memset(big, 'x', 300 > sizeof(big) - 1 ? sizeof(big) - 1 : 300);
    big[sizeof(big) - 1] = '\0';
    spf_domain_truncate(big);
    tap_is_str(big, "", "one label over 253 bytes: nothing left");
}

/* ---- %{p} and exp= against DNS data ---------------------------------------- */

static const char exp_zone[] =
    "example. 300 IN SOA ns.example. hostmaster.example. 1 3600 600 86400 60\n"
    "2.0.192.in-addr.arpa. 300 IN SOA ns.example. hostmaster.example. 1 3600 600 86400 60\n"
    "8.b.d.0.1.0.0.2.ip6.arpa. 300 IN SOA ns.example. hostmaster.example. 1 3600 600 86400 60\n"
    "3.2.0.192.in-addr.arpa. 300 IN PTR other.example.\n"
    "3.2.0.192.in-addr.arpa. 300 IN PTR nomatch.mail.example.\n"
    "3.2.0.192.in-addr.arpa. 300 IN PTR mx.mail.example.\n"
    "other.example. 300 IN A 192.0.2.3\n"
    "nomatch.mail.example. 300 IN A 192.0.2.99\n"
    "mx.mail.example. 300 IN A 192.0.2.3\n"
    "4.2.0.192.in-addr.arpa. 300 IN PTR mail.example.\n"
    "mail.example. 300 IN A 192.0.2.4\n"
    "5.2.0.192.in-addr.arpa. 300 IN PTR nomatch.mail.example.\n"
    ";! TIMEOUT 6.2.0.192.in-addr.arpa.\n"
    "7.2.0.192.in-addr.arpa. 300 IN PTR n1.example.\n"
    "7.2.0.192.in-addr.arpa. 300 IN PTR n2.example.\n"
    "7.2.0.192.in-addr.arpa. 300 IN PTR n3.example.\n"
    "7.2.0.192.in-addr.arpa. 300 IN PTR n4.example.\n"
    "7.2.0.192.in-addr.arpa. 300 IN PTR n5.example.\n"
    "7.2.0.192.in-addr.arpa. 300 IN PTR n6.example.\n"
    "7.2.0.192.in-addr.arpa. 300 IN PTR n7.example.\n"
    "7.2.0.192.in-addr.arpa. 300 IN PTR n8.example.\n"
    "7.2.0.192.in-addr.arpa. 300 IN PTR n9.example.\n"
    "7.2.0.192.in-addr.arpa. 300 IN PTR n10.example.\n"
    "7.2.0.192.in-addr.arpa. 300 IN PTR eleventh.example.\n"
    "eleventh.example. 300 IN A 192.0.2.7\n"
    "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 300 IN PTR "
    "v6.mail.example.\n"
    "v6.mail.example. 300 IN AAAA 2001:db8::cb01\n"
    /* explanation texts */
    "one.example. 300 IN TXT \"Hello %{l}, %{c} may not send for %{o} (%{r} at %{t})\"\n"
    "two.example. 300 IN TXT \"one\"\n"
    "two.example. 300 IN TXT \"two\"\n"
    ";! TIMEOUT slow.example.\n"
    "bad.example. 300 IN TXT \"The %{x}-files.\"\n"
    "nonascii.example. 300 IN TXT \"\\239\\187\\191Explanation\"\n"
    "nodata.example. 300 IN A 192.0.2.1\n"
    "3.2.0.192.rev.example. 300 IN TXT \"reversed %{i}\"\n"
    "strong.lp.example. 300 IN TXT \"strong one %%%_%-\"\n"
    "multi.example. 300 IN TXT \"a\" \"b %{d}\"\n"
    "ptr.example. 300 IN TXT \"from %{p}\"\n"
    "echo.example. 300 IN TXT \"[%{l}]\"\n"
    "up.example. 300 IN TXT \"?l=%{L}&h=%{H}\"\n"
    /* spf_check(): which exp= applies */
    "r1.example. 300 IN TXT \"v=spf1 exp=one.example redirect=r2.example\"\n"
    "r2.example. 300 IN TXT \"v=spf1 -all\"\n"
    "r3.example. 300 IN TXT \"v=spf1 exp=one.example redirect=r4.example\"\n"
    "r4.example. 300 IN TXT \"v=spf1 -all exp=who.example\"\n"
    "who.example. 300 IN TXT \"%{d} for %{o}\"\n"
    "i1.example. 300 IN TXT \"v=spf1 include:r4.example -all exp=up.example\"\n"
    "i2.example. 300 IN TXT \"v=spf1 ?include:r4.example redirect=r2.example exp=one.example\"\n"
    "s1.example. 300 IN TXT \"v=spf1 ~all exp=one.example\"\n"
    "s2.example. 300 IN TXT \"v=spf1 ?all exp=one.example\"\n"
    "s3.example. 300 IN TXT \"v=spf1 +all exp=one.example\"\n"
    "t1.example. 300 IN TXT \"v=spf1 -all exp=two.example\"\n"
    "t2.example. 300 IN TXT \"v=spf1 -all exp=slow.example\"\n"
    "t3.example. 300 IN TXT \"v=spf1 -all exp=nx.example\"\n"
    "t4.example. 300 IN TXT \"v=spf1 a:v1.example a:v2.example -all exp=nx.example\"\n"
    "t5.example. 300 IN TXT \"v=spf1 -all exp=bad.example\"\n"
    "h1.example. 300 IN TXT \"v=spf1 -all exp=echo.example\"\n"
    "l1.example. 300 IN TXT \"v=spf1 -all exp=%{l1r-}.lp.example.\"\n"
    "c1.example. 300 IN TXT \"v=spf1 -all exp=%{c}.example\"\n";

static const struct {
    const char *ip, *domain, *want;
} ptr_cases[] = {
    {"192.0.2.3", "mail.example", "mx.mail.example"}, /* subdomain before any other */
    {"192.0.2.3", "other.example", "other.example"},  /* the domain itself first */
    {"192.0.2.3", "elsewhere.example", "other.example"},
    {"192.0.2.4", "mail.example", "mail.example"},
    {"192.0.2.5", "mail.example", "unknown"}, /* PTR name does not point back */
    {"192.0.2.6", "mail.example", "unknown"}, /* DNS error */
    {"192.0.2.7", "example", "unknown"},      /* valid name is the 11th */
    {"192.0.2.8", "mail.example", "unknown"}, /* no PTR */
    {"2001:db8::cb01", "mail.example", "v6.mail.example"},
};

static const struct {
    const char *spec, *sender;
    const char *want; /* NULL: no explanation */
    const char *why;  /* substring of the reason */
} expl_cases[] = {
    {"one.example", NULL,
     "Hello strong-bad, 192.0.2.3 may not send for mail.example (rcv.example at 1234567890)",
     "one.example"},
    {"two.example", NULL, NULL, "2 TXT records"},
    {"slow.example", NULL, NULL, "timed out"},
    {"nx.example", NULL, NULL, "TXT nx.example"},
    {"nodata.example", NULL, NULL, "TXT nodata.example"},
    {"bad.example", NULL, NULL, "macro letter"},
    {"nonascii.example", NULL, NULL, "character not allowed"},
    {"%{ir}.rev.example", NULL, "reversed 192.0.2.3", "3.2.0.192.rev.example"},
    {"%{l1r-}.lp.example.", NULL, "strong one % %20", "strong.lp.example"},
    {"multi.example", NULL, "ab mail.example", "multi.example"},
    {"ptr.example", NULL, "from mx.mail.example", "ptr.example"},
    {"echo.example", "x\001y\r\nz@mail.example", "[x?y??z]", "echo.example"},
    {"up.example", "a&b@mail.example", "?l=a%26b&h=helo.example", "up.example"},
    {"%{c}.example", NULL, NULL, "outside an explanation"},
    {"%{x}.example", NULL, NULL, "macro letter"},
    {"", NULL, NULL, "empty"},
};

static const struct {
    const char *mail_from, *helo;
    enum spf_result want;
    const char *expl; /* NULL: none */
} check_cases[] = {
    {"a@r1.example", "h.example", SPF_RES_FAIL, NULL}, /* redirect cancels exp= */
    {"a@r3.example", "h.example", SPF_RES_FAIL, "r4.example for r3.example"}, /* target's */
    {"a@i1.example", "h.example", SPF_RES_FAIL, "?l=a&h=h.example"}, /* include's is not used */
    {"a@i2.example", "h.example", SPF_RES_FAIL, NULL},     /* after an include, redirect */
    {"a@s1.example", "h.example", SPF_RES_SOFTFAIL, NULL}, /* exp only for fail */
    {"a@s2.example", "h.example", SPF_RES_NEUTRAL, NULL},
    {"a@s3.example", "h.example", SPF_RES_PASS, NULL},
    {"a@t1.example", "h.example", SPF_RES_FAIL, NULL},   /* two TXT */
    {"a@t2.example", "h.example", SPF_RES_FAIL, NULL},   /* DNS error: result kept */
    {"a@t3.example", "h.example", SPF_RES_FAIL, NULL},   /* NXDOMAIN */
    {"a@t4.example", "h.example", SPF_RES_FAIL, NULL},   /* not a third void lookup */
    {"a@t5.example", "h.example", SPF_RES_FAIL, NULL},   /* syntax error in text */
    {"", "h1.example", SPF_RES_FAIL, "[postmaster]"},    /* HELO identity */
    {"b-c@l1.example", "h.example", SPF_RES_FAIL, NULL}, /* b.lp.example: none */
    {"strong-bad@l1.example", "h.example", SPF_RES_FAIL, "strong one % %20"},
    {"a@c1.example", "h.example", SPF_RES_PERMERROR, NULL}, /* %{c} in domain-spec */
};

/* test_exp_dns - %{p}, spf_explanation() and spf_check()'s exp= rules */
static void test_exp_dns(void)
{
    static const char *const ns[] = {"127.0.0.1@9", NULL};
    char path[] = "/tmp/test-spf-exp.XXXXXX", why[320], *err = NULL, *got;
    struct dns_options opt = {0};
    struct dns_resolver *dns;
    struct spf_macro_env env;
    struct spf_request req;
    struct spf_outcome out;
    FILE *fp;
    int fd;
    size_t i;

    fd = mkstemp(path);
    fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    tap_ok(fp != NULL && fputs(exp_zone, fp) >= 0 && fclose(fp) == 0, "exp zone written");
    opt.zone_file = path;
    opt.nameservers = ns;
    opt.timeout_ms = 1000;
    dns = dns_resolver_new(&opt, &err);
    unlink(path);
    tap_ok(dns != NULL, "exp zone loads (%s)", err ? err : "ok");
    if (dns == NULL) {
        free(err);
        return;
    }

    for (i = 0; i < sizeof(ptr_cases) / sizeof(ptr_cases[0]); i++) {
        int v6 = strchr(ptr_cases[i].ip, ':') != NULL;
        memset(&env, 0, sizeof(env));
        env.v6 = v6;
        inet_pton(v6 ? AF_INET6 : AF_INET, ptr_cases[i].ip, env.ip);
        env.domain = ptr_cases[i].domain;
        env.dns = dns;
        tap_is_str(spf_validated_name(&env), ptr_cases[i].want, "%%{p} of %s for %s",
                   ptr_cases[i].ip, ptr_cases[i].domain);
        tap_ok(env.lookups >= 1 && env.lookups <= 1 + SPF_PTR_NAMES, "%%{p} lookups bounded: %u",
               env.lookups);
    }
    memset(&env, 0, sizeof(env));
    tap_is_str(spf_validated_name(&env), "unknown", "%%{p} without a resolver");

    for (i = 0; i < sizeof(expl_cases) / sizeof(expl_cases[0]); i++) {
        memset(&env, 0, sizeof(env));
        env.sender = expl_cases[i].sender ? expl_cases[i].sender : "strong-bad@mail.example";
        env.domain = "mail.example";
        env.helo = "helo.example";
        env.receiver = "rcv.example";
        env.now = 1234567890;
        inet_pton(AF_INET, "192.0.2.3", env.ip);
        env.dns = dns;
        why[0] = '\0';
        got = spf_explanation(&env, expl_cases[i].spec, why, sizeof(why));
        tap_is_str(got, expl_cases[i].want, "exp=%s", expl_cases[i].spec);
        tap_ok(strstr(why, expl_cases[i].why) != NULL, "exp=%s: reason \"%s\" has \"%s\"",
               expl_cases[i].spec, why, expl_cases[i].why);
        free(got);
    }

    for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
        memset(&req, 0, sizeof(req));
        req.client_ip = "192.0.2.200";
        req.helo = check_cases[i].helo;
        req.mail_from = check_cases[i].mail_from;
        req.receiver = "rcv.example";
        spf_check(dns, &req, &out);
        tap_is_str(spf_result_name(out.result), spf_result_name(check_cases[i].want),
                   "spf_check %s/%s: result", check_cases[i].mail_from, check_cases[i].helo);
        tap_is_str(out.explanation, check_cases[i].expl, "spf_check %s/%s: explanation",
                   check_cases[i].mail_from, check_cases[i].helo);
        if (strcmp(check_cases[i].mail_from, "a@t4.example") == 0)
            tap_is_int(out.void_lookups, 2, "exp= NXDOMAIN is not a void lookup");
        spf_outcome_clear(&out);
    }
    dns_resolver_free(&dns);
}

int main(void)
{
    char zone[1024], *err = NULL, *top = getenv("top_srcdir");
    static const char *const ns[] = {"127.0.0.1@9", NULL};
    struct dns_options opt = {0};
    struct dns_resolver *dns;
    struct spf_request req;
    struct spf_outcome out;
    size_t i;

    snprintf(zone, sizeof(zone), "%s/t/data/dns/spf.zone", top ? top : AM_TOP_SRCDIR);
    opt.zone_file = zone;
    opt.nameservers = ns;
    opt.timeout_ms = 1000;
    dns = dns_resolver_new(&opt, &err);
    tap_ok(dns != NULL, "zone loads (%s)", err ? err : "ok");
    if (dns == NULL)
        return tap_done();
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&req, 0, sizeof(req));
        req.client_ip = cases[i].ip;
        req.helo = cases[i].helo;
        req.mail_from = cases[i].mail_from;
        req.trace = 1;
        spf_check(dns, &req, &out);
        tap_is_str(spf_result_name(out.result), spf_result_name(cases[i].want),
                   "%s from %s: result", cases[i].mail_from, cases[i].ip);
        tap_ok(out.identity == cases[i].id, "identity %d", (int)out.identity);
        if (cases[i].problem)
            tap_ok(out.problem && strstr(out.problem, cases[i].problem),
                   "problem mentions \"%s\": %s", cases[i].problem,
                   out.problem ? out.problem : "NULL");
        spf_outcome_clear(&out);
    }

    memset(&req, 0, sizeof(req));
    req.client_ip = "198.51.100.1";
    req.helo = "helo.test";
    req.mail_from = "x@exp.test";
    req.check_helo = 1;
    req.trace = 1;
    spf_check(dns, &req, &out);
    tap_is_str(spf_result_name(out.result), "fail", "exp.test: fail");
    tap_is_str(out.explanation, "no mail from this host", "explanation from exp=");
    tap_ok(out.helo_checked && out.helo_result == SPF_RES_FAIL, "HELO checked too: fail");
    tap_is_str(out.domain, "exp.test", "domain checked");
    tap_is_str(out.sender, "x@exp.test", "sender");
    tap_ok(out.ntrace >= 2 && strstr(out.trace[0], "check_host") != NULL, "trace collected (%zu)",
           out.ntrace);
    spf_outcome_clear(&out);
    spf_outcome_clear(&out); /* twice is harmless */

    memset(&req, 0, sizeof(req));
    req.client_ip = "192.0.2.1";
    req.helo = "mx.example";
    req.mail_from = "@pass.test";
    spf_check(dns, &req, &out);
    tap_is_str(out.sender, "postmaster@pass.test", "empty local-part: postmaster");
    tap_ok(out.ntrace == 0, "no trace unless asked");
    spf_outcome_clear(&out);

    tap_is_str(spf_result_name(SPF_RES_NONE), "none", "name none");
    tap_is_str(spf_result_name(SPF_RES_NEUTRAL), "neutral", "name neutral");
    tap_is_str(spf_result_name(SPF_RES_PASS), "pass", "name pass");
    tap_is_str(spf_result_name(SPF_RES_FAIL), "fail", "name fail");
    tap_is_str(spf_result_name(SPF_RES_SOFTFAIL), "softfail", "name softfail");
    tap_is_str(spf_result_name(SPF_RES_TEMPERROR), "temperror", "name temperror");
    tap_is_str(spf_result_name(SPF_RES_PERMERROR), "permerror", "name permerror");
    dns_resolver_free(&dns);

    test_macros();
    test_exp_dns();
    return tap_done();
}
