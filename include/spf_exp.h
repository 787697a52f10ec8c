/*
 * NAME
 *	spf_exp - RFC 7208 macro expansion and the exp= explanation
 * SYNOPSIS
 *	#include "spf_exp.h"
 *
 *	int	spf_macro_expand(struct spf_macro_env *env, const char *in,
 *			int mode, char **out_r, const char **why_r);
 *	void	spf_domain_truncate(char *name);
 *	const char *spf_validated_name(struct spf_macro_env *env);
 *	char	*spf_explanation(struct spf_macro_env *env, const char *spec,
 *			char *why, size_t why_size);
 * DESCRIPTION
 *	Internal to the spf module (milter/spf.c); libspf2's own expansion
 *	of explanations is wrong in many ways (see the deviations list in
 *	milter/spf.c), so the exp= modifier is evaluated here.
 *
 *	spf_macro_expand() expands one macro-string (RFC 7208 section 7):
 *	letters s l o d i p h v, and c r t when mode is SPF_MACRO_EXP;
 *	transformers (a non-zero digit count of right-hand parts, "r" to
 *	reverse), delimiters ".-+,/_=" (default "."), an uppercase letter
 *	URL-escapes its value (everything but ALPHA DIGIT "-._~" as %XX);
 *	"%%", "%_", "%-" give "%", " ", "%20".  SPF_MACRO_DOMAIN input is a
 *	domain-spec (literals 0x21-0x7e), SPF_MACRO_EXP an explain-string
 *	(literals 0x20-0x7e).  For IPv6, %{i} gives 32 dot-separated nibbles
 *	in upper case (as the RFC 7208 test suite and pyspf do; DNS names
 *	are case-insensitive) and %{c} the inet_ntop() form.
 *
 *	spf_domain_truncate() cuts an expanded domain to at most 253 bytes
 *	by removing whole labels on the left (RFC 7208 7.3), and drops one
 *	trailing dot.
 *
 *	spf_validated_name() is %{p}: the PTR names of env->ip (the first
 *	10) whose A/AAAA records contain env->ip, preferring env->domain
 *	itself, then a subdomain of it, then any; "unknown" when none
 *	validates, on any DNS error, or without env->dns.  Computed once per
 *	env; its lookups are counted in env->lookups and are not SPF terms.
 *
 *	spf_explanation() evaluates exp=spec for a "fail" (RFC 7208 6.2):
 *	the domain-spec is expanded and truncated, its TXT fetched through
 *	dns_query() with env->deadline (not an SPF term, not a void
 *	lookup), and exactly one TXT record must come back; its text is
 *	expanded as an explain-string.  Bytes outside 0x20-0x7e in the
 *	expanded text (from the sender's local-part, say) become '?'.
 * DIAGNOSTICS
 *	spf_macro_expand() returns 0 and a malloc'd *out_r, or -1 with a
 *	static reason in *why_r (syntax error, result longer than
 *	SPF_MACRO_MAX, out of memory).  spf_explanation() returns the
 *	malloc'd explanation, or NULL ("proceed as if no exp modifier was
 *	given": empty domain, DNS error, no or several TXT records, a syntax
 *	error or non-ASCII text) with the reason in why.
 */
#ifndef AM_SPF_EXP_H
#define AM_SPF_EXP_H

#include <stddef.h>
#include <time.h>

#include "dns.h"

#define SPF_MACRO_DOMAIN 0 /* domain-spec: no c r t, no spaces */
#define SPF_MACRO_EXP 1    /* explain-string: c r t and spaces allowed */
#define SPF_MACRO_MAX 2048 /* longest expansion accepted */
#define SPF_PTR_NAMES 10   /* RFC 7208 4.6.4: PTR names looked at */

struct spf_macro_env {
    const char *sender;              /* %{s} local-part@domain; %{l} %{o} from it */
    const char *domain;              /* %{d}: the current domain */
    const char *helo;                /* %{h} */
    const char *receiver;            /* %{r}; NULL: "unknown" */
    int v6;                          /* ip is IPv6 (16 bytes), else IPv4 (4) */
    unsigned char ip[16];            /* %{i} %{c} %{p} */
    long long now;                   /* %{t}: seconds since the epoch */
    struct dns_resolver *dns;        /* %{p} and exp= lookups; NULL: none */
    const struct timespec *deadline; /* for dns_query() */
    unsigned int lookups;            /* DNS queries made here so far */
    int ptr_done;                    /* ptr[] is computed */
    char ptr[256];                   /* %{p} */
};

int spf_macro_expand(struct spf_macro_env *env, const char *in, int mode, char **out_r,
                     const char **why_r);
void spf_domain_truncate(char *name);
const char *spf_validated_name(struct spf_macro_env *env);
char *spf_explanation(struct spf_macro_env *env, const char *spec, char *why, size_t why_size);

#endif
