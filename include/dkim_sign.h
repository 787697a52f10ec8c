/*
 * NAME
 *	dkim_sign - DKIM-sign one message with every key that applies
 * SYNOPSIS
 *	#include "dkim_sign.h"
 *
 *	struct dkim_signer *dkim_signer_new(const struct keyset *ks,
 *			const char *from_addr,
 *			const struct dkim_sign_options *opt,
 *			const char **error_r);
 *	int	dkim_signer_header(struct dkim_signer *s, const char *name,
 *			const char *value);
 *	int	dkim_signer_eoh(struct dkim_signer *s);
 *	int	dkim_signer_body(struct dkim_signer *s,
 *			const unsigned char *buf, size_t len);
 *	int	dkim_signer_finish(struct dkim_signer *s,
 *			const struct dkim_sig_header **sigs_r, size_t *n_r);
 *	const char *dkim_signer_describe(const struct dkim_signer *s);
 *	const char *dkim_signer_error(const struct dkim_signer *s);
 *	void	dkim_signer_free(struct dkim_signer **s);
 * DESCRIPTION
 *	dkim_signer_new() looks the From address ("local@domain") up in the
 *	keyset's SigningTable (see keys.h) and prepares one signature per
 *	key found.  It returns NULL with *error_r NULL when no key applies.
 *	A NULL opt, or a zeroed struct, means the defaults: the header list
 *	dkim_sign_default_headers, From oversigned, relaxed/relaxed, no x=,
 *	the native engine.  opt and the lists it points to must outlive the
 *	signer (a configuration snapshot does).
 *
 *	dkim_signer_header() takes one header as libmilter hands it: the
 *	value folded with bare LF (CRLF accepted too).  Only simple header
 *	canonicalization cares about the leading space: with
 *	value_leadspace set (negotiate SMFIP_HDR_LEADSPC: recommended) the
 *	header is taken to read "Name:" + value exactly; without it, the MTA
 *	removed one leading space (Postfix and sendmail strip one SP if
 *	present) and the header is taken to read "Name: " + value - wrong
 *	only for the rare "Name:value" written without a space.  The body arrives in
 *	chunks of any size, with CRLF line ends (a bare LF also ends a line:
 *	the MTA sends it as CRLF).  Neither is buffered beyond the headers
 *	being signed (bounded by DKIM_SIGN_MAX_HDR_BYTES).
 *
 *	dkim_signer_finish() computes the signatures; *sigs_r points to an
 *	array, owned by the signer, of n_r headers, each a name
 *	("DKIM-Signature") and a value folded with "\n\t" (LF only, ready
 *	for smfi_insheader; the MTA writes "Name: value" and CRLF).  Insert
 *	them in array order at the top.
 *
 *	dkim_signer_describe() gives "d=example.com s=sel a=rsa-sha256" per
 *	signature, joined by ", ", for the log line.
 *
 *	Engines: DKIM_ENGINE_NATIVE canonicalizes and hashes here and signs
 *	with the EVP_PKEY that keys.c parsed once at load (about ten times
 *	faster than libopendkim 2.11, which parses the PEM key again for
 *	every message; see contrib/bench/).  DKIM_ENGINE_LIBOPENDKIM hands
 *	the message to libopendkim (one DKIM_LIB per signer, no DNS set up);
 *	the tests use it as the reference the native engine must agree with.
 *
 *	Thread safety: a signer belongs to one message (one thread at a
 *	time); many signers may share one keyset from many threads.
 * DIAGNOSTICS
 *	Functions returning int return 0, or -1 with dkim_signer_error()
 *	telling why (the signer then refuses further input).
 */
#ifndef AM_DKIM_SIGN_H
#define AM_DKIM_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "keys.h"

#define DKIM_SIGN_MAX_HDR_BYTES (1024 * 1024) /* signed headers kept per message */
#define DKIM_SIGN_MAX_INSTANCES 32            /* instances of one name signed */

enum dkim_sign_canon { DKIM_SIGN_CANON_RELAXED = 0, DKIM_SIGN_CANON_SIMPLE = 1 };
enum dkim_sign_engine { DKIM_ENGINE_NATIVE = 0, DKIM_ENGINE_LIBOPENDKIM = 1 };

struct dkim_sign_options {
    const char *const *sign_headers;     /* NULL-terminated; NULL: default list */
    const char *const *oversign_headers; /* NULL: {"From"}; {NULL}: none */
    enum dkim_sign_canon header_canon;
    enum dkim_sign_canon body_canon;
    unsigned long ttl; /* x= is t= plus this; 0: no x= */
    time_t fixed_time; /* t= value; 0: the current time */
    enum dkim_sign_engine engine;
    bool value_leadspace; /* SMFIP_HDR_LEADSPC negotiated: values keep the leading space */
};

struct dkim_sig_header {
    const char *name; /* "DKIM-Signature" */
    char *value;      /* folded with "\n\t" */
};

extern const char *const dkim_sign_default_headers[];

struct dkim_signer;

struct dkim_signer *dkim_signer_new(const struct keyset *ks, const char *from_addr,
                                    const struct dkim_sign_options *opt, const char **error_r);
int dkim_signer_header(struct dkim_signer *s, const char *name, const char *value);
int dkim_signer_eoh(struct dkim_signer *s);
int dkim_signer_body(struct dkim_signer *s, const unsigned char *buf, size_t len);
int dkim_signer_finish(struct dkim_signer *s, const struct dkim_sig_header **sigs_r, size_t *n_r);
const char *dkim_signer_describe(const struct dkim_signer *s);
const char *dkim_signer_error(const struct dkim_signer *s);
void dkim_signer_free(struct dkim_signer **s);

#endif
