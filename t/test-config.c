/*
 * NAME
 *	test-config - table-driven tests of the configuration parser
 * DESCRIPTION
 *	Each row is a configuration file text and either the error the loader
 *	must give (after the "file:" prefix) or a check of the parsed values.
 *	Also: every key of the table is documented in the sample file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test-config.XXXXXX";

/* write_file - put text in a file under tmpdir, return its path */
static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) < 0 || fclose(fp) != 0)
        abort();
    return path;
}

struct error_row {
    const char *text;
    const char *error; /* expected after "path:" */
};

static const struct error_row error_rows[] = {
    {"Bogus yes\n", "1: unknown key \"Bogus\""},
    {"# comment\n\nSocket\n", "3: Socket: missing value"},
    {"Socket inet:1@127.0.0.1\nSocket inet:2@127.0.0.1\n", "2: Socket: given twice"},
    {"Socket inet:0@127.0.0.1\n", "1: Socket: bad port in inet socket (inet:PORT@HOST): "
                                  "\"inet:0@127.0.0.1\""},
    {"Socket inet:99999\n", "1: Socket: bad port in inet socket (inet:PORT@HOST): \"inet:99999\""},
    {"Socket unix:relative.sock\n",
     "1: Socket: unix socket path must be absolute: \"unix:relative.sock\""},
    {"Socket tcp:25\n", "1: Socket: socket must be inet:PORT@HOST, inet6:PORT@HOST or "
                        "unix:/PATH: \"tcp:25\""},
    {"UserID no-such-user-xyz\n", "1: UserID: unknown user: \"no-such-user-xyz\""},
    {"UserID root:no-such-group-xyz\n", "1: UserID: unknown group: \"root:no-such-group-xyz\""},
    {"UMask 999\n", "1: UMask: must be an octal mode such as 007: \"999\""},
    {"UMask 1777\n", "1: UMask: must be an octal mode such as 007: \"1777\""},
    {"AuthservID mx example\n",
     "1: AuthservID: must be a host name (a dot-atom of token characters): \"mx example\""},
    {"AuthservID mx;evil\n",
     "1: AuthservID: must be a host name (a dot-atom of token characters): \"mx;evil\""},
    {"AuthservID a..b\n",
     "1: AuthservID: must be a host name (a dot-atom of token characters): \"a..b\""},
    {"AuthservID mx.example.org.\n",
     "1: AuthservID: must be a host name (a dot-atom of token characters): \"mx.example.org.\""},
    {"HeaderFromCheck maybe\n", "1: HeaderFromCheck: must be yes or no: \"maybe\""},
    {"SenderHeaderCheck 2\n", "1: SenderHeaderCheck: must be yes or no: \"2\""},
    {"SenderLoginLocalpart perhaps\n", "1: SenderLoginLocalpart: must be yes or no: \"perhaps\""},
    {"RequireSafeKeys x\n", "1: RequireSafeKeys: must be yes or no: \"x\""},
    {"NullSenderLogin drop\n", "1: NullSenderLogin: not one of the allowed values: \"drop\""},
    {"DMARCEnforcement strict\n", "1: DMARCEnforcement: not one of the allowed values: \"strict\""},
    {"On-DNSError ignore\n", "1: On-DNSError: not one of the allowed values: \"ignore\""},
    {"DNSTimeout 0\n", "1: DNSTimeout: number out of range: \"0\""},
    {"DNSTimeout 5s\n", "1: DNSTimeout: must be a whole number: \"5s\""},
    {"SignatureTTL -1\n", "1: SignatureTTL: number out of range: \"-1\""},
    {"MaximumSignaturesToVerify 1000\n",
     "1: MaximumSignaturesToVerify: number out of range: \"1000\""},
    {"Canonicalization loose\n", "1: Canonicalization: must be simple or relaxed, optionally "
                                 "header/body (e.g. relaxed/simple): \"loose\""},
};

/* test_errors - every error row gives its exact message */
static void test_errors(void)
{
    size_t i;

    for (i = 0; i < sizeof(error_rows) / sizeof(error_rows[0]); i++) {
        const char *path = write_file("err.conf", error_rows[i].text);
        char *error = NULL, want[1024];
        struct config *cfg = config_load(path, &error);

        snprintf(want, sizeof(want), "%s:%s", path, error_rows[i].error);
        tap_ok(cfg == NULL, "row %zu refused", i);
        tap_is_str(error, want, "row %zu error text", i);
        config_unref(&cfg);
        free(error);
    }
}

