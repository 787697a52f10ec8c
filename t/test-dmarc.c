/*
 * NAME
 *	test-dmarc - DMARC evaluation, record syntax and public suffix list
 * DESCRIPTION
 *	Table-driven: public suffix rows (psl_*), record syntax rows
 *	(dmarc_record_parse), evaluation rows against t/data/dmarc/dmarc.zone
 *	through the real DNS layer (no network: every zone is authoritative
 *	in the file), and one row per libopendmarc 1.4.2 pitfall, each
 *	giving the RFC answer that the library's own answer contradicts
 *	(the library is run too and its answer printed).
 */
#include "am_config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <opendmarc/dmarc.h>

#include "dmarc.h"
#include "dmarc_record.h"
#include "dns.h"
#include "psl.h"
#include "tap.h"

/* not in libopendmarc's public header, exported by the library */
int opendmarc_get_tld(u_char *domain, u_char *tld, size_t tld_len);

static const struct {
    const char *domain, *org, *suffix;
} psl_rows[] = {
    {"example.com", "example.com", "com"},
    {"a.b.example.com", "example.com", "com"},
    {"Sub.EXAMPLE.COM.", "EXAMPLE.COM.", "COM."},
    {"com", "com", "com"},
    {"example.unknowntld", "example.unknowntld", "unknowntld"},
    {"a.b.ck", "a.b.ck", "b.ck"},                    /* wildcard *.ck */
    {"x.a.b.ck", "a.b.ck", "b.ck"},                  /* wildcard *.ck */
    {"b.ck", "b.ck", "b.ck"},                        /* a public suffix itself */
    {"www.ck", "www.ck", "ck"},                      /* exception !www.ck */
    {"foo.www.ck", "www.ck", "ck"},                  /* exception !www.ck */
    {"a.b.example.co.uk", "example.co.uk", "co.uk"}, /* multi-label */
    {"co.uk", "co.uk", "co.uk"},
    {"x.y.bucket.s3.amazonaws.com", "bucket.s3.amazonaws.com", "s3.amazonaws.com"}, /* private */
    {"a.b.c.blogspot.com", "c.blogspot.com", "blogspot.com"},
    {"foo.bar.xn--gmqw5a.xn--j6w193g", "bar.xn--gmqw5a.xn--j6w193g", "xn--gmqw5a.xn--j6w193g"},
    {"a.example.xn--p1ai", "example.xn--p1ai", "xn--p1ai"},
    {"a.b.city.kawasaki.jp", "city.kawasaki.jp", "kawasaki.jp"}, /* exception under wildcard */
    {"a.b.foo.kawasaki.jp", "b.foo.kawasaki.jp", "foo.kawasaki.jp"},
    {"", NULL, NULL},
    {"a..example.com", NULL, NULL},
    {".", NULL, NULL},
};

static const struct {
    const char *in, *want; /* want NULL: -1 */
} ascii_rows[] = {
    {"München.Example", "xn--mnchen-3ya.example"},
    {"個人.香港", "xn--gmqw5a.xn--j6w193g"},
    {"рф.", "xn--p1ai"},
    {"bücher.example", "xn--bcher-kva.example"},
    {"MAIL.Example.COM", "mail.example.com"},
    {"\xff.com", NULL},
    {"a b.com", NULL},
    {"user@example.com", NULL},
    {"a..b", NULL},
};

