/*
 * NAME
 *	sender - may this SASL login use this address? (a pure function)
 * SYNOPSIS
 *	See include/sender.h.
 * DESCRIPTION
 *	The candidate keys are built in a fixed-size buffer on the stack, in
 *	the order of sender.h; the first key the map knows decides.  The
 *	local part is split at the last '@' (a quoted local part may hold
 *	one).  The extension is cut as Postfix's split_addr() does: at the
 *	first delimiter character, never when that is the first byte, never
 *	for postmaster or mailer-daemon, and, when '-' is a delimiter, never
 *	for owner-* or *-request.  With bare_localpart the local part is tried
 *	as is, then without its extension.
 *
 *	Reentrant: no globals, no I/O; the map is read only.
 * DIAGNOSTICS
 *	*reason_r is one of the static strings below.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "sender.h"

#define SENDER_MAX_ADDR 1024 /* longer addresses are never owned */
#define SENDER_LIST_SEP ", \t\r\n"

enum sender_step { STEP_NOTFOUND, STEP_DECIDED, STEP_ERROR };

/* sender_login_in_list - is login one of the comma/whitespace separated logins? */
static bool sender_login_in_list(const char *list, const char *login)
{
    size_t llen = strlen(login), n;

    for (;;) {
        list += strspn(list, SENDER_LIST_SEP);
        if (*list == '\0')
            return false;
        n = strcspn(list, SENDER_LIST_SEP);
        if (n == llen && strncasecmp(list, login, n) == 0)
            return true;
        list += n;
    }
}

/* sender_try - look key up; on a hit decide the verdict */
static enum sender_step sender_try(const struct map *map, const char *key, const char *login,
                                   enum sender_verdict *verdict, const char **reason_r)
{
    const char *value;

    switch (map_lookup(map, key, &value)) {
    case MAP_NOTFOUND:
        return STEP_NOTFOUND;
    case MAP_FOUND:
        if (sender_login_in_list(value, login)) {
            *verdict = SENDER_ALLOWED;
            *reason_r = "address owned by login";
        } else {
            *verdict = SENDER_DENIED;
            *reason_r = "address owned by another login";
        }
        return STEP_DECIDED;
    case MAP_ERROR:
    default:
        *verdict = SENDER_ERROR;
        *reason_r = "login map lookup failed";
        return STEP_ERROR;
    }
}

/* sender_ext_len - length of local (llen bytes) without its extension */
static size_t sender_ext_len(const char *local, size_t llen, const char *delimiters)
{
    size_t cut;

    if (delimiters == NULL || *delimiters == '\0')
        return llen;
    if ((llen == 10 && strncasecmp(local, "postmaster", 10) == 0) ||
        (llen == 13 && strncasecmp(local, "mailer-daemon", 13) == 0))
        return llen;
    if (strchr(delimiters, '-') != NULL &&
        ((llen >= 6 && strncasecmp(local, "owner-", 6) == 0) ||
         (llen > 8 && strncasecmp(local + llen - 8, "-request", 8) == 0)))
        return llen;
    for (cut = 0; cut < llen; cut++)
        if (strchr(delimiters, local[cut]) != NULL)
            break;
    return cut == 0 ? llen : cut;
}

/* sender_login_allowed - decide whether login may use address */
enum sender_verdict sender_login_allowed(const struct sender_policy *pol, const char *login,
                                         const char *address, const char **reason_r)
{
    enum sender_verdict verdict = SENDER_DENIED;
    char key[SENDER_MAX_ADDR + 2];
    const char *at;
    size_t alen, llen, blen;

    if (pol == NULL || pol->map == NULL) {
        *reason_r = "no login map";
        return SENDER_ERROR;
    }
    if (login == NULL || *login == '\0') {
        *reason_r = "empty login";
        return SENDER_DENIED;
    }
    if (address == NULL || *address == '\0') {
        *reason_r = "null sender has no owner";
        return SENDER_DENIED;
    }
    if ((at = strrchr(address, '@')) == NULL || at[1] == '\0') {
        *reason_r = "address has no domain";
        return SENDER_DENIED;
    }
    if ((alen = strlen(address)) > SENDER_MAX_ADDR) {
        *reason_r = "address too long";
        return SENDER_DENIED;
    }
    llen = (size_t)(at - address);
    blen = sender_ext_len(address, llen, pol->delimiters);

    /* 1. the full address */
    if (sender_try(pol->map, address, login, &verdict, reason_r) != STEP_NOTFOUND)
        return verdict;
    /* 2. without the extension */
    if (blen < llen) {
        memcpy(key, address, blen);
        memcpy(key + blen, at, alen - llen + 1);
        if (sender_try(pol->map, key, login, &verdict, reason_r) != STEP_NOTFOUND)
            return verdict;
    }
    /* 3. the bare local part, with then without the extension */
    if (pol->bare_localpart && llen > 0) {
        memcpy(key, address, llen);
        key[llen] = '\0';
        if (sender_try(pol->map, key, login, &verdict, reason_r) != STEP_NOTFOUND)
            return verdict;
        key[blen] = '\0';
        if (blen < llen && sender_try(pol->map, key, login, &verdict, reason_r) != STEP_NOTFOUND)
            return verdict;
    }
    /* 4. @domain */
    if (sender_try(pol->map, at, login, &verdict, reason_r) != STEP_NOTFOUND)
        return verdict;
    *reason_r = "address not owned by login";
    return SENDER_DENIED;
}