/* test_defaults - no file: every default */
static void test_defaults(void)
{
    char *error = NULL;
    struct config *cfg = config_load(NULL, &error);

    tap_ok(cfg != NULL, "defaults load");
    if (cfg == NULL)
        return;
    tap_is_str(cfg->socket, "inet:8891@127.0.0.1", "default Socket");
    tap_is_int(cfg->umask, 07, "default UMask");
    tap_ok(config_list_has(cfg->submission_daemons, "ORIGINATING"), "default SubmissionDaemons");
    tap_ok(config_list_has(cfg->submission_daemons, "originating"), "daemon names fold case");
    tap_ok(!config_list_has(cfg->submission_daemons, "smtpd"), "inbound is not submission");
    tap_ok(cfg->header_from_check && cfg->sender_header_check, "header checks on by default");
    tap_is_str(cfg->recipient_delimiter, "+", "default RecipientDelimiter");
    tap_ok(!cfg->sender_login_localpart, "bare local part off by default");
    tap_is_int(cfg->null_sender_login, NULLSENDER_ACCEPT, "default NullSenderLogin");
    tap_is_str(cfg->canonicalization, "relaxed/relaxed", "default Canonicalization");
    tap_ok(config_list_has(cfg->oversign_headers, "From"), "default OversignHeaders");
    tap_is_int(cfg->dns_timeout, 5, "default DNSTimeout");
    tap_is_int(cfg->dmarc_enforcement, DMARC_ENFORCE_REPORT, "default DMARCEnforcement");
    tap_is_int(cfg->on_dns_error, ON_DNSERROR_TEMPFAIL, "default On-DNSError");
    tap_ok(cfg->require_safe_keys, "keys must be safe by default");
    tap_ok(cfg->authserv_id == NULL, "AuthservID defaults to macro j / hostname");
    config_unref(&cfg);
    tap_ok(cfg == NULL, "unref clears the pointer");
}

/* test_values - every key parsed into its field */
static void test_values(void)
{
    const char *map = write_file("logins", "alice@example.com alice\n");
    char text[2048], *error = NULL;
    struct config *cfg, *ref;
    const char *path;

    snprintf(text, sizeof(text),
             "# every key\n"
             "socket   unix:/run/authmilter/authmilter.sock  \n"
             "UserID root:root\nUMask 002\r\nPidFile /run/authmilter.pid\n"
             "AuthservID mx.example.com\nSyslogFacility local3\n"
             "SubmissionDaemons ORIGINATING, MSA  submission\n"
             "SenderLoginMap %s\nHeaderFromCheck no\nSenderHeaderCheck false\n"
             "RecipientDelimiter +-\nSenderLoginLocalpart yes\nNullSenderLogin reject\n"
             "OversignHeaders From,To\nSignHeaders From Subject\n"
             "Canonicalization simple/relaxed\nSignatureTTL 86400\nRequireSafeKeys no\n"
             "Nameservers 127.0.0.1@5353 ::1\nTrustAnchorFile /x/root.key\nDNSTimeout 7\n"
             "DMARCEnforcement reject\nOn-DNSError accept\nMaximumSignaturesToVerify 9\n",
             map);
    path = write_file("all.conf", text);
    cfg = config_load(path, &error);
    tap_ok(cfg != NULL, "all keys load");
    if (cfg == NULL) {
        tap_diag("%s", error);
        free(error);
        return;
    }
    tap_is_str(cfg->socket, "unix:/run/authmilter/authmilter.sock", "Socket, names fold case");
    tap_is_str(cfg->user_id, "root:root", "UserID");
    tap_is_int(cfg->umask, 02, "UMask, CRLF line");
    tap_is_str(cfg->pid_file, "/run/authmilter.pid", "PidFile");
    tap_is_str(cfg->authserv_id, "mx.example.com", "AuthservID");
    tap_is_str(cfg->syslog_facility, "local3", "SyslogFacility");
    tap_ok(config_list_has(cfg->submission_daemons, "MSA") &&
               config_list_has(cfg->submission_daemons, "submission") &&
               !config_list_has(cfg->submission_daemons, "smtpd"),
           "SubmissionDaemons list with commas and spaces");
    tap_ok(cfg->sender_login_map != NULL, "SenderLoginMap loaded");
    tap_ok(!cfg->header_from_check && !cfg->sender_header_check, "header checks off");
    tap_is_str(cfg->recipient_delimiter, "+-", "RecipientDelimiter");
    tap_ok(cfg->sender_login_localpart, "SenderLoginLocalpart");
    tap_is_int(cfg->null_sender_login, NULLSENDER_REJECT, "NullSenderLogin");
    tap_ok(config_list_has(cfg->oversign_headers, "To"), "OversignHeaders");
    tap_ok(config_list_has(cfg->sign_headers, "Subject"), "SignHeaders");
    tap_is_str(cfg->canonicalization, "simple/relaxed", "Canonicalization");
    tap_is_int(cfg->signature_ttl, 86400, "SignatureTTL");
    tap_ok(!cfg->require_safe_keys, "RequireSafeKeys");
    tap_ok(config_list_has(cfg->nameservers, "127.0.0.1@5353"), "Nameservers");
    tap_is_str(cfg->trust_anchor_file, "/x/root.key", "TrustAnchorFile");
    tap_is_int(cfg->dns_timeout, 7, "DNSTimeout");
    tap_is_int(cfg->dmarc_enforcement, DMARC_ENFORCE_REJECT, "DMARCEnforcement");
    tap_is_int(cfg->on_dns_error, ON_DNSERROR_ACCEPT, "On-DNSError");
    tap_is_int(cfg->max_signatures_verify, 9, "MaximumSignaturesToVerify");

    /* snapshots: install, take, drop */
    config_install(cfg);
    ref = config_current();
    tap_ok(ref == cfg, "config_current returns the installed snapshot");
    tap_is_int(cfg->refcount, 2, "a reader holds a reference");
    config_install(NULL);
    tap_is_int(ref->refcount, 1, "reload leaves readers their snapshot");
    config_unref(&ref);
}

