/*
 * NAME
 *	dmarc_record - DMARC record syntax (RFC 7489 6.3, 6.4; RFC 9091 np=)
 * SYNOPSIS
 *	#include "dmarc_record.h"
 *
 *	int	dmarc_record_is_dmarc(const char *txt, size_t len);
 *	int	dmarc_record_parse(const char *txt, size_t len,
 *			struct dmarc_record *rec, char *why, size_t whysize);
 *	const char *dmarc_policy_name(char policy);
 * DESCRIPTION
 *	dmarc_record_is_dmarc() says whether a TXT string is a DMARC record
 *	at all (6.6.3 step 5): it must START with "v" *WSP "=" *WSP "DMARC1"
 *	followed by ";", white space or its end ("foo v=DMARC1" is not one).
 *
 *	dmarc_record_parse() checks a DMARC record against the RFC 7489 ABNF
 *	and then has libopendmarc parse the policy tags (p, sp, adkim, aspf,
 *	pct) from a canonical copy built of the validated tags only; np= is
 *	read here (libopendmarc 1.4.2 does not know it).  It returns 0 and
 *	fills rec, or -1 with a reason in why (the record is a permerror).
 *	A missing or invalid p=, an invalid sp= or np= with a valid rua=
 *	gives rec->fallback and p=sp=np=none (6.6.3 step 6.1).
 *
 *	Tag names and keyword values ignore case; "DMARC1" does not.
 *	Unknown tags are ignored; a duplicate known tag, a part that is not
 *	tag=value, a NUL byte or a record over DMARC_MAX_RECORD bytes is a
 *	permerror.
 *
 *	Thread-safe: libopendmarc's parser works on a per-call context only.
 */
#ifndef AM_DMARC_RECORD_H
#define AM_DMARC_RECORD_H

#include <stddef.h>

#define DMARC_MAX_RECORD 4096

/* policy values: 0 (absent), 'n' none, 'q' quarantine, 'r' reject */
struct dmarc_record {
    char p, sp, np;
    char adkim, aspf; /* 'r' relaxed (default), 's' strict */
    int pct;          /* 0..100, default 100 */
    int fallback;     /* invalid policy replaced by none (valid rua=) */
};

int dmarc_record_is_dmarc(const char *txt, size_t len);
int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *rec, char *why,
                       size_t whysize);
const char *dmarc_policy_name(char policy);

#endif
