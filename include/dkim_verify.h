/*
 * NAME
 *	dkim_verify - verify every DKIM signature of one inbound message
 * SYNOPSIS
 *	#include "dkim_verify.h"
 *
 *	struct dkim_verifier *dkim_verifier_new(struct dns_resolver *dns,
 *			const struct timespec *deadline,
 *			unsigned int max_sigs, const char **error_r);
 *	int	dkim_verifier_header(struct dkim_verifier *v,
 *			const char *name, const char *value);
 *	int	dkim_verifier_eoh(struct dkim_verifier *v);
 *	int	dkim_verifier_body(struct dkim_verifier *v,
 *			const unsigned char *buf, size_t len);
 *	int	dkim_verifier_finish(struct dkim_verifier *v,
 *			const struct dkim_sig_result **res_r, size_t *n_r);
 *	const char *const *dkim_verifier_trace(const struct dkim_verifier *v,
 *			size_t *n_r);
 *	void	dkim_verifier_free(struct dkim_verifier **v);
 *	void	dkim_verify_shutdown(void);
 * DESCRIPTION
 *	One verifier per message, driven in libmilter order: each header as
 *	it arrives, end of headers, body chunks, finish.  Keys are looked up
 *	through the shared resolver dns (dns.h), never through
 *	libopendkim's own resolver, all under the message's absolute
 *	deadline (CLOCK_MONOTONIC; NULL means now + DNSTimeout).
 *
 *	dkim_verifier_header() takes the value as libmilter hands it with
 *	SMFIP_HDR_LEADSPC: the raw text after the colon including its
 *	leading space, folded with bare LF (CRLF is accepted too); the
 *	header is taken to read "name:" + value.  Headers beyond
 *	DKIM_VERIFY_MAX_HDR_BYTES in total are not kept: every signature then
 *	gets permerror.  The body arrives in chunks of any size with CRLF
 *	line ends and is hashed as it streams, never stored.
 *
 *	dkim_verifier_eoh() is where the keys are looked up (libopendkim
 *	asks at end of headers, for the evaluated signatures only): it may
 *	wait for DNS up to the deadline.  Signatures with the same d= and s=
 *	share one lookup.
 *
 *	dkim_verifier_finish() gives one result per DKIM-Signature header,
 *	in header order (topmost first), for the first max_sigs of them
 *	(max_sigs 0 means DKIM_VERIFY_DEFAULT_MAX_SIGS); later signatures are
 *	not evaluated, get no result, and are named in the trace.  No
 *	DKIM-Signature at all gives *n_r == 0 (the caller writes dkim=none).
 *	The array and its strings belong to the verifier.  Results (RFC 8601
 *	section 2.7.1):
 *	    pass	signature and body hash verify, key acceptable;
 *	    fail	signature or body hash does not verify, body shorter
 *			than l=, or the signature expired (x= more than
 *			300 s in the past: RFC 6376 3.5 makes it invalid,
 *			like a bad signature);
 *	    policy	cryptographically valid but refused by RFC 8301: an
 *			RSA key under 1024 bits, or rsa-sha1; also a t= more
 *			than 300 s in the future (RFC 6376 3.5 lets the
 *			verifier ignore it: the signer's clock is wrong);
 *	    temperror	the key lookup failed (timeout, SERVFAIL, ...);
 *	    permerror	broken signature syntax, unknown a=, x= before t=,
 *			i= outside d=, no key record (NXDOMAIN/NODATA), several key
 *			records, a broken or unusable key record, a revoked
 *			key (empty p=: RFC 6376 6.1.2 lists it among the key
 *			record PERMFAILs), or the header limit was hit.
 *	Ed25519 keys (RFC 8463) have no size rule.
 *
 *	dkim_verifier_trace() gives the lines an operator reads in -t mode
 *	(each signature's tags, key lookup, verdict and reason); valid until
 *	the verifier is freed.
 *
 *	header/eoh/body return 0, or -1 when the input is out of order or
 *	memory ran out; after -1 dkim_verifier_finish() still gives a result
 *	per signature seen (temperror: the verifier itself failed).
 *	dkim_verifier_finish() returns -1 only when memory ran out (the
 *	caller tempfails); calling it again gives the same results.
 *
 *	Thread safety: one DKIM_LIB serves the whole process (created on
 *	first use, options fixed); verifiers are independent and may run in
 *	parallel, one thread at a time each.  dkim_verify_shutdown() frees
 *	the shared library state (at exit, with no verifier alive).
 * DIAGNOSTICS
 *	dkim_verifier_new() returns NULL with a static reason in *error_r.
 */
#ifndef AM_DKIM_VERIFY_H
#define AM_DKIM_VERIFY_H

#include <stddef.h>
#include <time.h>

#include "dns.h"

#define DKIM_VERIFY_DEFAULT_MAX_SIGS 8
#define DKIM_VERIFY_MAX_HDR_BYTES (4 * 1024 * 1024)
#define DKIM_VERIFY_MIN_RSA_BITS 1024
#define DKIM_VERIFY_CLOCK_DRIFT 300 /* seconds of t= in the future accepted */

struct dkim_sig_result {
    const char *result;  /* "pass" "fail" "neutral" "policy" "temperror" "permerror" */
    char *d, *i, *s, *a; /* tags as found ("" when absent); i= defaults to "@d" */
    char b8[9];          /* first 8 characters of b= (RFC 6008 header.b) */
    char *reason;        /* human text, e.g. "body hash mismatch" */
};

struct dkim_verifier;

struct dkim_verifier *dkim_verifier_new(struct dns_resolver *dns, const struct timespec *deadline,
                                        unsigned int max_sigs, const char **error_r);
int dkim_verifier_header(struct dkim_verifier *v, const char *name, const char *value);
int dkim_verifier_eoh(struct dkim_verifier *v);
int dkim_verifier_body(struct dkim_verifier *v, const unsigned char *buf, size_t len);
int dkim_verifier_finish(struct dkim_verifier *v, const struct dkim_sig_result **res_r,
                         size_t *n_r);
const char *const *dkim_verifier_trace(const struct dkim_verifier *v, size_t *n_r);
void dkim_verifier_free(struct dkim_verifier **v);
void dkim_verify_shutdown(void);

#endif