static const struct {
    const char *txt;
    int rc; /* 0 or -1 */
    char p, sp, np, adkim, aspf;
    int pct, fallback;
} record_rows[] = {
    {"v=DMARC1; p=reject", 0, 'r', 0, 0, 'r', 'r', 100, 0},
    {"v=DMARC1;p=none;sp=reject;np=quarantine;adkim=s;aspf=s;pct=5", 0, 'n', 'r', 'q', 's', 's', 5,
     0},
    {"V = DMARC1 ; P = Quarantine ; ADKIM = S ;", 0, 'q', 0, 0, 's', 'r', 100, 0},
    {"v=DMARC1; p=reject; rua=mailto:a@x.test!10m, mailto:b@y.test; ruf=mailto:f@x.test; "
     "fo=0:1:d:s; "
     "rf=afrf; ri=86400; unknowntag=whatever",
     0, 'r', 0, 0, 'r', 'r', 100, 0},
    {"v=DMARC1; p=reject; pct=0", 0, 'r', 0, 0, 'r', 'r', 0, 0},
    {"v=DMARC1; p=reject; pct=100", 0, 'r', 0, 0, 'r', 'r', 100, 0},
    {"v=DMARC1; rua=mailto:d@x.test", 0, 'n', 'n', 'n', 'r', 'r', 100, 1}, /* 6.6.3 step 6.1 */
    {"v=DMARC1; p=bogus; rua=mailto:d@x.test; pct=20", 0, 'n', 'n', 'n', 'r', 'r', 20, 1},
    {"v=DMARC1; p=reject; np=never; rua=mailto:d@x.test", 0, 'n', 'n', 'n', 'r', 'r', 100, 1},
    {"v=DMARC1; p=reject; sp=bogus", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; adkim=s", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=bogus; rua=nonsense", -1, 0, 0, 0, 0, 0, 0, 0},
    {"foo v=DMARC1; p=reject", -1, 0, 0, 0, 0, 0, 0, 0},
    {"p=reject; v=DMARC1", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=dmarc1; p=reject", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC10; p=reject", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1 p=reject", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=r", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=reject; adkim=st", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=reject; pct=50abc", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=reject; pct=101", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=reject; pct=", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=reject; fo=2", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=reject; ri=soon", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=reject; rua=a@x.test", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=reject; nonsense", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=none; p=reject", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; v=DMARC1; p=reject", -1, 0, 0, 0, 0, 0, 0, 0},
    {"v=DMARC1; p=reject; 9x=1", -1, 0, 0, 0, 0, 0, 0, 0},
};

/* one evaluation row; dkim is "result:d,result:d" */
struct eval_row {
    const char *name, *from;
    int from_status;
    const char *spf, *spf_domain, *dkim;
    unsigned int rnd;
    const char *result, *policy, *disposition, *reason; /* reason: substring or NULL */
};

