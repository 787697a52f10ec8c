/*
 * NAME
 *	config - configuration file, table-driven, as immutable snapshots
 * SYNOPSIS
 *	#include "config.h"
 *
 *	struct config *config_load(const char *path, char **error_r);
 *	struct config *config_ref(struct config *cfg);
 *	void	config_unref(struct config **cfg);
 *	void	config_install(struct config *cfg);
 *	struct config *config_current(void);
 *	void	config_print_keys(FILE *fp);
 * DESCRIPTION
 *	config_load() reads "Name value" lines ('#' comments, blank lines, the
 *	OpenDKIM convention; names are case-insensitive) against one table of
 *	keys (name, type, default, check), applies defaults, then loads what
 *	the keys name (SenderLoginMap, KeyTable/SigningTable, DNSZoneFile), so
 *	that a snapshot is complete and never changes afterwards.  A NULL path
 *	gives the built-in defaults.
 *
 *	Snapshots are reference counted (atomically).  config_install() makes
 *	cfg the current one (the caller's reference moves to the registry);
 *	config_current() returns a new reference to it, which the caller
 *	drops with config_unref().  A connection holds one snapshot from
 *	connect to close, so a reload never changes rules mid-message.
 * DIAGNOSTICS
 *	config_load() returns NULL and sets *error_r to a malloc'd
 *	"file:line: reason" string.
 */
#ifndef AM_CONFIG_H
#define AM_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

enum null_sender_rule { NULLSENDER_ACCEPT, NULLSENDER_REJECT };
enum dmarc_enforcement { DMARC_ENFORCE_REPORT, DMARC_ENFORCE_QUARANTINE, DMARC_ENFORCE_REJECT };
enum on_dns_error { ON_DNSERROR_TEMPFAIL, ON_DNSERROR_ACCEPT };

struct map;
struct keyset;
struct dkim_sign_options;
struct dns_resolver;
struct dmarc_ctx;

struct config {
    int refcount; /* atomic; owned by config.c */
    char *path;

    /* daemon */
    char *socket;
    char *user_id;
    mode_t umask;
    char *pid_file;
    char *authserv_id;
    char *syslog_facility;

    /* submission */
    char **submission_daemons; /* NULL-terminated list */
    char *sender_login_map_path;
    struct map *sender_login_map;
    bool header_from_check;
    bool sender_header_check;
    char *recipient_delimiter;
    bool sender_login_localpart;
    enum null_sender_rule null_sender_login;

    /* signing */
    char *key_table;
    char *signing_table;
    char **oversign_headers;
    char **sign_headers;
    char *canonicalization; /* "relaxed/relaxed" etc. */
    long signature_ttl;     /* seconds; 0 = no x= */
    bool require_safe_keys;
    struct keyset *keys;
    struct dkim_sign_options *sign_opts; /* built from the keys above at load */

    /* inbound */
    char **nameservers;
    char *dns_zone_file;
    char *trust_anchor_file;
    long dns_timeout;
    struct dns_resolver *dns;
    enum dmarc_enforcement dmarc_enforcement;
    char *public_suffix_list;
    struct dmarc_ctx *dmarc;
    bool reject_ambiguous_from;
    enum on_dns_error on_dns_error;
    long max_signatures_verify;
};

struct config *config_load(const char *path, char **error_r);
struct config *config_ref(struct config *cfg);
void config_unref(struct config **cfg);
void config_install(struct config *cfg);
struct config *config_current(void);
void config_print_keys(FILE *fp);
bool config_list_has(char *const *list, const char *value);

#endif
