/*
 * NAME
 *	submit - login required and send-as rights on submission listeners
 * SYNOPSIS
 *	See include/submit.h.
 * DESCRIPTION
 *	One rule authorises both sending and signing: the engine signs only
 *	messages for which both checks here returned VERDICT_CONTINUE.
 *	Reply texts quote addresses cut to 200 bytes with anything but
 *	printable ASCII replaced, so an SMTP reply never carries raw input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "sender.h"
#include "submit.h"

/* safe_addr - an address cut and made printable for replies */
static const char *safe_addr(char *buf, size_t size, const char *addr)
{
    size_t i;

    snprintf(buf, size, "%.200s", addr);
    for (i = 0; buf[i]; i++)
        if ((unsigned char)buf[i] < 0x21 || (unsigned char)buf[i] >= 0x7f)
            buf[i] = '?';
    return buf;
}

/* submit_address_allowed - may login use address? */
static enum sender_verdict submit_address_allowed(const struct config *cfg, const char *login,
                                                  const char *address, const char **reason_r)
{
    struct sender_policy pol;

    if (cfg->sender_login_map == NULL) {
        *reason_r = "address is not the login (no SenderLoginMap)";
        return strcasecmp(login, address) == 0 ? SENDER_ALLOWED : SENDER_DENIED;
    }
    pol.map = cfg->sender_login_map;
    pol.delimiters = cfg->recipient_delimiter ? cfg->recipient_delimiter : "";
    pol.bare_localpart = cfg->sender_login_localpart;
    return sender_login_allowed(&pol, login, address, reason_r);
}

/* submit_check_mail - decide at MAIL FROM */
void submit_check_mail(const struct config *cfg, const char *login, const char *mail_from,
                       struct verdict *v, char *why, size_t whylen)
{
    const char *reason = "";
    char sa[256];

    v->action = VERDICT_CONTINUE;
    if (login == NULL || *login == '\0') {
        verdict_set(v, VERDICT_REJECT, "530", "5.7.0",
                    "Authentication required: log in before sending on this port");
        snprintf(why, whylen, "no SASL login on submission listener");
        return;
    }
    if (*mail_from == '\0') {
        if (cfg->null_sender_login == NULLSENDER_REJECT) {
            verdict_set(v, VERDICT_REJECT, "553", "5.7.1",
                        "Null sender <> not allowed for authenticated user %.100s",
                        safe_addr(sa, sizeof(sa), login));
            snprintf(why, whylen, "null sender refused (NullSenderLogin reject)");
        }
        return;
    }
    switch (submit_address_allowed(cfg, login, mail_from, &reason)) {
    case SENDER_ALLOWED:
        return;
    case SENDER_DENIED:
        verdict_set(v, VERDICT_REJECT, "553", "5.7.1",
                    "Sender address <%s> not owned by user %.100s",
                    safe_addr(sa, sizeof(sa), mail_from), login);
        snprintf(why, whylen, "envelope sender not allowed: %s", reason);
        return;
    case SENDER_ERROR:
        verdict_set(v, VERDICT_TEMPFAIL, "451", "4.3.0",
                    "Temporary lookup failure, try again later");
        snprintf(why, whylen, "sender login lookup failed: %s", reason);
        return;
    }
}

/* submit_check_one - check one header address; true when it ends the message */
static bool submit_check_one(const struct config *cfg, const char *login, const char *hname,
                             const char *address, struct verdict *v, char *why, size_t whylen)
{
    const char *reason = "";
    char sa[256];

    switch (submit_address_allowed(cfg, login, address, &reason)) {
    case SENDER_ALLOWED:
        return false;
    case SENDER_DENIED:
        verdict_set(v, VERDICT_REJECT, "553", "5.7.1", "%s address <%s> not owned by user %.100s",
                    hname, safe_addr(sa, sizeof(sa), address), login);
        snprintf(why, whylen, "%s address not allowed: %s", hname, reason);
        return true;
    case SENDER_ERROR:
    default:
        verdict_set(v, VERDICT_TEMPFAIL, "451", "4.3.0",
                    "Temporary lookup failure, try again later");
        snprintf(why, whylen, "sender login lookup failed: %s", reason);
        return true;
    }
}