static const struct eval_row eval_rows[] = {
    /* alignment, relaxed and strict, SPF and DKIM */
    {"relaxed SPF: subdomain MAIL FROM aligns", "reject.test", 0, "pass", "bounce.reject.test", "",
     0, "pass", "reject", "none", "SPF aligned"},
    {"relaxed DKIM: parent d= aligns with subdomain From", "mail.reject.test", 0, "none", NULL,
     "pass:reject.test", 0, "pass", "reject", "none", "DKIM aligned"},
    {"relaxed DKIM: unrelated d= does not align", "reject.test", 0, "fail", "reject.test",
     "pass:other.test", 0, "fail", "reject", "reject", NULL},
    {"failing DKIM signature never aligns", "reject.test", 0, "none", NULL, "fail:reject.test", 0,
     "fail", "reject", "reject", NULL},
    {"strict SPF: subdomain MAIL FROM does not align", "strict.test", 0, "pass",
     "bounce.strict.test", "", 0, "fail", "reject", "reject", NULL},
    {"strict SPF: exact MAIL FROM domain aligns, any case", "strict.test", 0, "pass",
     "STRICT.Test.", "", 0, "pass", "reject", "none", NULL},
    {"strict DKIM: subdomain d= does not align", "strict.test", 0, "none", NULL,
     "pass:mail.strict.test", 0, "fail", "reject", "reject", NULL},
    {"strict DKIM: exact d= aligns", "strict.test", 0, "none", NULL, "fail:x.test,pass:strict.test",
     0, "pass", "reject", "none", "DKIM aligned"},
    {"tags and keywords ignore case (ADKIM=S, P=Reject)", "case.test", 0, "none", NULL,
     "pass:sub.case.test", 0, "fail", "reject", "reject", NULL},
    {"TXT strings concatenate into one record", "split.test", 0, "fail", "split.test", "", 0,
     "fail", "reject", "reject", NULL},
    {"quarantine policy", "quar.test", 0, "softfail", "quar.test", "", 0, "fail", "quarantine",
     "quarantine", NULL},
    {"none policy", "none.test", 0, "fail", "none.test", "", 0, "fail", "none", "none", NULL},
    /* sp= and subdomains */
    {"subdomain gets sp=", "mail.sp.test", 0, "fail", "mail.sp.test", "", 0, "fail", "quarantine",
     "quarantine", NULL},
    {"organizational domain itself gets p=", "sp.test", 0, "fail", "sp.test", "", 0, "fail",
     "reject", "reject", NULL},
    {"record at the subdomain itself wins over sp=", "own.sp.test", 0, "fail", "own.sp.test", "", 0,
     "fail", "none", "none", NULL},
    {"subdomain without sp= gets p=", "deep.er.nosp.test", 0, "fail", "x.test", "", 0, "fail",
     "quarantine", "quarantine", NULL},
    /* np= (RFC 9091) */
    {"np=: NXDOMAIN subdomain gets np=", "ghost.np.test", 0, "none", NULL, "", 0, "fail", "reject",
     "reject", NULL},
    {"np=: NODATA for A, AAAA and MX counts as non-existent", "onlytxt.np.test", 0, "none", NULL,
     "", 0, "fail", "reject", "reject", NULL},
    {"np=: existing subdomain (A) gets sp=", "exists.np.test", 0, "none", NULL, "", 0, "fail",
     "quarantine", "quarantine", NULL},
    {"np=: existing subdomain (MX only) gets sp=", "mxonly.np.test", 0, "none", NULL, "", 0, "fail",
     "quarantine", "quarantine", NULL},
    {"np=: DNS failure deciding existence is temperror", "flaky.npfail.test", 0, "none", NULL, "",
     0, "temperror", "none", "none", "exists"},
    {"np=: unknown existence leaves a pass a pass", "flaky.npfail.test", 0, "pass", "npfail.test",
     "", 0, "pass", "none", "none", NULL},
    /* pct= with the sample on both sides of the threshold */
    {"pct=30, sample 29: reject", "pct.test", 0, "fail", "pct.test", "", 29, "fail", "reject",
     "reject", NULL},
    {"pct=30, sample 30: reject drops to quarantine", "pct.test", 0, "fail", "pct.test", "", 30,
     "fail", "reject", "quarantine", NULL},
    {"pct=30, sample 0: quarantine", "pctq.test", 0, "fail", "pctq.test", "", 0, "fail",
     "quarantine", "quarantine", NULL},
    {"pct=30, sample 99: quarantine drops to none", "pctq.test", 0, "fail", "pctq.test", "", 99,
     "fail", "quarantine", "none", NULL},
    {"pct=100 (default), sample 99: reject", "reject.test", 0, "fail", "reject.test", "", 99,
     "fail", "reject", "reject", NULL},
    {"pct sample taken modulo 100 (130 is 30)", "pct.test", 0, "fail", "pct.test", "", 130, "fail",
     "reject", "quarantine", NULL},
    /* missing and invalid records */
    {"no record anywhere: none", "norecord.test", 0, "pass", "norecord.test", "", 0, "none", "none",
     "none", "no DMARC record"},
    {"record not starting with v=DMARC1 is no record", "foo.test", 0, "fail", "foo.test", "", 0,
     "none", "none", "none", "no DMARC record"},
    {"v=DMARC1 not first: no record", "order.test", 0, "fail", "order.test", "", 0, "none", "none",
     "none", NULL},
    {"p=r (a prefix) is invalid: permerror", "badp.test", 0, "fail", "badp.test", "", 0,
     "permerror", "none", "none", "invalid p="},
    {"invalid p= with valid rua=: acts as p=none", "badprua.test", 0, "fail", "badprua.test", "", 0,
     "fail", "none", "none", NULL},
    {"missing p= with valid rua=: acts as p=none", "nop.test", 0, "fail", "nop.test", "", 0, "fail",
     "none", "none", NULL},
    {"missing p= without rua=: permerror", "nopnorua.test", 0, "fail", "nopnorua.test", "", 0,
     "permerror", "none", "none", "no p="},
    {"invalid sp= with valid rua=: p=none too", "badsp.test", 0, "fail", "badsp.test", "", 0,
     "fail", "none", "none", NULL},
    {"pct=50abc: permerror", "pctjunk.test", 0, "fail", "pctjunk.test", "", 0, "permerror", "none",
     "none", "pct="},
    {"part that is not tag=value: permerror", "junk.test", 0, "fail", "junk.test", "", 0,
     "permerror", "none", "none", "tag=value"},
    {"duplicate p=: permerror", "dup.test", 0, "fail", "dup.test", "", 0, "permerror", "none",
     "none", "duplicate"},
    {"control characters in a record stay out of the reason", "ctl.test", 0, "fail", "ctl.test", "",
     0, "permerror", "none", "none", "invalid p=?bad"},
    {"several records: none", "multi.test", 0, "fail", "multi.test", "", 0, "none", "none", "none",
     "several"},
    {"non-DMARC TXT beside one record is ignored", "mixed.test", 0, "fail", "mixed.test", "", 0,
     "fail", "quarantine", "quarantine", NULL},
    {"SERVFAIL at _dmarc.<from>: temperror", "tempfail.test", 0, "fail", "tempfail.test", "", 0,
     "temperror", "none", "none", "DNS failure"},
    {"SERVFAIL at _dmarc.<org>: temperror", "sub.tempo.test", 0, "fail", "tempo.test", "", 0,
     "temperror", "none", "none", "DNS failure"},
    /* temperror of an aligned identifier */
    {"aligned SPF temperror alone: temperror, no reject", "reject.test", 0, "temperror",
     "reject.test", "", 0, "temperror", "reject", "none", NULL},
    {"aligned DKIM temperror alone: temperror", "reject.test", 0, "fail", "reject.test",
     "temperror:reject.test", 0, "temperror", "reject", "none", NULL},
    {"unaligned SPF temperror: plain fail", "reject.test", 0, "temperror", "other.test", "", 0,
     "fail", "reject", "reject", NULL},
    {"temperror does not hide an aligned pass", "reject.test", 0, "temperror", "reject.test",
     "pass:reject.test", 0, "pass", "reject", "none", NULL},
    {"SPF softfail never aligns (any result string taken)", "reject.test", 0, "softfail",
     "reject.test", "", 0, "fail", "reject", "reject", NULL},
    {"SPF permerror is not temperror", "reject.test", 0, "permerror", "reject.test", "", 0, "fail",
     "reject", "reject", NULL},
    /* From: problems */
    {"no From:", NULL, DMARC_FROM_NONE, "pass", "reject.test", "", 0, "permerror", "none", "none",
     "no From"},
    {"several From: domains", "reject.test", DMARC_FROM_MULTI, "pass", "reject.test", "", 0,
     "permerror", "none", "none", "several domains"},
    {"unparsable From:", NULL, DMARC_FROM_BAD, "pass", "reject.test", "", 0, "permerror", "none",
     "none", "unparsable"},
    {"From domain not a domain name", "exa mple.test", 0, "pass", "reject.test", "", 0, "permerror",
     "none", "none", "not a valid domain"},
    /* public suffix list at work */
    {"*.ck: d=shop.b.ck aligns with mail.shop.b.ck", "mail.shop.b.ck", 0, "none", NULL,
     "pass:shop.b.ck", 0, "pass", "reject", "none", NULL},
    {"*.ck: d=other.b.ck is another organization", "mail.shop.b.ck", 0, "none", NULL,
     "pass:other.b.ck", 0, "fail", "reject", "reject", NULL},
    {"!www.ck: mail.www.ck is a subdomain of www.ck (sp=)", "mail.www.ck", 0, "none", NULL,
     "pass:other.ck", 0, "fail", "quarantine", "quarantine", NULL},
    {"co.uk: d=example.co.uk aligns", "news.example.co.uk", 0, "none", NULL, "pass:example.co.uk",
     0, "pass", "reject", "none", NULL},
    {"co.uk: d=other.co.uk does not align", "news.example.co.uk", 0, "fail", "news.example.co.uk",
     "pass:other.co.uk", 0, "fail", "reject", "reject", NULL},
    {"s3.amazonaws.com: another bucket does not align", "a.bucket.s3.amazonaws.com", 0, "pass",
     "bucket2.s3.amazonaws.com", "", 0, "fail", "quarantine", "quarantine", NULL},
    {"s3.amazonaws.com: same bucket aligns", "a.bucket.s3.amazonaws.com", 0, "pass",
     "x.bucket.s3.amazonaws.com", "", 0, "pass", "quarantine", "none", NULL},
    {"IDN A-labels: 個人.香港 is a suffix", "mail.bar.xn--gmqw5a.xn--j6w193g", 0, "none", NULL,
     "pass:baz.xn--gmqw5a.xn--j6w193g", 0, "fail", "reject", "reject", NULL},
    {"IDN U-label From: normalized to A-labels", "mail.bar.個人.香港", 0, "none", NULL,
     "pass:bar.xn--gmqw5a.xn--j6w193g", 0, "pass", "reject", "none", NULL},
    /* libopendmarc pitfalls (see the library rows below) */
    {"BUG strict-subdomain: adkim=s, d=sub of From", "example.net", 0, "none", NULL,
     "pass:sub.example.net", 0, "fail", "reject", "reject", NULL},
    {"BUG spf-tempfail-reject: SPF temperror alone", "reject.test", 0, "temperror", "reject.test",
     "", 0, "temperror", "reject", "none", NULL},
    {"BUG foo-v=DMARC1: not a record", "foo.test", 0, "fail", "foo.test", "", 0, "none", "none",
     "none", NULL},
    {"BUG fetch-ruf-NULL: ruf= record evaluates", "ruf.test", 0, "fail", "ruf.test", "", 0, "fail",
     "reject", "reject", NULL},
    {"BUG pct-ignored: pct=0 never rejects", "pct0.test", 0, "fail", "pct0.test", "", 0, "fail",
     "reject", "quarantine", NULL},
    {"BUG store_dmarc-from: subdomain stays the From domain", "mail.strictsub.test", 0, "none",
     NULL, "pass:strictsub.test", 0, "fail", "reject", "reject", NULL},
    {"BUG store_spf-results: softfail is a defined input", "quar.test", 0, "softfail", "quar.test",
     "", 0, "fail", "quarantine", "quarantine", NULL},
};

