/*
 * NAME
 *	config - table-driven configuration snapshots
 * SYNOPSIS
 *	See include/config.h.
 * DESCRIPTION
 *	One table, config_keys[], names every key with its type, default and
 *	check.  Parsing fills a fresh struct config; the dependent data (login
 *	map, keys, DNS resolver) is loaded after all lines are read, so a
 *	snapshot is complete before anyone sees it.  The current snapshot is
 *	guarded by one mutex; readers take a reference and never block a
 *	reload for longer than a pointer swap.
 * DIAGNOSTICS
 *	Every error names "file:line: reason"; errors in files that a key
 *	names (maps, keys) carry that file's own name and line.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "config.h"
#include "config_load.h"
#include "maps.h"

#define CONFIG_MAX_LINE 4096
#define CONFIG_MAX_LIST 64

enum config_type { CT_STRING, CT_BOOL, CT_LIST, CT_LONG, CT_MODE, CT_ENUM };

struct config_key {
    const char *name;
    enum config_type type;
    size_t offset;
    const char *def;
    const char *const *choices; /* CT_ENUM: index = value */
    long min, max;              /* CT_LONG */
    const char *(*check)(const char *value);
    const char *help;
};

static const char *const null_sender_names[] = {"accept", "reject", NULL};
static const char *const dmarc_names[] = {"report", "quarantine", "reject", NULL};
static const char *const dnserror_names[] = {"tempfail", "accept", NULL};

static const char *check_socket(const char *v);
static const char *check_user(const char *v);
static const char *check_authserv_id(const char *v);
static const char *check_canon(const char *v);

#define OFF(f) offsetof(struct config, f)