/* submit_parse_one - parse a header into a list; true when it ends the message */
static bool submit_parse_one(const char *hname, const char *value, struct addr_list *list,
                             struct verdict *v, char *why, size_t whylen)
{
    const char *error = "";

    if (addr_parse_list(value, list, &error) < 0) {
        verdict_set(v, VERDICT_REJECT, "550", "5.6.0", "Malformed %s header: %s", hname, error);
        snprintf(why, whylen, "%s does not parse: %s", hname, error);
        return true;
    }
    if (list->n == 0) {
        verdict_set(v, VERDICT_REJECT, "550", "5.6.0", "%s header has no address", hname);
        snprintf(why, whylen, "%s has no mailbox", hname);
        return true;
    }
    return false;
}

/* submit_from_signable - may we sign for this From:? Only when the login
 *	may use every address in it (checked again when HeaderFromCheck is
 *	off: the message may go, but never with our signature). */
static bool submit_from_signable(const struct config *cfg, const char *login,
                                 const struct addr_list *fl, struct verdict *v, char *why,
                                 size_t whylen)
{
    const char *reason = "";
    size_t i;

    if (cfg->header_from_check)
        return true; /* already checked: every address is allowed */
    for (i = 0; i < fl->n; i++) {
        switch (submit_address_allowed(cfg, login, fl->v[i].addr, &reason)) {
        case SENDER_ALLOWED:
            continue;
        case SENDER_DENIED:
            return false;
        case SENDER_ERROR:
        default:
            verdict_set(v, VERDICT_TEMPFAIL, "451", "4.3.0",
                        "Temporary lookup failure, try again later");
            snprintf(why, whylen, "sender login lookup failed: %s", reason);
            return false;
        }
    }
    return true;
}

/* submit_check_headers - decide on From: and Sender: */
void submit_check_headers(const struct config *cfg, const char *login, const char *const *from,
                          size_t nfrom, const char *const *sender, size_t nsender,
                          struct verdict *v, char *why, size_t whylen, char **from_addr_r)
{
    struct addr_list fl = {0, NULL}, sl = {0, NULL};
    size_t i;

    v->action = VERDICT_CONTINUE;
    *from_addr_r = NULL;
    if (nfrom != 1) {
        verdict_set(v, VERDICT_REJECT, "550", "5.6.0",
                    nfrom ? "Message has more than one From: header"
                          : "Message has no From: header");
        snprintf(why, whylen, "%zu From: headers", nfrom);
        return;
    }
    if (nsender > 1) {
        verdict_set(v, VERDICT_REJECT, "550", "5.6.0", "Message has more than one Sender: header");
        snprintf(why, whylen, "%zu Sender: headers", nsender);
        return;
    }
    if (submit_parse_one("From:", from[0], &fl, v, why, whylen))
        goto out;
    if (nsender == 1) {
        if (submit_parse_one("Sender:", sender[0], &sl, v, why, whylen))
            goto out;
        if (sl.n != 1) {
            verdict_set(v, VERDICT_REJECT, "550", "5.6.0", "Sender: must hold one address");
            snprintf(why, whylen, "Sender: has %zu mailboxes", sl.n);
            goto out;
        }
    }
    for (i = 0; cfg->header_from_check && i < fl.n; i++)
        if (submit_check_one(cfg, login, "From:", fl.v[i].addr, v, why, whylen))
            goto out;
    if (cfg->sender_header_check && sl.n == 1 &&
        submit_check_one(cfg, login, "Sender:", sl.v[0].addr, v, why, whylen))
        goto out;
    if (submit_from_signable(cfg, login, &fl, v, why, whylen))
        *from_addr_r = addr_lower(fl.v[0].addr);
out:
    addr_list_free(&fl);
    addr_list_free(&sl);
}
