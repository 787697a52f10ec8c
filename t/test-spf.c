/*
 * NAME
 *	test-spf - unit tests of spf_check() over a DNSZoneFile
 * DESCRIPTION
 *	Table-driven: each row is one check against t/data/dns/spf.zone,
 *	through the same code path as production (no network).
 */
#include "am_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "spf.h"
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
    /* known gap: libspf2's exp= text expansion (see milter/spf.c) */
    tap_ok(out.explanation && strcmp(out.explanation, "no mail from this host") == 0,
           "explanation from exp= (got \"%s\") # TODO libspf2 mangles exp text",
           out.explanation ? out.explanation : "NULL");
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
    return tap_done();
}
