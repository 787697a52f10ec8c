/*
 * NAME
 *	config_load - load the data that configuration keys name
 * SYNOPSIS
 *	See include/config_load.h.
 * DESCRIPTION
 *	Runs once per snapshot: at start-up (and for -n, -t) as root, before
 *	privileges are dropped; on SIGHUP as the UserID user, so files a
 *	reload must read (maps, keys, zone file) have to be readable by that
 *	user: key files may be owned by it (mode 0600) as well as by root.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_load.h"
#include "dkim_sign.h"
#include "dmarc.h"
#include "dns.h"
#include "keys.h"
#include "maps.h"

/* config_sign_options - the signer options of a snapshot */
static struct dkim_sign_options *config_sign_options(const struct config *cfg)
{
    struct dkim_sign_options *o = calloc(1, sizeof(*o));
    const char *canon = cfg->canonicalization, *slash;

    if (o == NULL)
        return NULL;
    o->sign_headers = (const char *const *)cfg->sign_headers;
    o->oversign_headers = (const char *const *)cfg->oversign_headers;
    slash = strchr(canon, '/');
    o->header_canon =
        strncasecmp(canon, "simple", 6) == 0 ? DKIM_SIGN_CANON_SIMPLE : DKIM_SIGN_CANON_RELAXED;
    canon = slash ? slash + 1 : canon;
    o->body_canon =
        strncasecmp(canon, "simple", 6) == 0 ? DKIM_SIGN_CANON_SIMPLE : DKIM_SIGN_CANON_RELAXED;
    o->ttl = (unsigned long)cfg->signature_ttl;
    o->engine = DKIM_ENGINE_NATIVE;
    o->value_leadspace = true; /* the engine always passes the raw value */
    return o;
}

/* config_dns - the resolver of a snapshot (network threads start on first use) */
static char *config_dns(struct config *cfg)
{
    struct dns_options opt;
    char *error = NULL;

    memset(&opt, 0, sizeof(opt));
    opt.nameservers = (const char *const *)cfg->nameservers;
    opt.zone_file = cfg->dns_zone_file;
    opt.trust_anchor_file = cfg->trust_anchor_file;
    opt.timeout_ms = cfg->dns_timeout * 1000;
    if ((cfg->dns = dns_resolver_new(&opt, &error)) == NULL)
        return error ? error : strdup("cannot create the DNS resolver");
    if ((cfg->dmarc = dmarc_open(cfg->public_suffix_list, &error)) == NULL)
        return error ? error : strdup("cannot load the public suffix list");
    return NULL;
}

/* config_user_uid - the uid of UserID (key files may belong to it), or -1 */
static uid_t config_user_uid(const struct config *cfg)
{
    char name[256];
    struct passwd *pw;

    if (cfg->user_id == NULL)
        return (uid_t)-1;
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(cfg->user_id, ":"), cfg->user_id);
    return (pw = getpwnam(name)) != NULL ? pw->pw_uid : (uid_t)-1;
}

/* config_load_data - open maps, keys and the resolver */
char *config_load_data(struct config *cfg)
{
    char *error = NULL;

    if (cfg->sender_login_map_path != NULL) {
        cfg->sender_login_map = map_open(cfg->sender_login_map_path, &error);
        if (cfg->sender_login_map == NULL)
            return error;
    }
    if (cfg->key_table != NULL || cfg->signing_table != NULL) {
        if (cfg->key_table == NULL || cfg->signing_table == NULL)
            return strdup(cfg->key_table ? "SigningTable is needed with KeyTable"
                                         : "KeyTable is needed with SigningTable");
        cfg->keys = keyset_load_owner(cfg->key_table, cfg->signing_table, cfg->require_safe_keys,
                                      config_user_uid(cfg), &error);
        if (cfg->keys == NULL)
            return error;
    }
    if ((cfg->sign_opts = config_sign_options(cfg)) == NULL)
        return strdup("out of memory");
    return config_dns(cfg);
}

/* config_unload_data - release what config_load_data loaded */
void config_unload_data(struct config *cfg)
{
    map_free(&cfg->sender_login_map);
    keyset_free(&cfg->keys);
    dns_resolver_free(&cfg->dns);
    dmarc_close(&cfg->dmarc);
    free(cfg->sign_opts);
    cfg->sign_opts = NULL;
}
