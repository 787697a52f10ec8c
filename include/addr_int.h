/*
 * NAME
 *	addr_int - RFC 5322 scanners shared by the addr files (internal to addr)
 * SYNOPSIS
 *	#include "addr_int.h"
 *
 *	bool	addr_is_atext(int c);
 *	bool	addr_is_wsp(int c);
 *	bool	addr_is_dot_atom(const char *text, size_t len);
 *	char	*addr_canon_local(const char *raw, size_t len);
 *
 *	int	addr_unfold(const char *value, size_t len, char *out,
 *			size_t *out_len, const char **error_r);
 *	int	addr_tokenize(const char *s, size_t len, char *qbuf,
 *			struct toks *t, const char **error_r);
 * DESCRIPTION
 *	Internal to addr: only milter/addr.c (address-list parser),
 *	milter/addr_path.c (MAIL FROM path parser) and milter/addr_lex.c,
 *	which defines everything here, include it.
 *
 *	addr_is_atext() is RFC 5322 atext (ASCII only, c an unsigned char
 *	value); addr_is_wsp() space or tab; addr_is_dot_atom() whether the
 *	len bytes at text are a dot-atom-text.  addr_canon_local() returns
 *	a new canonical local part: the raw (decoded) text as is when it is
 *	a dot-atom, else quoted with '"' and '\\' escaped; NULL when out of
 *	memory.
 *
 *	addr_unfold() copies len bytes of value to out (at least len + 1
 *	bytes) without the line breaks of folding points; NUL, bare CR and
 *	a line break not followed by whitespace are errors.
 *	addr_tokenize() splits the unfolded s into t (grown with realloc;
 *	the caller frees t->v), ending with one T_END token.  Comments are
 *	skipped (nested at most 32 deep); quoted strings are decoded and
 *	domain literals copied, brackets kept and blanks dropped, into qbuf
 *	(at least 2 * len + 2 bytes), which their tokens point into; other
 *	tokens point into s.
 *
 *	FAIL(why) sets *error_r to the static reason why and returns -1
 *	from the calling function.
 * DIAGNOSTICS
 *	addr_unfold() and addr_tokenize() return 0, or -1 with a static
 *	reason in *error_r.
 */
#ifndef AM_ADDR_INT_H
#define AM_ADDR_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

enum tok_type { T_ATOM, T_QSTR, T_DLIT, T_SPECIAL, T_END };

struct tok {
    enum tok_type type;
    char ch;       /* T_SPECIAL: one of < > @ , ; : . */
    const char *p; /* T_ATOM/T_QSTR/T_DLIT text (not terminated) */
    size_t len;
};

struct toks {
    struct tok *v;
    size_t n, size;
};

#define FAIL(why)                                                                                  \
    do {                                                                                           \
        *error_r = (why);                                                                          \
        return -1;                                                                                 \
    } while (0)

bool addr_is_atext(int c);
bool addr_is_wsp(int c);
bool addr_is_dot_atom(const char *text, size_t len);
char *addr_canon_local(const char *raw, size_t len);

int addr_unfold(const char *value, size_t len, char *out, size_t *out_len, const char **error_r);
int addr_tokenize(const char *s, size_t len, char *qbuf, struct toks *t, const char **error_r);

#endif
