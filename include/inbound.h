/*
 * NAME
 *	inbound - verification of inbound mail (engine side)
 * SYNOPSIS
 *	#include "inbound.h"
 *
 *	void	inbound_mail(struct conn *c);
 *	void	inbound_eoh(struct conn *c);
 *	int	inbound_results(struct conn *c, struct authres *ar);
 *	void	inbound_free(struct msgctx *m);
 * DESCRIPTION
 *	inbound_mail() starts the message's DNS deadline (DNSTimeout, shared
 *	by every lookup of the message).  inbound_eoh() evaluates SPF for the
 *	MAIL FROM identity (and HELO; HELO decides for the null sender).  A
 *	DNS failure gives temperror and, with On-DNSError tempfail (the
 *	default), a 451 4.4.3 verdict: a failure is never a pass or a fail.
 *	inbound_results() adds the results to the message's A-R.
 */
#ifndef AM_INBOUND_H
#define AM_INBOUND_H

#include "authres.h"
#include "msg_int.h"

void inbound_mail(struct conn *c);
void inbound_eoh(struct conn *c);
int inbound_results(struct conn *c, struct authres *ar);
void inbound_free(struct msgctx *m);

#endif
