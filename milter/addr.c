/*
 * NAME
 *	addr - RFC 5322 address-list parsing
 * SYNOPSIS
 *	See include/addr.h.
 * DESCRIPTION
 *	addr_parse_list() works in three flat passes, none recursive, each
 *	linear in the input (at most ADDR_MAX_VALUE bytes):
 *
 *	1. unfold: drop the CRLF/LF of every folding point; refuse NUL, bare
 *	   CR and a line break that is not followed by whitespace
 *	   (addr_unfold, milter/addr_lex.c);
 *	2. tokenize: atoms, quoted strings (decoded), domain literals and the
 *	   specials < > @ , ; : . - comments are skipped with an iterative
 *	   depth counter bounded by ADDR_MAX_DEPTH (addr_tokenize,
 *	   milter/addr_lex.c);
 *	3. parse the token array with a small state machine (this file):
 *	   address-list of mailboxes and groups (flattened; nested groups
 *	   are refused), obsolete empty list elements, obs-phrase display
 *	   names, source routes inside angle brackets (dropped).
 *
 *	RFC 2047 encoded words are atoms in a display name; the display name
 *	is validated and discarded, so they need no decoding.
 *
 *	addr_parse_path() (the MAIL FROM path) is in milter/addr_path.c;
 *	what the files share is in include/addr_int.h.
 *
 *	Thread safe: no static data besides constant strings.
 * DIAGNOSTICS
 *	-1 and a static reason in *error_r for anything but a valid address
 *	list; "out of memory" when malloc fails.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "addr_int.h"

/* addr_push - append one parsed mailbox to the list */
static int addr_push(struct addr_list *list, const char *raw_local, size_t local_len,
                     const char *domain, size_t domain_len, const char **error_r)
{
    struct addr *a, *nv;
    size_t llen;

    if (list->n >= ADDR_MAX_LIST)
        FAIL("too many addresses");
    if ((nv = realloc(list->v, (list->n + 1) * sizeof(*nv))) == NULL)
        FAIL("out of memory");
    list->v = nv;
    a = &list->v[list->n];
    memset(a, 0, sizeof(*a));
    if ((a->local = addr_canon_local(raw_local, local_len)) == NULL)
        FAIL("out of memory");
    llen = strlen(a->local);
    if (llen + 1 + domain_len > ADDR_MAX_ADDR) {
        free(a->local);
        FAIL("address too long");
    }
    a->domain = malloc(domain_len + 1);
    a->addr = malloc(llen + 1 + domain_len + 1);
    if (a->domain == NULL || a->addr == NULL) {
        free(a->local);
        free(a->domain);
        free(a->addr);
        FAIL("out of memory");
    }
    memcpy(a->domain, domain, domain_len);
    a->domain[domain_len] = '\0';
    memcpy(a->addr, a->local, llen);
    a->addr[llen] = '@';
    memcpy(a->addr + llen + 1, domain, domain_len);
    a->addr[llen + 1 + domain_len] = '\0';
    list->n++;
    return 0;
}

/* addr_is_special - is token a given special? */
static bool addr_is_special(const struct tok *tk, char ch)
{
    return tk->type == T_SPECIAL && tk->ch == ch;
}

/* addr_is_word - atom or quoted string */
static bool addr_is_word(const struct tok *tk)
{
    return tk->type == T_ATOM || tk->type == T_QSTR;
}

/* addr_join_local - join word *("." word) tokens [from, to) into buf */
static int addr_join_local(const struct toks *t, size_t from, size_t to, char *buf, size_t *len_r,
                           const char **error_r)
{
    size_t i, n = 0;

    if (from == to)
        FAIL("missing local part");
    for (i = from; i < to; i++) {
        const struct tok *tk = &t->v[i];
        bool want_word = (i - from) % 2 == 0;

        if (want_word && !addr_is_word(tk))
            FAIL("invalid local part");
        if (!want_word && !addr_is_special(tk, '.'))
            FAIL("invalid local part");
        if (n + tk->len > ADDR_MAX_ADDR)
            FAIL("address too long");
        memcpy(buf + n, tk->p, tk->len);
        n += tk->len;
    }
    if ((to - from) % 2 == 0)
        FAIL("invalid local part");
    *len_r = n;
    return 0;
}

