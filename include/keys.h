/*
 * NAME
 *	keys - DKIM private keys: KeyTable and SigningTable, parsed once
 * SYNOPSIS
 *	#include "keys.h"
 *
 *	struct keyset *keyset_load(const char *key_table,
 *			const char *signing_table, bool require_safe,
 *			char **error_r);
 *	size_t	keyset_match(const struct keyset *ks, const char *address,
 *			const struct dkim_key **keys_r, size_t max);
 *	size_t	keyset_count(const struct keyset *ks);
 *	void	keyset_free(struct keyset **ks);
 * DESCRIPTION
 *	keyset_load() reads OpenDKIM's two tables, so existing OpenDKIM
 *	files work unchanged.  Both are text files, '#' comments and blank
 *	lines ignored, a "file:" prefix on the path accepted.
 *
 *	KeyTable lines are "keyname  domain:selector:/path/to/keyfile".  A
 *	domain of "%" means "the domain of the From address".  The key file
 *	is read and parsed here, once (this runs before the daemon drops
 *	privileges): PEM "BEGIN RSA PRIVATE KEY" (PKCS#1) or "BEGIN PRIVATE
 *	KEY" (PKCS#8, RSA or Ed25519); the type comes from the key itself.
 *	The parsed key (EVP_PKEY) and the PEM text are kept; both are wiped
 *	(OPENSSL_cleanse) by keyset_free().
 *
 *	SigningTable lines are "pattern  keyname".  A plain path gives exact
 *	patterns, looked up as OpenDKIM does: the full address, the domain,
 *	then ".parent" entries for each parent domain, then "*".  A path
 *	with the "refile:" prefix gives wildcard patterns ('*' matches any
 *	string, the whole address must match, case-insensitive), tried in
 *	file order.  In both, the first pattern that matches wins, and every
 *	line carrying that same pattern adds one signature (RSA and Ed25519
 *	side by side, RFC 8463).  A NULL table gives an empty keyset.
 *
 *	With require_safe, a key file that group or other may read or
 *	write, or that belongs to a user other than root, the effective uid
 *	or (keyset_load_owner()) owner_ok, is refused.  The daemon passes its
 *	UserID as owner_ok: keys owned by that user (mode 0600) stay readable
 *	when SIGHUP reloads them after privileges were dropped.
 *
 *	keyset_count() and keyset_key() list every key of the KeyTable
 *	(i from 0 to count-1; NULL beyond).
 *
 *	keyset_match() stores at most max keys (KEYSET_MAX_SIGS suffices)
 *	for the address "local@domain" into keys_r, in table order, and
 *	returns how many.  The keyset is immutable after load: lookups from
 *	many threads at once are safe.
 * DIAGNOSTICS
 *	keyset_load() returns NULL and sets *error_r to a malloc'd
 *	"file:line: reason" string naming the table line (and the key file,
 *	with the fix for unsafe permissions: "chmod 600 FILE").
 */
#ifndef AM_KEYS_H
#define AM_KEYS_H

#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>

#include <openssl/evp.h>

#define KEYSET_MAX_SIGS 8    /* signatures per message */
#define KEYSET_MAX_LINE 4096 /* bytes per table line */
#define KEYSET_MAX_KEYFILE 65536
#define KEYSET_MIN_RSA_BITS 1024

enum dkim_key_type { DKIM_KEY_RSA, DKIM_KEY_ED25519 };

struct dkim_key {
    char *name;     /* KeyTable key name */
    char *domain;   /* d=, or "%" for the From domain */
    char *selector; /* s= */
    char *path;     /* key file, for messages */
    enum dkim_key_type type;
    int bits;           /* RSA modulus bits; 256 for Ed25519 */
    EVP_PKEY *pkey;     /* parsed once, shared read-only */
    unsigned char *pem; /* the key file text, for libopendkim */
    size_t pem_len;
};

struct keyset;

struct keyset *keyset_load(const char *key_table, const char *signing_table, bool require_safe,
                           char **error_r);
size_t keyset_match(const struct keyset *ks, const char *address, const struct dkim_key **keys_r,
                    size_t max);
struct keyset *keyset_load_owner(const char *key_table, const char *signing_table,
                                 bool require_safe, uid_t owner_ok, char **error_r);
size_t keyset_count(const struct keyset *ks);
const struct dkim_key *keyset_key(const struct keyset *ks, size_t i);
void keyset_free(struct keyset **ks);

#endif
