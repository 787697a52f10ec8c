/*
 * NAME
 *	submit - the submission-path decisions: login required, send-as rights
 * SYNOPSIS
 *	#include "submit.h"
 *
 *	void	submit_check_mail(const struct config *cfg, const char *login,
 *			const char *mail_from, struct verdict *v, char *why, size_t whylen);
 *	void	submit_check_headers(const struct config *cfg, const char *login,
 *			const char *const *from, size_t nfrom,
 *			const char *const *sender, size_t nsender,
 *			struct verdict *v, char *why, size_t whylen,
 *			char **from_addr_r);
 * DESCRIPTION
 *	Pure decisions over a config snapshot (no I/O but the loaded map).
 *	submit_check_mail(): no login -> 530 5.7.0; the null sender follows
 *	NullSenderLogin; an envelope sender the login may not use -> 553
 *	5.7.1 naming the address.  submit_check_headers(): exactly one From:
 *	that parses to at least one mailbox, at most one Sender: with one
 *	mailbox (else 550 5.6.0 with the reason); every From: address and the
 *	Sender: address must be usable by the login (HeaderFromCheck,
 *	SenderHeaderCheck), else 553 5.7.1 naming the header and address.
 *	*from_addr_r gets the first From: address (lower-cased; the signing
 *	domain) when the verdict is VERDICT_CONTINUE and the login may use
 *	every From: address; with HeaderFromCheck no a foreign From: passes
 *	but leaves *from_addr_r NULL, so the message is never signed.
 *
 *	Without a SenderLoginMap an address is usable only when it equals the
 *	login (case-insensitively), the common case of address-shaped logins.
 *	A failed lookup is 451 4.3.0, never a refusal or an acceptance.
 */
#ifndef AM_SUBMIT_H
#define AM_SUBMIT_H

#include <stddef.h>

#include "config.h"
#include "msg.h"

void submit_check_mail(const struct config *cfg, const char *login, const char *mail_from,
                       struct verdict *v, char *why, size_t whylen);
void submit_check_headers(const struct config *cfg, const char *login, const char *const *from,
                          size_t nfrom, const char *const *sender, size_t nsender,
                          struct verdict *v, char *why, size_t whylen, char **from_addr_r);

#endif