/* addr_parse_domain - parse a domain at t->v[*ip] into buf */
static int addr_parse_domain(const struct toks *t, size_t *ip, char *buf, size_t *len_r,
                             const char **error_r)
{
    size_t i = *ip, n = 0;

    if (t->v[i].type == T_DLIT) {
        if (t->v[i].len > ADDR_MAX_ADDR)
            FAIL("address too long");
        memcpy(buf, t->v[i].p, t->v[i].len);
        *len_r = t->v[i].len;
        *ip = i + 1;
        return 0;
    }
    for (;;) {
        if (t->v[i].type == T_QSTR)
            FAIL("quoted string in domain");
        if (t->v[i].type != T_ATOM)
            FAIL(n == 0 ? "missing domain" : "invalid domain");
        if (n + t->v[i].len + 1 > ADDR_MAX_ADDR)
            FAIL("address too long");
        memcpy(buf + n, t->v[i].p, t->v[i].len);
        n += t->v[i].len;
        i++;
        if (!addr_is_special(&t->v[i], '.'))
            break;
        buf[n++] = '.';
        i++;
    }
    *len_r = n;
    *ip = i;
    return 0;
}

/* addr_parse_addr_spec - local part tokens [from, at) then "@" domain; push it */
static int addr_parse_addr_spec(const struct toks *t, size_t from, size_t *ip,
                                struct addr_list *list, const char **error_r)
{
    char local[ADDR_MAX_ADDR + 1], domain[ADDR_MAX_ADDR + 1];
    size_t llen, dlen, at = *ip;

    if (!addr_is_special(&t->v[at], '@'))
        FAIL(t->v[at].type == T_END || addr_is_special(&t->v[at], ',') ||
                     addr_is_special(&t->v[at], ';') || addr_is_special(&t->v[at], '>')
                 ? "address has no domain"
                 : "invalid local part");
    if (addr_join_local(t, from, at, local, &llen, error_r) < 0)
        return -1;
    *ip = at + 1;
    if (addr_parse_domain(t, ip, domain, &dlen, error_r) < 0)
        return -1;
    return addr_push(list, local, llen, domain, dlen, error_r);
}

/* addr_skip_route - skip an obsolete source route "@a,@b:" inside angle brackets */
static int addr_skip_route(const struct toks *t, size_t *ip, const char **error_r)
{
    char scratch[ADDR_MAX_ADDR + 1];
    size_t i = *ip, dlen;

    if (!addr_is_special(&t->v[i], '@'))
        return 0;
    for (;;) {
        i++; /* the '@' */
        if (addr_parse_domain(t, &i, scratch, &dlen, error_r) < 0)
            return -1;
        while (addr_is_special(&t->v[i], ','))
            i++;
        if (addr_is_special(&t->v[i], ':'))
            break;
        if (!addr_is_special(&t->v[i], '@'))
            FAIL("invalid source route");
    }
    *ip = i + 1;
    return 0;
}

/* addr_parse_angle - "<" [route] addr-spec ">" at t->v[*ip] */
static int addr_parse_angle(const struct toks *t, size_t *ip, struct addr_list *list,
                            const char **error_r)
{
    size_t i = *ip + 1, from;

    if (addr_is_special(&t->v[i], '>'))
        FAIL("empty address <>");
    if (addr_skip_route(t, &i, error_r) < 0)
        return -1;
    from = i;
    while (addr_is_word(&t->v[i]) || addr_is_special(&t->v[i], '.'))
        i++;
    if (addr_parse_addr_spec(t, from, &i, list, error_r) < 0)
        return -1;
    if (addr_is_special(&t->v[i], '@'))
        FAIL("more than one '@' in address");
    if (!addr_is_special(&t->v[i], '>'))
        FAIL(t->v[i].type == T_END ? "unbalanced '<'" : "invalid text inside <>");
    *ip = i + 1;
    return 0;
}

/* addr_after_mailbox - check what follows a mailbox: ',' ';' or the end */
static int addr_after_mailbox(const struct tok *tk, bool in_group, const char **error_r)
{
    if (tk->type == T_END || addr_is_special(tk, ','))
        return 0;
    if (addr_is_special(tk, ';')) {
        if (in_group)
            return 0;
        FAIL("unexpected ';'");
    }
    if (addr_is_special(tk, '<'))
        FAIL("more than one address in mailbox");
    if (addr_is_special(tk, '@'))
        FAIL("more than one '@' in address");
    if (addr_is_special(tk, '>'))
        FAIL("unbalanced '>'");
    FAIL("unexpected text after address");
}