/* run_eval - evaluate one row */
static void run_eval(struct dmarc_ctx *ctx, struct dns_resolver *dns, const struct eval_row *row,
                     struct dmarc_outcome *out)
{
    struct dmarc_dkim dkim[8];
    char buf[512], *save = NULL, *item, *colon;
    struct dmarc_input in;
    size_t n = 0;

    memset(&in, 0, sizeof(in));
    snprintf(buf, sizeof(buf), "%s", row->dkim);
    for (item = strtok_r(buf, ",", &save); item && n < 8; item = strtok_r(NULL, ",", &save)) {
        colon = strchr(item, ':');
        *colon = 0;
        dkim[n].result = item;
        dkim[n++].d = colon + 1;
    }
    in.from_domain = row->from;
    in.from_status = row->from_status;
    in.spf_result = row->spf;
    in.spf_domain = row->spf_domain;
    in.ndkim = n;
    in.dkim = dkim;
    in.dns = dns;
    in.random_percent = row->rnd;
    tap_is_int(dmarc_evaluate(ctx, &in, out), 0, "%s: returns 0", row->name);
}

/* test_eval - the evaluation table */
static void test_eval(struct dmarc_ctx *ctx, struct dns_resolver *dns)
{
    struct dmarc_outcome out;
    size_t i, j;
    int ok;

    for (i = 0; i < sizeof(eval_rows) / sizeof(eval_rows[0]); i++) {
        const struct eval_row *row = &eval_rows[i];

        run_eval(ctx, dns, row, &out);
        ok = strcmp(out.result, row->result) == 0;
        tap_is_str(out.result, row->result, "%s: result", row->name);
        tap_is_str(out.policy, row->policy, "%s: policy", row->name);
        tap_is_str(out.disposition, row->disposition, "%s: disposition", row->name);
        if (row->reason)
            tap_ok(out.reason && strstr(out.reason, row->reason), "%s: reason \"%s\" has \"%s\"",
                   row->name, out.reason ? out.reason : "(null)", row->reason);
        for (j = 0; out.reason && out.reason[j]; j++)
            if ((unsigned char)out.reason[j] < 0x20)
                break;
        tap_ok(out.reason && out.reason[j] == 0, "%s: reason set, no control characters",
               row->name);
        if (!ok)
            for (j = 0; j < out.ntrace; j++)
                tap_diag("  trace: %s", out.trace[j]);
        dmarc_outcome_clear(&out);
    }
}

