/*
 * NAME
 *	addr_path - RFC 5321 path parsing (MAIL FROM argument)
 * SYNOPSIS
 *	#include "addr.h"
 *
 *	int	addr_parse_path(const char *arg, char **addr_r, const char **error_r);
 * DESCRIPTION
 *	addr_parse_path() works on the argument as one bounded string
 *	(at most ADDR_MAX_ADDR + 2 bytes, ASCII without controls other than
 *	tab): blanks and one pair of angle brackets are stripped, an
 *	obsolete source route is dropped, and then the Local-part (dot-atom
 *	or quoted string) and the Domain (LDH labels and '_', or an address
 *	literal) are checked.  The local part is made canonical with
 *	addr_canon_local() (milter/addr_lex.c), as in address lists.
 *
 *	Thread safe: no static data besides constant strings.
 * DIAGNOSTICS
 *	-1 and a static reason in *error_r for anything but a valid path;
 *	"out of memory" when malloc fails.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "addr_int.h"

/* addr_path_local - RFC 5321 Local-part at s (ends at '@' or e); raw text into buf */
static int addr_path_local(const char **sp, const char *e, char *buf, size_t *len_r,
                           const char **error_r)
{
    const char *s = *sp;
    size_t n = 0;

    if (s < e && *s == '"') {
        for (s++;; s++) {
            if (s >= e)
                FAIL("unterminated quoted string");
            if (*s == '"')
                break;
            if (*s == '\\' && ++s >= e)
                FAIL("unterminated quoted string");
            if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
                FAIL("invalid character in quoted local part");
            if (n >= ADDR_MAX_ADDR)
                FAIL("address too long");
            buf[n++] = *s;
        }
        s++;
    } else {
        while (s < e && *s != '@') {
            if (n >= ADDR_MAX_ADDR)
                FAIL("address too long");
            buf[n++] = *s++;
        }
        if (!addr_is_dot_atom(buf, n))
            FAIL(n == 0 ? "missing local part" : "invalid local part");
    }
    *sp = s;
    *len_r = n;
    return 0;
}

/* addr_path_domain - RFC 5321 Domain or address-literal spanning [s, e) */
static int addr_path_domain(const char *s, const char *e, const char **error_r)
{
    const char *cp;
    size_t label = 0;

    if (s >= e)
        FAIL("missing domain");
    if (*s == '[') {
        if (e - s < 3 || e[-1] != ']')
            FAIL("invalid address literal");
        for (cp = s + 1; cp < e - 1; cp++)
            if (*cp < 0x21 || *cp > 0x7e || *cp == '[' || *cp == ']' || *cp == '\\')
                FAIL("invalid address literal");
        return 0;
    }
    for (cp = s; cp < e; cp++) {
        if (*cp == '.') {
            if (label == 0)
                FAIL("invalid domain");
            label = 0;
        } else if (isalnum((unsigned char)*cp) || *cp == '-' || *cp == '_') {
            label++;
        } else if (*cp == '@') {
            FAIL("more than one '@' in address");
        } else {
            FAIL("invalid character in domain");
        }
    }
    if (label == 0)
        FAIL("invalid domain");
    return 0;
}

/* addr_parse_path - parse a MAIL FROM argument into a new "local@domain" or "" */
int addr_parse_path(const char *arg, char **addr_r, const char **error_r)
{
    char local[ADDR_MAX_ADDR + 1], *canon;
    const char *s, *e, *at, *cp;
    size_t llen, clen;

    *addr_r = NULL;
    local[0] = '\0';
    if (arg == NULL)
        FAIL("no address");
    if (strnlen(arg, ADDR_MAX_ADDR + 3) > ADDR_MAX_ADDR + 2)
        FAIL("address too long");
    for (cp = arg; *cp; cp++) {
        if ((unsigned char)*cp >= 0x80)
            FAIL("8-bit character in address");
        if ((unsigned char)*cp < 0x20 && *cp != '\t')
            FAIL("control character in address");
    }
    for (s = arg; addr_is_wsp((unsigned char)*s); s++)
        ;
    for (e = cp; e > s && addr_is_wsp((unsigned char)e[-1]); e--)
        ;
    if (s < e && *s == '<') {
        if (e - s < 2 || e[-1] != '>')
            FAIL("unbalanced '<'");
        s++;
        e--;
    } else if (s < e && e[-1] == '>') {
        FAIL("unbalanced '>'");
    }
    if (s == e) {
        *addr_r = strdup("");
        if (*addr_r == NULL)
            FAIL("out of memory");
        return 0;
    }
    if (*s == '@') { /* obsolete source route: "@a,@b:" */
        if ((cp = memchr(s, ':', (size_t)(e - s))) == NULL)
            FAIL("invalid source route");
        s = cp + 1;
    }
    if (addr_path_local(&s, e, local, &llen, error_r) < 0)
        return -1;
    if (s >= e || *s != '@')
        FAIL(s >= e ? "address has no domain" : "invalid local part");
    at = s;
    if (addr_path_domain(at + 1, e, error_r) < 0)
        return -1;
    if ((canon = addr_canon_local(local, llen)) == NULL)
        FAIL("out of memory");
    clen = strlen(canon);
    if (clen + (size_t)(e - at) > ADDR_MAX_ADDR) {
        free(canon);
        FAIL("address too long");
    }
    if ((*addr_r = malloc(clen + (size_t)(e - at) + 1)) == NULL) {
        free(canon);
        FAIL("out of memory");
    }
    memcpy(*addr_r, canon, clen);
    memcpy(*addr_r + clen, at, (size_t)(e - at));
    (*addr_r)[clen + (size_t)(e - at)] = '\0';
    free(canon);
    return 0;
}
