/*
 * NAME
 *	sender - may this SASL login use this address? (a pure function)
 * SYNOPSIS
 *	#include "sender.h"
 *
 *	enum sender_verdict sender_login_allowed(const struct sender_policy *pol,
 *			const char *login, const char *address,
 *			const char **reason_r);
 * DESCRIPTION
 *	Looks address up in pol->map in the order Postfix documents for
 *	smtpd_sender_login_maps: the full address; the address without its
 *	extension (local part cut at the first character of pol->delimiters,
 *	"+" by default; none when delimiters is empty); the bare local part
 *	only when pol->bare_localpart is set; then "@domain".  The first key
 *	found decides: its value is a list of logins separated by commas
 *	and/or whitespace, compared with login case-insensitively.  Local
 *	parts and domains are compared case-insensitively (keys are folded).
 *	Nothing found: SENDER_DENIED ("address not owned by login").  A map
 *	error, an empty login or an address without '@': SENDER_ERROR for the
 *	first, SENDER_DENIED for the others.  No I/O, no globals.
 * DIAGNOSTICS
 *	*reason_r gets a static text explaining a DENIED or ERROR verdict.
 */
#ifndef AM_SENDER_H
#define AM_SENDER_H

#include <stdbool.h>

#include "maps.h"

struct sender_policy {
    const struct map *map;
    const char *delimiters; /* recipient_delimiter characters, e.g. "+" */
    bool bare_localpart;    /* also try the local part alone */
};

enum sender_verdict { SENDER_ALLOWED, SENDER_DENIED, SENDER_ERROR };

enum sender_verdict sender_login_allowed(const struct sender_policy *pol, const char *login,
                                         const char *address, const char **reason_r);

#endif