/* test_no_resolver - a missing resolver is a temperror, not a crash */
static void test_no_resolver(struct dmarc_ctx *ctx)
{
    struct dmarc_input in = {0};
    struct dmarc_outcome out;

    in.from_domain = "reject.test";
    tap_is_int(dmarc_evaluate(ctx, &in, &out), 0, "no resolver: returns 0");
    tap_is_str(out.result, "temperror", "no resolver: temperror");
    tap_is_str(out.disposition, "none", "no resolver: disposition none");
    dmarc_outcome_clear(&out);
    tap_ok(out.reason == NULL && out.trace == NULL, "outcome_clear empties the outcome");
}

/* test_psl - public suffix rows, A-label conversion, load errors */
static void test_psl(struct dmarc_ctx *ctx, const char *top)
{
    char path[1024], buf[300], *err = NULL;
    struct psl *psl;
    const char *got;
    size_t i;
    FILE *fp;

    psl = psl_load(NULL, &err);
    tap_ok(psl != NULL && psl_count(psl) > 5000, "Debian list loads (%zu names)",
           psl ? psl_count(psl) : 0);
    for (i = 0; psl && i < sizeof(psl_rows) / sizeof(psl_rows[0]); i++) {
        got = psl_org_domain(psl, psl_rows[i].domain);
        tap_is_str(got, psl_rows[i].org, "org domain of \"%s\"", psl_rows[i].domain);
        got = psl_public_suffix(psl, psl_rows[i].domain);
        tap_is_str(got, psl_rows[i].suffix, "public suffix of \"%s\"", psl_rows[i].domain);
    }
    tap_is_str(dmarc_org_domain(ctx, "a.b.example.co.uk"), "example.co.uk", "dmarc_org_domain");
    psl_free(&psl);
    tap_ok(psl == NULL, "psl_free clears the pointer");
    for (i = 0; i < sizeof(ascii_rows) / sizeof(ascii_rows[0]); i++) {
        int rc = psl_domain_to_ascii(ascii_rows[i].in, buf, sizeof(buf));

        tap_is_str(rc == 0 ? buf : NULL, ascii_rows[i].want, "A-label form of \"%s\"",
                   ascii_rows[i].in);
    }
    memset(buf, 'a', 254);
    buf[63] = buf[127] = buf[191] = '.';
    buf[254] = 0;
    tap_ok(psl_domain_to_ascii(buf, path, sizeof(path)) < 0, "254-byte name refused");
    psl = psl_load("/nonexistent/psl.dat", &err);
    tap_ok(psl == NULL && err && strstr(err, "/nonexistent/psl.dat"), "missing list: %s", err);
    free(err);
    snprintf(path, sizeof(path), "%s/t/data/dmarc/empty-psl.dat", top);
    psl = psl_load(path, &err);
    tap_ok(psl == NULL && err && strstr(err, "no rules"), "list without rules: %s", err);
    free(err);
    snprintf(path, sizeof(path), "/tmp/test-dmarc-psl.%ld", (long)getpid());
    if ((fp = fopen(path, "w")) != NULL) {
        fputs("// tiny list\nexample\n*.wild.example\n!keep.wild.example\n\xff\xfe\n", fp);
        fclose(fp);
    }
    psl = psl_load(path, &err);
    tap_ok(psl != NULL, "own list loads (bad UTF-8 rule skipped)");
    tap_is_str(psl ? psl_org_domain(psl, "a.b.x.wild.example") : NULL, "b.x.wild.example",
               "own list: wildcard");
    tap_is_str(psl ? psl_org_domain(psl, "a.keep.wild.example") : NULL, "keep.wild.example",
               "own list: exception");
    tap_is_str(psl ? psl_org_domain(psl, "a.b.example") : NULL, "b.example", "own list: normal");
    psl_free(&psl);
    unlink(path);
}

