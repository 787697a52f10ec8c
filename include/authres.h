/*
 * NAME
 *	authres - the only writer and parser of RFC 8601 Authentication-Results
 * SYNOPSIS
 *	#include "authres.h"
 *
 *	struct authres *authres_new(void);
 *	void	authres_free(struct authres **ar);
 *	struct authres_result *authres_add(struct authres *ar, const char *method,
 *			const char *result);
 *	int	authres_set_reason(struct authres_result *res, const char *reason);
 *	int	authres_set_comment(struct authres_result *res, const char *comment);
 *	int	authres_add_prop(struct authres_result *res, const char *name,
 *			const char *value);
 *	char	*authres_format(const char *authserv_id, const struct authres *ar);
 *	bool	authres_id_valid(const char *authserv_id);
 *	bool	authres_is_ours(const char *value, const char *authserv_id);
 *	int	authres_parse(const char *value, struct authres **ar_r,
 *			char **authserv_id_r, const char **error_r);
 *	const char *authres_header_name(void);
 * DESCRIPTION
 *	A struct authres is an ordered list of results ("method=result"), each
 *	with an optional reason, an optional comment and ptype.property=value
 *	properties.  It owns copies of every string; authres_free() releases
 *	everything and sets the caller's pointer to NULL.
 *
 *	authres_add() appends a result; method and result are keywords
 *	(ALPHA / DIGIT / "-" / "_", first an ALPHA or DIGIT, at most 64) and are
 *	stored in lower case.  authres_add_prop() takes name as "ptype.property"
 *	("smtp.mailfrom", "header.d", "policy.dmarc").  Every function accepts
 *	res == NULL and then fails, so a chain of calls after a failed
 *	authres_add() is harmless.
 *
 *	Text is cleaned when it is stored (and again when it is written, for
 *	structs filled by hand): each byte outside printable ASCII (0x20-0x7e:
 *	CR, LF, TAB, NUL cannot be passed, 8-bit) becomes "?", and text longer
 *	than its cap keeps its first cap-3 bytes followed by "...".  Caps:
 *	property value AUTHRES_MAX_VALUE (320: a 64-byte local part, "@", a
 *	255-byte domain), reason and comment AUTHRES_MAX_REASON (200).  An empty
 *	property value is refused (nothing is added).
 *
 *	authres_format() returns the header value (without the field name) as
 *	a new string, or NULL when authserv_id is invalid (see
 *	authres_id_valid()) or memory runs out.  ar NULL or without results
 *	gives "authserv-id; none".  Otherwise each result starts a new line:
 *	"id;\n\tmethod=result (comment) reason=... ptype.prop=value ...;\n\t..."
 *	with LF-only folding ("\n\t", as smfi_insheader wants) and lines
 *	wrapped at spaces to at most AUTHRES_FOLD_WIDTH (78) columns counting
 *	the "Authentication-Results: " prefix and a TAB as 8; only a single
 *	item (value, reason, comment) longer than that makes a longer line
 *	(always below 998: the caps bound every item).  Values are written as:
 *	  - an RFC 2045 token as it is ("example.com", "s2024");
 *	  - an addr-spec "local@domain" (split at the last "@", domain an RFC
 *	    5321 domain name): as it is when the local part is empty, a dot-atom
 *	    or a well-formed quoted string, else with the local part quoted
 *	    ("john doe@x.org" -> "\"john doe\"@x.org");
 *	  - anything else as a quoted string, with "\" before '"' and "\".
 *	Properties written as quoted strings come after the others of their
 *	result (python3-authres 1.2.0 drops a quoted pvalue followed by another
 *	property).  A comment is written "(...)" with "\" before "(", ")" and
 *	"\".  A header never exceeds AUTHRES_MAX_HEADER bytes: results that do
 *	not fit are left out whole.  Results or properties with invalid
 *	keywords in a hand-filled struct are skipped.
 *
 *	authres_id_valid() says whether authserv_id can be written: 1 to 255
 *	bytes, a dot-atom made of RFC 2045 token characters (a host name is).
 *
 *	authres_is_ours() decides whether an incoming Authentication-Results
 *	value must be removed as a forgery of ours.  After leading whitespace,
 *	folding and (nested) comments, the authserv-id is read three ways: as
 *	an RFC 2045 token, as an RFC 5322 dot-atom, and as everything up to
 *	white space, ";" or "(" (quoted-string ids are unquoted).  It is ours
 *	when any reading equals authserv_id, ignoring ASCII case and one
 *	trailing dot, whatever follows (a version, garbage).  It is also
 *	treated as ours (to be removed) when no authserv-id can be extracted
 *	at all: empty value, only comments, an unterminated comment or
 *	quote, a value that starts with neither a token nor a dot-atom.  A
 *	longer id ("mx.example.com.evil") is foreign and kept.
 *
 *	authres_parse() parses a header value by the RFC 8601 grammar
 *	(comments anywhere, LF or CRLF folding, optional version "1", method
 *	versions "dkim/1", "none").  On success it returns 0 with a new
 *	struct in *ar_r (no results for "none") and the authserv-id in
 *	*authserv_id_r (new string, unquoted, case kept).  Keywords come back
 *	in lower case; a quoted-string value comes back unquoted, an addr-spec
 *	with a quoted local part as written; the first comment after a result
 *	becomes its comment.  Parsed text is not cleaned.  Input is bounded:
 *	AUTHRES_MAX_PARSE bytes, AUTHRES_MAX_RESULTS results, AUTHRES_MAX_PROPS
 *	properties per result, comments nested AUTHRES_MAX_NEST deep.
 *
 *	Everything is reentrant; a struct authres belongs to one thread.
 * DIAGNOSTICS
 *	authres_add() returns NULL and authres_set_reason(),
 *	authres_set_comment() and authres_add_prop() return -1 on an invalid
 *	argument, a cap on the number of results or properties, or out of
 *	memory; nothing is added then.  authres_parse() returns -1 with a
 *	static reason in *error_r ("expected \"=\" after method", ...); it
 *	never aborts, whatever the input.
 */