static const struct config_key config_keys[] = {
    {"Socket", CT_STRING, OFF(socket), "inet:8891@127.0.0.1", NULL, 0, 0, check_socket,
     "milter socket: inet:PORT@HOST, inet6:PORT@HOST or unix:/PATH"},
    {"UserID", CT_STRING, OFF(user_id), NULL, NULL, 0, 0, check_user,
     "user[:group] to run as after the socket is open and keys are read"},
    {"UMask", CT_MODE, OFF(umask), "007", NULL, 0, 0777, NULL, "umask for the unix socket"},
    {"PidFile", CT_STRING, OFF(pid_file), NULL, NULL, 0, 0, NULL, "file to write the pid to"},
    {"AuthservID", CT_STRING, OFF(authserv_id), NULL, NULL, 0, 0, check_authserv_id,
     "authserv-id in Authentication-Results (default: macro j, else hostname)"},
    {"SyslogFacility", CT_STRING, OFF(syslog_facility), "mail", NULL, 0, 0, NULL,
     "syslog facility"},
    {"SubmissionDaemons", CT_LIST, OFF(submission_daemons), "ORIGINATING", NULL, 0, 0, NULL,
     "{daemon_name} values that mark a submission listener"},
    {"SenderLoginMap", CT_STRING, OFF(sender_login_map_path), NULL, NULL, 0, 0, NULL,
     "Postfix smtpd_sender_login_maps text file: address-or-@domain login[, login...]"},
    {"HeaderFromCheck", CT_BOOL, OFF(header_from_check), "yes", NULL, 0, 0, NULL,
     "check every From: address against the login"},
    {"SenderHeaderCheck", CT_BOOL, OFF(sender_header_check), "yes", NULL, 0, 0, NULL,
     "check the Sender: address against the login"},
    {"RecipientDelimiter", CT_STRING, OFF(recipient_delimiter), "+", NULL, 0, 0, NULL,
     "characters that start an address extension (Postfix recipient_delimiter)"},
    {"SenderLoginLocalpart", CT_BOOL, OFF(sender_login_localpart), "no", NULL, 0, 0, NULL,
     "also look up the bare local part in SenderLoginMap"},
    {"NullSenderLogin", CT_ENUM, OFF(null_sender_login), "accept", null_sender_names, 0, 0, NULL,
     "MAIL FROM:<> from a logged-in user: accept (header checks still apply) or reject"},
    {"KeyTable", CT_STRING, OFF(key_table), NULL, NULL, 0, 0, NULL, "OpenDKIM KeyTable file"},
    {"SigningTable", CT_STRING, OFF(signing_table), NULL, NULL, 0, 0, NULL,
     "OpenDKIM SigningTable file (refile: for wildcards)"},
    {"OversignHeaders", CT_LIST, OFF(oversign_headers), "From", NULL, 0, 0, NULL,
     "headers signed once more than present"},
    {"SignHeaders", CT_LIST, OFF(sign_headers), NULL, NULL, 0, 0, NULL,
     "headers to sign (default: a built-in list)"},
    {"Canonicalization", CT_STRING, OFF(canonicalization), "relaxed/relaxed", NULL, 0, 0,
     check_canon, "header/body canonicalization"},
    {"SignatureTTL", CT_LONG, OFF(signature_ttl), "0", NULL, 0, 31536000, NULL,
     "signature lifetime in seconds (x=); 0 = none"},
    {"RequireSafeKeys", CT_BOOL, OFF(require_safe_keys), "yes", NULL, 0, 0, NULL,
     "refuse key files readable by group/other or owned by another user"},
    {"Nameservers", CT_LIST, OFF(nameservers), NULL, NULL, 0, 0, NULL,
     "resolvers ip[@port] (default: /etc/resolv.conf)"},
    {"DNSZoneFile", CT_STRING, OFF(dns_zone_file), NULL, NULL, 0, 0, NULL,
     "zone data answered before any network lookup"},
    {"TrustAnchorFile", CT_STRING, OFF(trust_anchor_file), NULL, NULL, 0, 0, NULL,
     "DNSSEC trust anchor file"},
    {"DNSTimeout", CT_LONG, OFF(dns_timeout), "5", NULL, 1, 300, NULL,
     "DNS deadline per message, seconds"},
    {"DMARCEnforcement", CT_ENUM, OFF(dmarc_enforcement), "report", dmarc_names, 0, 0, NULL,
     "report, quarantine or reject"},
    {"PublicSuffixList", CT_STRING, OFF(public_suffix_list),
     "/usr/share/publicsuffix/public_suffix_list.dat", NULL, 0, 0, NULL,
     "public suffix list for DMARC organizational domains"},
    {"RejectAmbiguousFrom", CT_BOOL, OFF(reject_ambiguous_from), "no", NULL, 0, 0, NULL,
     "reject inbound mail with no From: or From: in several domains"},
    {"On-DNSError", CT_ENUM, OFF(on_dns_error), "tempfail", dnserror_names, 0, 0, NULL,
     "tempfail or accept when DNS fails"},
    {"MaximumSignaturesToVerify", CT_LONG, OFF(max_signatures_verify), "5", NULL, 1, 100, NULL,
     "DKIM signatures verified per message"},
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config *config_active;

/* check_socket - accept the libmilter socket forms */
static const char *check_socket(const char *v)
{
    if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0) {
        const char *p = strchr(v, ':') + 1;
        char *end;
        long port = strtol(p, &end, 10);

        if (end == p || port < 1 || port > 65535 || (*end != '\0' && *end != '@'))
            return "bad port in inet socket (inet:PORT@HOST)";
        return NULL;
    }
    if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0)
        return strchr(v, ':')[1] == '/' ? NULL : "unix socket path must be absolute";
    return "socket must be inet:PORT@HOST, inet6:PORT@HOST or unix:/PATH";
}

/* check_user - user[:group] must exist */
static const char *check_user(const char *v)
{
    char name[256];
    const char *colon = strchr(v, ':');
    size_t len = colon ? (size_t)(colon - v) : strlen(v);

    if (len == 0 || len >= sizeof(name))
        return "bad user name";
    memcpy(name, v, len);
    name[len] = '\0';
    if (getpwnam(name) == NULL)
        return "unknown user";
    if (colon && getgrnam(colon + 1) == NULL)
        return "unknown group";
    return NULL;
}

/* check_authserv_id - a value the A-R writer can write */
static const char *check_authserv_id(const char *v)
{
    return authres_id_valid(v) ? NULL : "must be a host name (a dot-atom of token characters)";
}

/* check_canon - header[/body] with simple or relaxed */
static const char *check_canon(const char *v)
{
    static const char *const ok[] = {"simple",         "relaxed",        "simple/simple",
                                     "simple/relaxed", "relaxed/simple", "relaxed/relaxed"};
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcasecmp(v, ok[i]) == 0)
            return NULL;
    return "must be simple or relaxed, optionally header/body (e.g. relaxed/simple)";
}