/* test_records - record syntax rows */
static void test_records(void)
{
    struct dmarc_record rec;
    char why[200];
    size_t i;
    int rc;

    for (i = 0; i < sizeof(record_rows) / sizeof(record_rows[0]); i++) {
        why[0] = 0;
        rc = dmarc_record_parse(record_rows[i].txt, strlen(record_rows[i].txt), &rec, why,
                                sizeof(why));
        tap_is_int(rc, record_rows[i].rc, "record \"%s\" (%s)", record_rows[i].txt, why);
        if (rc != 0 || record_rows[i].rc != 0)
            continue;
        tap_ok(rec.p == record_rows[i].p && rec.sp == record_rows[i].sp &&
                   rec.np == record_rows[i].np && rec.adkim == record_rows[i].adkim &&
                   rec.aspf == record_rows[i].aspf && rec.pct == record_rows[i].pct &&
                   rec.fallback == record_rows[i].fallback,
               "record \"%s\": p=%c sp=%c np=%c adkim=%c aspf=%c pct=%d fallback=%d",
               record_rows[i].txt, rec.p ? rec.p : '-', rec.sp ? rec.sp : '-',
               rec.np ? rec.np : '-', rec.adkim, rec.aspf, rec.pct, rec.fallback);
    }
    {
        char big[DMARC_MAX_RECORD + 64];

        memset(big, ' ', sizeof(big));
        memcpy(big, "v=DMARC1; p=reject;", 19);
        big[sizeof(big) - 1] = 0;
        tap_is_int(dmarc_record_parse(big, strlen(big), &rec, why, sizeof(why)), -1,
                   "record over %d bytes refused (%s)", DMARC_MAX_RECORD, why);
        tap_is_int(dmarc_record_parse("v=DMARC1; p=reject\0x", 20, &rec, why, sizeof(why)), -1,
                   "record with a NUL byte refused (%s)", why);
    }
}