/* addr_parse_tokens - the address-list state machine */
static int addr_parse_tokens(const struct toks *t, struct addr_list *list, const char **error_r)
{
    size_t i = 0, from, elements = 0;
    bool in_group = false;

    for (;;) {
        while (addr_is_special(&t->v[i], ','))
            i++;
        if (t->v[i].type == T_END)
            break;
        if (addr_is_special(&t->v[i], ';')) {
            if (!in_group)
                FAIL("unexpected ';'");
            in_group = false;
            i++;
            if (t->v[i].type != T_END && !addr_is_special(&t->v[i], ','))
                FAIL("unexpected text after group");
            continue;
        }
        /* phrase: display name, group name or local part */
        from = i;
        while (addr_is_word(&t->v[i]) || addr_is_special(&t->v[i], '.'))
            i++;
        if (addr_is_special(&t->v[i], ':')) {
            if (in_group)
                FAIL("nested group");
            if (i == from || !addr_is_word(&t->v[from]))
                FAIL("invalid group name");
            in_group = true;
            elements++;
            i++;
            continue;
        }
        if (addr_is_special(&t->v[i], '<')) {
            if (i > from && !addr_is_word(&t->v[from]))
                FAIL("invalid display name");
            if (addr_parse_angle(t, &i, list, error_r) < 0)
                return -1;
        } else if (addr_is_special(&t->v[i], '>')) {
            FAIL("unbalanced '>'");
        } else if (i == from && t->v[i].type == T_DLIT) {
            FAIL("domain literal without local part");
        } else if (addr_parse_addr_spec(t, from, &i, list, error_r) < 0) {
            return -1;
        }
        elements++;
        if (addr_after_mailbox(&t->v[i], in_group, error_r) < 0)
            return -1;
    }
    if (in_group)
        FAIL("unterminated group (missing ';')");
    if (elements == 0)
        FAIL("empty address list");
    return 0;
}

/* addr_parse_list_n - parse an address list of len bytes (may hold NUL) */
int addr_parse_list_n(const char *value, size_t len, struct addr_list *list_r, const char **error_r)
{
    struct toks t = {NULL, 0, 0};
    char *buf = NULL, *qbuf = NULL;
    size_t ulen;
    int rc = -1;

    list_r->n = 0;
    list_r->v = NULL;
    if (value == NULL) {
        *error_r = "no header value";
        return -1;
    }
    if (len > ADDR_MAX_VALUE) {
        *error_r = "header value too long";
        return -1;
    }
    /* qbuf: decoded quoted strings, plus 2 bytes of brackets per literal */
    if ((buf = malloc(len + 1)) == NULL || (qbuf = malloc(2 * len + 2)) == NULL) {
        *error_r = "out of memory";
        goto out;
    }
    if (addr_unfold(value, len, buf, &ulen, error_r) < 0 ||
        addr_tokenize(buf, ulen, qbuf, &t, error_r) < 0 ||
        addr_parse_tokens(&t, list_r, error_r) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0)
        addr_list_free(list_r);
    free(t.v);
    free(buf);
    free(qbuf);
    return rc;
}

/* addr_parse_list - parse a NUL-terminated header value */
int addr_parse_list(const char *value, struct addr_list *list_r, const char **error_r)
{
    size_t len = value ? strnlen(value, ADDR_MAX_VALUE + 1) : 0;

    return addr_parse_list_n(value, len, list_r, error_r);
}

/* addr_list_free - free the mailboxes of a list, leave it empty */
void addr_list_free(struct addr_list *list)
{
    size_t i;

    if (list == NULL)
        return;
    for (i = 0; i < list->n; i++) {
        free(list->v[i].addr);
        free(list->v[i].local);
        free(list->v[i].domain);
    }
    free(list->v);
    list->v = NULL;
    list->n = 0;
}

/* addr_lower - new ASCII lower-case copy, NULL when out of memory */
char *addr_lower(const char *addr)
{
    size_t i, len;
    char *out;

    if (addr == NULL)
        return NULL;
    len = strlen(addr);
    if ((out = malloc(len + 1)) == NULL)
        return NULL;
    for (i = 0; i <= len; i++)
        out[i] = (addr[i] >= 'A' && addr[i] <= 'Z') ? (char)(addr[i] - 'A' + 'a') : addr[i];
    return out;
}
