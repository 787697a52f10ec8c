/*
 * NAME
 *	dkim_sign_int - signer state shared by the dkim_sign files (internal to dkim_sign)
 * SYNOPSIS
 *	#include "dkim_sign_int.h"
 *
 *	extern EVP_MD *sign_sha256;
 *
 *	int	signer_fail(struct dkim_signer *s, const char *fmt, ...);
 *	const char *sign_key_domain(const struct dkim_signer *s,
 *			const struct dkim_key *key);
 *	const char *sign_key_alg(const struct dkim_key *key);
 *	void	*sign_xmalloc(size_t size);
 *
 *	int	native_finish(struct dkim_signer *s);
 * DESCRIPTION
 *	Internal to dkim_sign: only milter/dkim_sign.c (options, header
 *	collection, the libopendkim engine, lifetime), dkim_sign_native.c
 *	(the native engine's signatures) and dkim_sign_canon.c include it.
 *	struct dkim_signer is the state of one message being signed; it
 *	belongs to one thread.
 *
 *	sign_sha256 is fetched once by dkim_signer_new() and read-only
 *	afterwards.  signer_fail() records an error and refuses further
 *	input, returning -1.  sign_key_domain() is the d= of a key for this
 *	message ("%" becomes the From domain), sign_key_alg() its a=.
 *	sign_xmalloc() is malloc() that aborts on exhaustion.
 *
 *	native_finish() ends the native engine: body hash, then one
 *	DKIM-Signature per key into s->sigs; 0, or -1 after signer_fail().
 */
#ifndef AM_DKIM_SIGN_INT_H
#define AM_DKIM_SIGN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include <dkim.h>

#include "dkim_sign.h"
#include "dkim_sign_canon.h"

#define SIG_NAME "DKIM-Signature"
#define SIG_PREFIX_LEN (sizeof(SIG_NAME) + 1) /* "DKIM-Signature: " */
#define MAX_NAMES 64                          /* distinct names in the sign list */

struct stored_hdr {
    size_t name; /* index into signer->names */
    char *canon;
    size_t len;
};

enum signer_state { ST_HEADERS, ST_BODY, ST_DONE, ST_FAILED };

struct dkim_signer {
    enum signer_state state;
    struct dkim_sign_options opt;
    const struct dkim_key *keys[KEYSET_MAX_SIGS];
    size_t nkeys;
    char *from_domain;

    /* sign list: distinct names, and whether each is oversigned */
    const char *names[MAX_NAMES];
    bool oversign[MAX_NAMES];
    size_t nnames;

    /* native engine */
    struct stored_hdr *hdrs;
    size_t nhdrs, hdr_bytes;
    EVP_MD_CTX *body_md;
    struct canon_body body;

    /* libopendkim engine */
    DKIM_LIB *lib;
    DKIM *dkim[KEYSET_MAX_SIGS];

    struct dkim_sig_header sigs[KEYSET_MAX_SIGS];
    size_t nsigs;
    char describe[KEYSET_MAX_SIGS * 200];
    char error[256];
};

extern EVP_MD *sign_sha256;

int __attribute__((format(printf, 2, 3))) signer_fail(struct dkim_signer *s, const char *fmt, ...);
const char *sign_key_domain(const struct dkim_signer *s, const struct dkim_key *key);
const char *sign_key_alg(const struct dkim_key *key);
void *sign_xmalloc(size_t size);

int native_finish(struct dkim_signer *s);

#endif