/* pitfall - one libopendmarc pitfall row: our RFC answer vs the library's */
static void pitfall(const char *bug, int library_wrong, const char *ours, const char *library)
{
    if (library_wrong)
        tap_ok(1, "libopendmarc %s: RFC answer %s, library says %s", bug, ours, library);
    else
        tap_ok(1, "libopendmarc %s # SKIP library now answers %s", bug, library);
}

/* lib_enforce - libopendmarc's own decision for one message */
static int lib_enforce(const char *from, const char *record, const char *spf_domain, int spf,
                       const char *d, int dkim)
{
    DMARC_POLICY_T *pctx = opendmarc_policy_connect_init((u_char *)"192.0.2.1", 0);
    int rc;

    if (pctx == NULL)
        return -1;
    opendmarc_policy_store_from_domain(pctx, (u_char *)from);
    opendmarc_policy_parse_dmarc(pctx, (u_char *)from, (u_char *)record);
    if (spf_domain)
        opendmarc_policy_store_spf(pctx, (u_char *)spf_domain, spf,
                                   DMARC_POLICY_SPF_ORIGIN_MAILFROM, NULL);
    if (d)
        opendmarc_policy_store_dkim(pctx, (u_char *)d, (u_char *)"sel", dkim, NULL);
    rc = opendmarc_get_policy_to_enforce(pctx);
    opendmarc_policy_connect_shutdown(pctx);
    return rc;
}

/* lib_tld - libopendmarc's organizational domain */
static const char *lib_tld(const char *domain, char *buf, size_t size)
{
    buf[0] = 0;
    opendmarc_get_tld((u_char *)domain, (u_char *)buf, size);
    return buf;
}

