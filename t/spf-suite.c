/*
 * NAME
 *	spf-suite - run the RFC 7208 test suite through spf_check()
 * SYNOPSIS
 *	t/spf-suite DIR
 * DESCRIPTION
 *	DIR holds NN.zone / NN.cases pairs written by t/spf-suite-zones.py.
 *	Each scenario's zone is loaded with dns_resolver_new() as a
 *	DNSZoneFile and each case goes through spf_check(), the production
 *	code path.  One TAP line per case (name, expected, got), then
 *	"# SPF suite: N/TOTAL".  A case lists one or more acceptable results;
 *	an expected explanation must match exactly ("DEFAULT": none of ours),
 *	and no result but "fail" may carry one.  SPF_SUITE_TRACE=name
 *	prints that case's trace.
 */
#include "am_config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "spf.h"
#include "tap.h"

#define NFIELDS 6

/* unescape - a cases-file field: %XX bytes, %E empty */
static void unescape(char *s)
{
    char *o = s;

    if (strcmp(s, "%E") == 0) {
        *s = '\0';
        return;
    }
    for (; *s; s++) {
        if (s[0] == '%' && s[1] && s[2]) {
            char hex[3] = {s[1], s[2], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

/* result_ok - is got among the comma-separated expected results? */
static int result_ok(const char *expected, const char *got)
{
    char buf[256], *tok, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", expected);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (strcmp(tok, got) == 0)
            return 1;
    return 0;
}

/* run_case - one line of a cases file */
static int run_case(struct dns_resolver *dns, const char *scenario, char *line)
{
    char *f[NFIELDS], *save = NULL, *tr = getenv("SPF_SUITE_TRACE");
    struct spf_request req;
    struct spf_outcome out;
    const char *got, *want_expl;
    int i, ok;
    size_t k;

    line[strcspn(line, "\n")] = '\0';
    for (i = 0; i < NFIELDS; i++)
        if ((f[i] = strtok_r(i ? NULL : line, "\t", &save)) == NULL)
            return 0;
    for (i = 0; i < NFIELDS; i++)
        if (i != 5 || strcmp(f[5], "-") != 0)
            unescape(f[i]);
    memset(&req, 0, sizeof(req));
    req.helo = f[1];
    req.client_ip = f[2];
    req.mail_from = f[3];
    req.receiver = "receivingdomain.com";
    req.trace = tr && strcmp(tr, f[0]) == 0;
    spf_check(dns, &req, &out);
    got = spf_result_name(out.result);
    want_expl = strcmp(f[5], "-") == 0 ? NULL : f[5];
    /* "DEFAULT": the receiver's own text, i.e. no exp= explanation from us */
    /* an explanation only ever comes with "fail" (RFC 7208 6.2) */
    ok = result_ok(f[4], got) && (out.result == SPF_RES_FAIL || out.explanation == NULL) &&
         (want_expl == NULL || out.result != SPF_RES_FAIL ||
          (strcmp(want_expl, "DEFAULT") == 0
               ? out.explanation == NULL
               : out.explanation && strcmp(out.explanation, want_expl) == 0));
    tap_ok(ok, "%s/%s: expected %s%s%s, got %s%s%s%s%s", scenario, f[0], f[4],
           want_expl ? " exp=" : "", want_expl ? want_expl : "", got,
           out.explanation ? " exp=" : "", out.explanation ? out.explanation : "",
           out.problem ? " # " : "", out.problem ? out.problem : "");
    for (k = 0; k < out.ntrace; k++)
        tap_diag("  %s", out.trace[k]);
    spf_outcome_clear(&out);
    return ok;
}

/* run_scenario - load NN.zone, run NN.cases */
static void run_scenario(const char *dir, const char *nn, int *pass, int *total)
{
    char zone[1024], cases[1024], line[8192], *err = NULL;
    static const char *const ns[] = {"127.0.0.1@9", NULL};
    struct dns_options opt;
    struct dns_resolver *dns;
    FILE *fp;

    snprintf(zone, sizeof(zone), "%s/%s.zone", dir, nn);
    snprintf(cases, sizeof(cases), "%s/%s.cases", dir, nn);
    memset(&opt, 0, sizeof(opt));
    opt.zone_file = zone;
    opt.nameservers = ns;
    opt.timeout_ms = 2000;
    if ((dns = dns_resolver_new(&opt, &err)) == NULL) {
        tap_ok(0, "scenario %s: zone file: %s", nn, err ? err : "?");
        free(err);
        return;
    }
    if ((fp = fopen(cases, "r")) == NULL) {
        tap_ok(0, "scenario %s: cannot open %s", nn, cases);
    } else {
        while (fgets(line, sizeof(line), fp)) {
            (*total)++;
            *pass += run_case(dns, nn, line);
        }
        fclose(fp);
    }
    dns_resolver_free(&dns);
}

int main(int argc, char **argv)
{
    struct dirent **ents;
    int n, i, pass = 0, total = 0;
    char nn[64];

    if (argc != 2) {
        fprintf(stderr, "usage: spf-suite DIR\n");
        return 2;
    }
    if ((n = scandir(argv[1], &ents, NULL, alphasort)) < 0) {
        perror(argv[1]);
        return 2;
    }
    for (i = 0; i < n; i++) {
        size_t len = strlen(ents[i]->d_name);
        if (len > 5 && len < sizeof(nn) && strcmp(ents[i]->d_name + len - 5, ".zone") == 0) {
            snprintf(nn, sizeof(nn), "%.*s", (int)(len - 5), ents[i]->d_name);
            run_scenario(argv[1], nn, &pass, &total);
        }
        free(ents[i]);
    }
    free(ents);
    printf("# SPF suite: %d/%d\n", pass, total);
    return tap_done();
}