/* test_files - errors of the files the keys name */
static void test_files(void)
{
    char *error = NULL, text[512], want[600];
    struct config *cfg;
    const char *path;

    cfg = config_load("/nonexistent/authmilter.conf", &error);
    tap_ok(cfg == NULL && error && strstr(error, "/nonexistent/authmilter.conf:0: cannot open"),
           "missing config file named");
    free(error);
    snprintf(text, sizeof(text), "SenderLoginMap %s/no-such-map\n", tmpdir);
    path = write_file("map.conf", text);
    cfg = config_load(path, &error);
    snprintf(want, sizeof(want), "%s/no-such-map", tmpdir);
    tap_ok(cfg == NULL && error && strncmp(error, want, strlen(want)) == 0,
           "a missing SenderLoginMap is an error naming the map");
    free(error);
    memset(text, 'x', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    {
        char *big = malloc(8192);

        memset(big, 'a', 8191);
        big[8191] = '\0';
        memcpy(big, "Socket ", 7);
        path = write_file("long.conf", big);
        free(big);
    }
    cfg = config_load(path, &error);
    tap_ok(cfg == NULL && error && strstr(error, ":1: line too long"), "overlong line refused");
    free(error);
}

/* test_sample - the sample documents every key */
static void test_sample(void)
{
    char path[1024], cmd[1200];
    FILE *keys;
    char line[512];
    int missing = 0, n = 0;

    snprintf(path, sizeof(path), "%s/contrib/authmilter.conf.sample",
             getenv("top_srcdir") ? getenv("top_srcdir") : ".");
    keys = tmpfile();
    config_print_keys(keys);
    rewind(keys);
    while (fgets(line, sizeof(line), keys)) {
        char name[64];

        if (sscanf(line, "%63s", name) != 1)
            continue;
        n++;
        snprintf(cmd, sizeof(cmd), "grep -qE '^#? ?%s ' '%s'", name, path);
        if (system(cmd) != 0) {
            tap_diag("%s not documented in %s", name, path);
            missing++;
        }
    }
    fclose(keys);
    tap_ok(n > 20 && missing == 0, "all %d keys are documented in the sample", n);
}

int main(void)
{
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    test_errors();
    test_defaults();
    test_values();
    test_files();
    test_sample();
    {
        char cmd[600];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            tap_diag("cleanup failed");
    }
    return tap_done();
}