/* lib_ruf_null_crashes - does fetch_ruf(pctx, NULL, 64, 1) kill a child */
static int lib_ruf_null_crashes(void)
{
    DMARC_POLICY_T *pctx;
    int status;
    pid_t pid;

    fflush(stdout);
    if ((pid = fork()) == 0) {
        struct rlimit nocore = {0, 0};

        setrlimit(RLIMIT_CORE, &nocore); /* the crash is expected: no core file */
        pctx = opendmarc_policy_connect_init((u_char *)"192.0.2.1", 0);
        opendmarc_policy_store_from_domain(pctx, (u_char *)"ruf.test");
        opendmarc_policy_parse_dmarc(pctx, (u_char *)"ruf.test",
                                     (u_char *)"v=DMARC1; p=reject; ruf=mailto:f@ruf.test");
        opendmarc_policy_fetch_ruf(pctx, NULL, 64, 1);
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return 0;
    return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* test_library_pitfalls - the RFC answer where libopendmarc's differs */
static void test_library_pitfalls(struct dmarc_ctx *ctx)
{
    DMARC_POLICY_T *pctx;
    struct dmarc_record rec;
    char buf[256], why[200];
    int rc, p = 0;

    tap_is_int(opendmarc_tld_read_file(PSL_DEFAULT_PATH, "//", "*.", "!"), 0,
               "libopendmarc loads the list too");
    rc = lib_enforce("example.net", "v=DMARC1; p=reject; adkim=s", NULL, 0, "sub.example.net",
                     DMARC_POLICY_DKIM_OUTCOME_PASS);
    pitfall("strict DKIM alignment passes d=sub.example.net for example.net",
            rc == DMARC_POLICY_PASS, "fail", opendmarc_policy_status_to_str(rc));
    rc = lib_enforce("reject.test", "v=DMARC1; p=reject", "reject.test",
                     DMARC_POLICY_SPF_OUTCOME_TMPFAIL, NULL, 0);
    pitfall("SPF tempfail alone", rc == DMARC_POLICY_REJECT, "temperror",
            opendmarc_policy_status_to_str(rc));
    rc = lib_enforce("pct0.test", "v=DMARC1; p=reject; pct=0", "pct0.test",
                     DMARC_POLICY_SPF_OUTCOME_FAIL, NULL, 0);
    pitfall("pct=0 ignored", rc == DMARC_POLICY_REJECT, "quarantine",
            opendmarc_policy_status_to_str(rc));
    pitfall("fetch_ruf(pctx, NULL, 64) crashes", lib_ruf_null_crashes(), "never called", "SIGSEGV");
    if ((pctx = opendmarc_policy_connect_init((u_char *)"192.0.2.1", 0)) != NULL) {
        rc = opendmarc_policy_parse_dmarc(pctx, (u_char *)"foo.test",
                                          (u_char *)"foo v=DMARC1; p=reject");
        opendmarc_policy_fetch_p(pctx, &p);
        pitfall("\"foo v=DMARC1; p=reject\" parses",
                rc == DMARC_PARSE_OKAY && p == DMARC_RECORD_P_REJECT, "no record", "p=reject");
        tap_is_int(dmarc_record_is_dmarc("foo v=DMARC1; p=reject", 22), 0,
                   "ours: \"foo v=DMARC1\" is no DMARC record");
        rc = opendmarc_policy_parse_dmarc(pctx, (u_char *)"x.test", (u_char *)"v=DMARC1; p=r");
        pitfall("\"p=r\" is reject", rc == DMARC_PARSE_OKAY, "permerror", "p=reject");
        tap_is_int(dmarc_record_parse("v=DMARC1; p=r", 13, &rec, why, sizeof(why)), -1,
                   "ours: p=r is invalid (%s)", why);
        opendmarc_policy_connect_shutdown(pctx);
    }
    if ((pctx = opendmarc_policy_connect_init((u_char *)"192.0.2.1", 0)) != NULL) {
        opendmarc_policy_store_from_domain(pctx, (u_char *)"mail.strictsub.test");
        opendmarc_policy_store_dmarc(pctx, (u_char *)"v=DMARC1; p=reject; adkim=s",
                                     (u_char *)"strictsub.test", (u_char *)"strictsub.test");
        buf[0] = 0;
        opendmarc_policy_fetch_from_domain(pctx, (u_char *)buf, sizeof(buf));
        opendmarc_policy_store_dkim(pctx, (u_char *)"strictsub.test", (u_char *)"sel",
                                    DMARC_POLICY_DKIM_OUTCOME_PASS, NULL);
        rc = opendmarc_get_policy_to_enforce(pctx);
        pitfall("store_dmarc overwrites the From domain",
                strcmp(buf, "strictsub.test") == 0 && rc == DMARC_POLICY_PASS,
                "mail.strictsub.test, fail", buf);
        rc = opendmarc_policy_store_spf(pctx, (u_char *)"quar.test", 4,
                                        DMARC_POLICY_SPF_ORIGIN_MAILFROM, NULL);
        pitfall("store_spf refuses results beyond none/pass/fail/tempfail", rc != DMARC_PARSE_OKAY,
                "softfail taken", opendmarc_policy_status_to_str(rc));
        opendmarc_policy_connect_shutdown(pctx);
    }
    pitfall("wildcard *.ck", strcmp(lib_tld("mail.shop.b.ck", buf, sizeof(buf)), "shop.b.ck") != 0,
            dmarc_org_domain(ctx, "mail.shop.b.ck"), buf);
    pitfall("multi-label IDN rule 個人.香港",
            strcmp(lib_tld("foo.bar.xn--gmqw5a.xn--j6w193g", buf, sizeof(buf)),
                   "bar.xn--gmqw5a.xn--j6w193g") != 0,
            dmarc_org_domain(ctx, "foo.bar.xn--gmqw5a.xn--j6w193g"), buf);
    lib_tld("Sub.EXAMPLE.COM", buf, sizeof(buf));
    pitfall("upper-case domain", strcmp(buf, "EXAMPLE.COM") != 0,
            dmarc_org_domain(ctx, "Sub.EXAMPLE.COM"), buf[0] ? buf : "(empty)");
    opendmarc_tld_shutdown();
}

int main(void)
{
    char zone[1024], *err = NULL, *top = getenv("top_srcdir");
    static const char *const ns[] = {"127.0.0.1@9", NULL};
    struct dns_options opt = {0};
    struct dns_resolver *dns;
    struct dmarc_ctx *ctx;

    if (top == NULL)
        top = AM_TOP_SRCDIR;
    ctx = dmarc_open(NULL, &err);
    tap_ok(ctx != NULL, "dmarc_open (%s)", err ? err : "ok");
    if (ctx == NULL)
        return tap_done();
    test_psl(ctx, top);
    test_records();
    snprintf(zone, sizeof(zone), "%s/t/data/dmarc/dmarc.zone", top);
    opt.zone_file = zone;
    opt.nameservers = ns;
    opt.timeout_ms = 2000;
    dns = dns_resolver_new(&opt, &err);
    tap_ok(dns != NULL, "zone loads (%s)", err ? err : "ok");
    if (dns != NULL) {
        test_eval(ctx, dns);
        test_no_resolver(ctx);
        test_library_pitfalls(ctx);
        dns_resolver_free(&dns);
    }
    dmarc_close(&ctx);
    tap_ok(ctx == NULL, "dmarc_close clears the pointer");
    return tap_done();
}