/* config_error - format a malloc'd "file:line: reason" */
static char *config_error(const char *file, int line, const char *fmt, ...)
{
    char reason[1024];
    char *out;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (asprintf(&out, "%s:%d: %s", file ? file : "(defaults)", line, reason) < 0)
        out = NULL;
    return out;
}

/* config_list_free - free a NULL-terminated list */
static void config_list_free(char **list)
{
    char **p;

    for (p = list; p && *p; p++)
        free(*p);
    free(list);
}

/* config_list_parse - split on commas and white space */
static char **config_list_parse(const char *value, const char **error_r)
{
    char **list = calloc(CONFIG_MAX_LIST + 1, sizeof(*list));
    size_t n = 0;
    const char *p = value;

    if (list == NULL) {
        *error_r = "out of memory";
        return NULL;
    }
    while (*p) {
        size_t len;

        p += strspn(p, ", \t");
        len = strcspn(p, ", \t");
        if (len == 0)
            break;
        if (n == CONFIG_MAX_LIST) {
            config_list_free(list);
            *error_r = "too many list elements";
            return NULL;
        }
        list[n++] = strndup(p, len);
        p += len;
    }
    return list;
}

/* config_bool_parse - yes/no and friends */
static int config_bool_parse(const char *v, bool *b)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcmp(v, "1"))
        *b = true;
    else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") ||
             !strcmp(v, "0"))
        *b = false;
    else
        return -1;
    return 0;
}

/* config_set - store one value by the key's type; NULL or error text */
static const char *config_set(struct config *cfg, const struct config_key *k, const char *value)
{
    void *field = (char *)cfg + k->offset;
    const char *why = NULL;

    if (k->check && (why = k->check(value)) != NULL)
        return why;
    switch (k->type) {
    case CT_STRING:
        free(*(char **)field);
        *(char **)field = strdup(value);
        return NULL;
    case CT_BOOL:
        return config_bool_parse(value, (bool *)field) ? "must be yes or no" : NULL;
    case CT_LIST: {
        char **list = config_list_parse(value, &why);

        if (list == NULL)
            return why;
        config_list_free(*(char ***)field);
        *(char ***)field = list;
        return NULL;
    }
    case CT_LONG: {
        char *end;
        long v;

        errno = 0;
        v = strtol(value, &end, 10);
        if (errno || end == value || *end != '\0')
            return "must be a whole number";
        if (v < k->min || v > k->max)
            return "number out of range";
        *(long *)field = v;
        return NULL;
    }
    case CT_MODE: {
        char *end;
        long v = strtol(value, &end, 8);

        if (end == value || *end != '\0' || v < 0 || v > k->max)
            return "must be an octal mode such as 007";
        *(mode_t *)field = (mode_t)v;
        return NULL;
    }
    case CT_ENUM: {
        int i;

        for (i = 0; k->choices[i]; i++)
            if (strcasecmp(value, k->choices[i]) == 0) {
                *(int *)field = i;
                return NULL;
            }
        return "not one of the allowed values";
    }
    }
    return "internal error: bad key type";
}

/* config_find_key - look a name up, case-insensitively */
static const struct config_key *config_find_key(const char *name)
{
    size_t i;

    for (i = 0; i < CONFIG_NKEYS; i++)
        if (strcasecmp(config_keys[i].name, name) == 0)
            return &config_keys[i];
    return NULL;
}

/* config_free - release everything a snapshot owns */
static void config_free(struct config *cfg)
{
    size_t i;

    if (cfg == NULL)
        return;
    config_unload_data(cfg);
    for (i = 0; i < CONFIG_NKEYS; i++) {
        void *field = (char *)cfg + config_keys[i].offset;

        if (config_keys[i].type == CT_STRING)
            free(*(char **)field);
        else if (config_keys[i].type == CT_LIST)
            config_list_free(*(char ***)field);
    }
    free(cfg->path);
    free(cfg);
}

/* config_defaults - a snapshot holding every default */
static struct config *config_defaults(char **error_r)
{
    struct config *cfg = calloc(1, sizeof(*cfg));
    size_t i;

    if (cfg == NULL) {
        *error_r = strdup("out of memory");
        return NULL;
    }
    cfg->refcount = 1;
    for (i = 0; i < CONFIG_NKEYS; i++) {
        const char *why;

        if (config_keys[i].def == NULL)
            continue;
        if ((why = config_set(cfg, &config_keys[i], config_keys[i].def)) != NULL) {
            *error_r = config_error(NULL, 0, "%s: bad default: %s", config_keys[i].name, why);
            config_free(cfg);
            return NULL;
        }
    }
    return cfg;
}

