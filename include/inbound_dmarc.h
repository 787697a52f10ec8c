/*
 * NAME
 *	inbound_dmarc - DKIM verification and DMARC for inbound mail (engine side)
 * SYNOPSIS
 *	#include "inbound_dmarc.h"
 *
 *	void	inbound_dkim_eoh(struct conn *c);
 *	void	inbound_dkim_body(struct conn *c, const unsigned char *buf, size_t len);
 *	void	inbound_dmarc_eom(struct conn *c);
 *	int	inbound_dmarc_results(struct conn *c, struct authres *ar);
 *	void	inbound_dmarc_free(struct msgctx *m);
 * DESCRIPTION
 *	inbound_dkim_eoh() starts a verifier (MaximumSignaturesToVerify) on
 *	the message's DNS deadline and hands it the headers; the body streams
 *	through inbound_dkim_body().  inbound_dmarc_eom() finishes DKIM,
 *	evaluates DMARC for the From: domain with the SPF and DKIM results and
 *	applies DMARCEnforcement: reject honours p=reject with 550 5.7.1
 *	naming the domain, quarantine (or reject's quarantine) holds the
 *	message (VERDICT_QUARANTINE: Postfix's HOLD queue); a DMARC temperror
 *	never enforces a policy and follows On-DNSError.  RejectAmbiguousFrom
 *	refuses mail with no From: or with From: addresses in several
 *	domains (RFC 7489 6.6.1).
 *	inbound_dmarc_results() adds one dkim result per signature (or
 *	dkim=none) and the dmarc result to the A-R.
 */
#ifndef AM_INBOUND_DMARC_H
#define AM_INBOUND_DMARC_H

#include "authres.h"
#include "msg_int.h"

void inbound_dkim_eoh(struct conn *c);
void inbound_dkim_body(struct conn *c, const unsigned char *buf, size_t len);
void inbound_dmarc_eom(struct conn *c);
int inbound_dmarc_results(struct conn *c, struct authres *ar);
void inbound_dmarc_free(struct msgctx *m);

#endif
