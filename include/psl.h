/*
 * NAME
 *	psl - public suffix list: organizational domains (RFC 7489 3.2)
 * SYNOPSIS
 *	#include "psl.h"
 *
 *	struct psl *psl_load(const char *path, char **error_r);
 *	void	psl_free(struct psl **psl);
 *	size_t	psl_count(const struct psl *psl);
 *	const char *psl_public_suffix(const struct psl *psl, const char *domain);
 *	const char *psl_org_domain(const struct psl *psl, const char *domain);
 *	int	psl_domain_to_ascii(const char *in, char *out, size_t size);
 * DESCRIPTION
 *	psl_load() reads a public suffix list in the publicsuffix.org format
 *	(NULL path: PSL_DEFAULT_PATH, Debian package "publicsuffix"): one
 *	rule per line, the first white-space delimited word, "//" comments;
 *	normal rules ("co.uk"), wildcards ("*.ck") and exceptions ("!www.ck");
 *	ICANN and PRIVATE sections alike.  Rules with non-ASCII labels are
 *	stored in their A-label form (RFC 3492 Punycode), so that domains,
 *	which arrive from DNS and headers in A-label form, match them.
 *
 *	psl_public_suffix() returns the public suffix of domain by the
 *	publicsuffix.org algorithm (an exception rule wins; otherwise the
 *	matching rule with the most labels; no match: the implicit "*" rule,
 *	the last label).  psl_org_domain() returns the public suffix plus one
 *	label, or the domain itself when it has no label beyond its public
 *	suffix.  Both return a pointer INTO domain (a suffix of it, no
 *	allocation); matching ignores ASCII case and one trailing dot.  A
 *	domain that is empty, longer than 253 bytes or has an empty label
 *	gives NULL.
 *
 *	psl_domain_to_ascii() copies in to out lower-cased, without a
 *	trailing dot, with every non-ASCII (UTF-8) label converted to its
 *	A-label ("xn--" + Punycode; no IDNA mapping beyond that).  It
 *	returns 0, or -1 for an invalid domain (empty label, label over 63 or
 *	name over 253 bytes, bad UTF-8, a byte other than letter, digit, "-"
 *	and "_", or out too small).
 *
 *	A loaded list is immutable: any number of threads may look up in it
 *	at once.  libopendmarc's own list (opendmarc_tld_read_file) is not
 *	used: it is one process-wide table, it ignores the wildcard rule
 *	("a.b.ck" gives "b.ck"), matches only lower case and never matches
 *	multi-label IDN rules.
 * DIAGNOSTICS
 *	psl_load() returns NULL and a malloc'd reason in *error_r.
 */
#ifndef AM_PSL_H
#define AM_PSL_H

#include <stddef.h>

#define PSL_DEFAULT_PATH "/usr/share/publicsuffix/public_suffix_list.dat"
#define PSL_MAX_DOMAIN 253

struct psl;

struct psl *psl_load(const char *path, char **error_r);
void psl_free(struct psl **psl);
size_t psl_count(const struct psl *psl);
const char *psl_public_suffix(const struct psl *psl, const char *domain);
const char *psl_org_domain(const struct psl *psl, const char *domain);
int psl_domain_to_ascii(const char *in, char *out, size_t size);

#endif
