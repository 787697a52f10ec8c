/*
 * NAME
 *	outbound - signing of authorised submissions (engine side)
 * SYNOPSIS
 *	#include "outbound.h"
 *
 *	void	outbound_eoh(struct conn *c);
 *	void	outbound_body(struct conn *c, const unsigned char *buf, size_t len);
 *	int	outbound_eom(struct conn *c, struct edits *e);
 *	void	outbound_free(struct msgctx *m);
 * DESCRIPTION
 *	Called by the engine only for a submission whose login and send-as
 *	checks passed (the one decision that authorises both sending and
 *	signing): a message refused for any reason never reaches a signer.
 *	outbound_eoh() starts a signer for the From: domain when the
 *	SigningTable has keys for it and feeds it the headers; outbound_body()
 *	streams the body; outbound_eom() adds the signature headers as
 *	insertions at the top.  A signing failure sets a 451 4.3.0 verdict:
 *	mail that should be signed is never sent unsigned.
 */
#ifndef AM_OUTBOUND_H
#define AM_OUTBOUND_H

#include <stddef.h>

#include "msg_int.h"

void outbound_eoh(struct conn *c);
void outbound_body(struct conn *c, const unsigned char *buf, size_t len);
int outbound_eom(struct conn *c, struct edits *e);
void outbound_free(struct msgctx *m);

#endif
