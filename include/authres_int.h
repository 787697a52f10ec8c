/*
 * NAME
 *	authres_int - writer and parser helpers (internal to authres)
 * SYNOPSIS
 *	#include "authres_int.h"
 *
 *	bool	ar_ch_alnum(int c);
 *	bool	ar_ch_token(int c);
 *	bool	ar_ch_atext(int c);
 *	bool	ar_ch_keyword(int c);
 *	size_t	ar_span(const char *s, size_t n, bool (*in_class)(int));
 *	size_t	ar_dot_atom_len(const char *s, size_t n, bool (*in_class)(int));
 *	bool	ar_keyword_ok(const char *s, size_t n);
 *
 *	void	ar_buf_add(struct ar_buf *b, const char *s, size_t n);
 *	void	ar_buf_char(struct ar_buf *b, char c);
 *	char	*ar_buf_take(struct ar_buf *b);
 *
 *	struct authres_result *ar_result_new(struct authres *ar,
 *			const char *method, size_t mlen,
 *			const char *result, size_t rlen);
 *	int	ar_prop_new(struct authres_result *res, const char *ptype,
 *			size_t tlen, const char *property, size_t plen,
 *			char *value);
 * DESCRIPTION
 *	Internal to authres: only milter/authres.c (model and writer) and
 *	milter/authres_parse.c (parser) include it.
 *
 *	Character classes (ASCII only, locale independent; c is an unsigned
 *	char value): ar_ch_alnum() an ASCII letter or digit, ar_ch_token()
 *	an RFC 2045 token character, ar_ch_atext() RFC 5322 atext,
 *	ar_ch_keyword() a method, result, ptype or property character.
 *	ar_span() is the length of the prefix of s[0..n) in a class;
 *	ar_dot_atom_len() the length of the longest dot-atom of class
 *	characters at s (0 if none); ar_keyword_ok() whether s[0..n) is a
 *	keyword of 1..AUTHRES_MAX_KEYWORD characters starting with a letter
 *	or digit.
 *
 *	struct ar_buf is a growing NUL-terminated string; zero-initialise it.
 *	ar_buf_add() and ar_buf_char() append; on out of memory they set oom
 *	and keep the old text.  ar_buf_take() hands the text to the caller
 *	("" when nothing was added; NULL after oom) and resets the buffer.
 *
 *	ar_result_new() appends a result to ar with the n-byte method and
 *	result keywords (already checked) in lower case.  ar_prop_new()
 *	appends a property from checked n-byte ptype and property and takes
 *	over value (a malloc'd string, may be NULL), freeing it on failure.
 *
 *	All are defined in authres.c, so the writer links without the parser.
 * DIAGNOSTICS
 *	ar_buf_take() returns NULL, ar_result_new() NULL and ar_prop_new() -1
 *	when memory runs out (or, for the last two, a cap is reached).
 */
#ifndef AM_AUTHRES_INT_H
#define AM_AUTHRES_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "authres.h"

struct ar_buf {
    char *s;
    size_t len;
    size_t size;
    bool oom;
};

bool ar_ch_alnum(int c);
bool ar_ch_token(int c);
bool ar_ch_atext(int c);
bool ar_ch_keyword(int c);
size_t ar_span(const char *s, size_t n, bool (*in_class)(int));
size_t ar_dot_atom_len(const char *s, size_t n, bool (*in_class)(int));
bool ar_keyword_ok(const char *s, size_t n);

void ar_buf_add(struct ar_buf *b, const char *s, size_t n);
void ar_buf_char(struct ar_buf *b, char c);
char *ar_buf_take(struct ar_buf *b);

struct authres_result *ar_result_new(struct authres *ar, const char *method, size_t mlen,
                                     const char *result, size_t rlen);
int ar_prop_new(struct authres_result *res, const char *ptype, size_t tlen, const char *property,
                size_t plen, char *value);

#endif