#ifndef AM_AUTHRES_H
#define AM_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#define AUTHRES_MAX_VALUE 320    /* bytes of one property value */
#define AUTHRES_MAX_REASON 200   /* bytes of a reason or a comment */
#define AUTHRES_MAX_KEYWORD 64   /* bytes of a method, result, ptype, property */
#define AUTHRES_MAX_RESULTS 32   /* results in one header */
#define AUTHRES_MAX_PROPS 8      /* properties in one result */
#define AUTHRES_MAX_HEADER 16384 /* bytes of one formatted header value */
#define AUTHRES_MAX_PARSE 102400 /* bytes authres_parse() accepts */
#define AUTHRES_MAX_NEST 32      /* comment nesting authres_parse() accepts */
#define AUTHRES_FOLD_WIDTH 78

struct authres_prop {
    char *ptype;    /* "smtp", "header", "body", "policy", ... (lower case) */
    char *property; /* "mailfrom", "d", "from", ... (lower case) */
    char *value;    /* see DESCRIPTION */
};

struct authres_result {
    char *method;  /* "spf", "dkim", ... (lower case) */
    char *result;  /* "pass", "fail", ... (lower case) */
    char *reason;  /* NULL: none */
    char *comment; /* NULL: none */
    size_t nprops;
    struct authres_prop props[AUTHRES_MAX_PROPS];
};

struct authres {
    size_t n;
    struct authres_result *v[AUTHRES_MAX_RESULTS];
};

struct authres *authres_new(void);
void authres_free(struct authres **ar);
struct authres_result *authres_add(struct authres *ar, const char *method, const char *result);
int authres_set_reason(struct authres_result *res, const char *reason);
int authres_set_comment(struct authres_result *res, const char *comment);
int authres_add_prop(struct authres_result *res, const char *name, const char *value);
char *authres_format(const char *authserv_id, const struct authres *ar);
bool authres_id_valid(const char *authserv_id);
bool authres_is_ours(const char *value, const char *authserv_id);
int authres_parse(const char *value, struct authres **ar_r, char **authserv_id_r,
                  const char **error_r);
const char *authres_header_name(void);

#endif
