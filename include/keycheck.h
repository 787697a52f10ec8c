/*
 * NAME
 *	keycheck - does DNS publish the public half of each signing key?
 * SYNOPSIS
 *	#include "keycheck.h"
 *
 *	int	keycheck_dns(const struct config *cfg, FILE *out);
 * DESCRIPTION
 *	For every KeyTable key, looks up SELECTOR._domainkey.DOMAIN TXT
 *	through the snapshot's resolver and compares its p= with the public
 *	half of the private key (RSA: the DER SubjectPublicKeyInfo; Ed25519:
 *	the raw 32 bytes, RFC 8463), and its k= with the key type.  Prints one
 *	line per key: "ok", "MISMATCH", "MISSING", "REVOKED", "DNS-ERROR" or
 *	"SKIPPED" (a "%" domain has no fixed name), with the reason.  Used by
 *	`authmilter -n --check-dns`.
 * DIAGNOSTICS
 *	Returns the number of keys that are not "ok" or "SKIPPED".
 */
#ifndef AM_KEYCHECK_H
#define AM_KEYCHECK_H

#include <stdio.h>

#include "config.h"

int keycheck_dns(const struct config *cfg, FILE *out);

#endif
