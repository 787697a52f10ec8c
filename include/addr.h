/*
 * NAME
 *	addr - RFC 5322 address-list and RFC 5321 path parsing
 * SYNOPSIS
 *	#include "addr.h"
 *
 *	int	addr_parse_list(const char *value, struct addr_list *list_r,
 *			const char **error_r);
 *	int	addr_parse_list_n(const char *value, size_t len,
 *			struct addr_list *list_r, const char **error_r);
 *	int	addr_parse_path(const char *arg, char **addr_r, const char **error_r);
 *	void	addr_list_free(struct addr_list *list);
 *	char	*addr_lower(const char *addr);
 * DESCRIPTION
 *	addr_parse_list() parses a header value such as that of From: (an
 *	RFC 5322 address-list, obsolete syntax included, as libmilter hands
 *	it: possibly with LF or CRLF folding) into its mailboxes.  Display
 *	names, comments (nested), quoted strings, quoted local parts, group
 *	syntax ("team: a@x, b@y;") and RFC 2047 encoded words are accepted;
 *	groups are flattened and an empty group yields no mailbox.  Each
 *	mailbox's addr is "local@domain" with the local part in its canonical
 *	form (quotes dropped where the dot-atom form is valid, kept where not)
 *	and the domain as written (domain literals kept with brackets).  The
 *	input is bounded: values longer than ADDR_MAX_VALUE or with more than
 *	ADDR_MAX_LIST mailboxes are an error.  NUL, bare CR and 8-bit bytes
 *	outside quoted strings/comments are errors; a mailbox without a
 *	domain is an error.  Comments nest at most 32 deep.  An empty value
 *	(or one of commas only) is an error; a group without members is not
 *	(n = 0: the caller decides).  On error the list is left empty;
 *	on success free it with addr_list_free().
 *
 *	addr_parse_list_n() is the same for a value of len bytes that may
 *	hold NUL bytes (an error): use it when the length is known.
 *
 *	addr_parse_path() parses a MAIL FROM argument as the MTA hands it
 *	("<user@example.com>", "<>", "user@example.com", with an optional
 *	obsolete source route "<@a,@b:user@c>" which is dropped; leading
 *	and trailing blanks ignored).  The local part is canonical as above;
 *	the domain is LDH labels (and '_') or an address literal; no 8-bit
 *	(SMTPUTF8) addresses.  On success *addr_r is a new string: "" for
 *	the null sender ("<>" or "").
 *
 *	addr_lower() returns a new lower-case copy (ASCII folding only).
 * DIAGNOSTICS
 *	The parsers return 0 on success and -1 on error, with *error_r set to a
 *	static, human-readable reason ("unbalanced quote", ...).  They never
 *	abort on any input.
 */
#ifndef AM_ADDR_H
#define AM_ADDR_H

#include <stddef.h>

#define ADDR_MAX_VALUE (64 * 1024)
#define ADDR_MAX_LIST 100
#define ADDR_MAX_ADDR 998

struct addr {
    char *addr;   /* "local@domain", canonical local part */
    char *local;  /* local part, canonical form */
    char *domain; /* domain as written */
};

struct addr_list {
    size_t n;
    struct addr *v;
};

int addr_parse_list(const char *value, struct addr_list *list_r, const char **error_r);
int addr_parse_list_n(const char *value, size_t len, struct addr_list *list_r,
                      const char **error_r);
int addr_parse_path(const char *arg, char **addr_r, const char **error_r);
void addr_list_free(struct addr_list *list);
char *addr_lower(const char *addr);

#endif