/* config_trim - strip leading and trailing white space in place */
static char *config_trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

/* config_parse_line - one "Name value" line; NULL or malloc'd error */
static char *config_parse_line(struct config *cfg, const char *path, int lineno, char *line,
                               unsigned char *seen)
{
    char *name = config_trim(line), *value;
    const struct config_key *k;
    const char *why;

    if (*name == '\0' || *name == '#')
        return NULL;
    value = name + strcspn(name, " \t");
    if (*value)
        *value++ = '\0';
    value = config_trim(value);
    if ((k = config_find_key(name)) == NULL)
        return config_error(path, lineno, "unknown key \"%.100s\"", name);
    if (*value == '\0')
        return config_error(path, lineno, "%s: missing value", k->name);
    if (seen[k - config_keys])
        return config_error(path, lineno, "%s: given twice", k->name);
    seen[k - config_keys] = 1;
    if ((why = config_set(cfg, k, value)) != NULL)
        return config_error(path, lineno, "%s: %s: \"%.200s\"", k->name, why, value);
    return NULL;
}

/* config_load - read a file into a new snapshot */
struct config *config_load(const char *path, char **error_r)
{
    struct config *cfg;
    unsigned char seen[CONFIG_NKEYS] = {0};
    char line[CONFIG_MAX_LINE + 2];
    FILE *fp;
    int lineno = 0;

    *error_r = NULL;
    if ((cfg = config_defaults(error_r)) == NULL)
        return NULL;
    if (path == NULL)
        goto data;
    cfg->path = strdup(path);
    if ((fp = fopen(path, "r")) == NULL) {
        *error_r = config_error(path, 0, "cannot open: %s", strerror(errno));
        config_free(cfg);
        return NULL;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        size_t len = strlen(line);

        lineno++;
        if (len > CONFIG_MAX_LINE && line[len - 1] != '\n') {
            *error_r = config_error(path, lineno, "line too long (max %d)", CONFIG_MAX_LINE);
            break;
        }
        if (memchr(line, '\0', len) != NULL || (len > 0 && strlen(line) != len)) {
            *error_r = config_error(path, lineno, "NUL byte in line");
            break;
        }
        if ((*error_r = config_parse_line(cfg, path, lineno, line, seen)) != NULL)
            break;
    }
    if (*error_r == NULL && ferror(fp))
        *error_r = config_error(path, lineno, "read error: %s", strerror(errno));
    fclose(fp);
    if (*error_r != NULL) {
        config_free(cfg);
        return NULL;
    }
data:
    if ((*error_r = config_load_data(cfg)) != NULL) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* config_ref - take one more reference */
struct config *config_ref(struct config *cfg)
{
    if (cfg)
        __atomic_add_fetch(&cfg->refcount, 1, __ATOMIC_ACQ_REL);
    return cfg;
}

/* config_unref - drop a reference and clear the caller's pointer */
void config_unref(struct config **cfgp)
{
    struct config *cfg = *cfgp;

    *cfgp = NULL;
    if (cfg && __atomic_sub_fetch(&cfg->refcount, 1, __ATOMIC_ACQ_REL) == 0)
        config_free(cfg);
}

/* config_install - make cfg current; the caller's reference moves here */
void config_install(struct config *cfg)
{
    struct config *old;

    pthread_mutex_lock(&config_lock);
    old = config_active;
    config_active = cfg;
    pthread_mutex_unlock(&config_lock);
    config_unref(&old);
}

/* config_current - a new reference to the current snapshot */
struct config *config_current(void)
{
    struct config *cfg;

    pthread_mutex_lock(&config_lock);
    cfg = config_ref(config_active);
    pthread_mutex_unlock(&config_lock);
    return cfg;
}

/* config_print_keys - list every key with its default and help */
void config_print_keys(FILE *fp)
{
    size_t i;

    for (i = 0; i < CONFIG_NKEYS; i++)
        fprintf(fp, "%-26s %-22s %s\n", config_keys[i].name,
                config_keys[i].def ? config_keys[i].def : "-", config_keys[i].help);
}

/* config_list_has - case-insensitive membership in a list */
bool config_list_has(char *const *list, const char *value)
{
    for (; list && *list && value; list++)
        if (strcasecmp(*list, value) == 0)
            return true;
    return false;
}
