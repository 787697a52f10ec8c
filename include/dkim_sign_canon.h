/*
 * NAME
 *	dkim_sign_canon - RFC 6376 canonicalization (implemented in dkim_sign_canon.c)
 * SYNOPSIS
 *	#include "dkim_sign_canon.h"
 *
 *	char	*canon_header(const char *name, const char *value,
 *			enum dkim_sign_canon canon, bool leadspace, size_t *len_r);
 *	char	*canon_header_text(const char *name, const char *value,
 *			bool leadspace);
 *	void	canon_body_init(struct canon_body *cb,
 *			enum dkim_sign_canon canon, EVP_MD_CTX *md);
 *	int	canon_body_update(struct canon_body *cb,
 *			const unsigned char *buf, size_t len);
 *	int	canon_body_final(struct canon_body *cb);
 * DESCRIPTION
 *	canon_header() returns a malloc'd canonical header line ending in
 *	CRLF (RFC 6376 3.4.1 simple, 3.4.2 relaxed) for a header handed over
 *	by libmilter (value folded with LF or CRLF).  canon_header_text()
 *	returns the malloc'd header line, CRLF-folded, without the final
 *	CRLF (what simple canonicalization and libopendkim see): "Name:"
 *	and the value as given when leadspace (SMFIP_HDR_LEADSPC was
 *	negotiated, the value keeps what followed the colon), else "Name: "
 *	and the value (the MTA removed one leading space).
 *
 *	canon_body_*() stream a body (3.4.3 simple, 3.4.4 relaxed) into an
 *	initialised digest context: CRLF or bare LF ends a line, a lone CR
 *	is data, trailing empty lines are dropped, a missing final CRLF is
 *	added.  They return 0, or -1 when the digest fails.
 */
#ifndef AM_DKIM_SIGN_CANON_H
#define AM_DKIM_SIGN_CANON_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "dkim_sign.h"

struct canon_body {
    EVP_MD_CTX *md;
    enum dkim_sign_canon canon;
    bool cr_pending;           /* CR seen, LF may follow */
    bool wsp_pending;          /* relaxed: white space to emit as one SP */
    bool emitted;              /* anything hashed yet */
    size_t line_len;           /* bytes emitted on the current line */
    unsigned long blank_lines; /* empty lines held back */
    size_t out_len;
    unsigned char out[4096];
};

char *canon_header(const char *name, const char *value, enum dkim_sign_canon canon, bool leadspace,
                   size_t *len_r);
char *canon_header_text(const char *name, const char *value, bool leadspace);
void canon_body_init(struct canon_body *cb, enum dkim_sign_canon canon, EVP_MD_CTX *md);
int canon_body_update(struct canon_body *cb, const unsigned char *buf, size_t len);
int canon_body_final(struct canon_body *cb);

#endif
