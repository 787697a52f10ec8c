/*
 * NAME
 *	msg - connection and message contexts: the engine behind the callbacks
 * SYNOPSIS
 *	#include "msg.h"
 *
 *	struct conn *conn_new(struct config *cfg, const char *client_ip,
 *			const char *client_host, const char *daemon_name,
 *			const char *host_macro);
 *	void	conn_helo(struct conn *c, const char *helo);
 *	void	conn_free(struct conn **c);
 *
 *	void	msg_mail(struct conn *c, const char *mail_from, const char *login,
 *			struct verdict *v);
 *	void	msg_rcpt(struct conn *c, const char *rcpt);
 *	void	msg_header(struct conn *c, const char *name, const char *value);
 *	void	msg_eoh(struct conn *c);
 *	void	msg_body(struct conn *c, const unsigned char *buf, size_t len);
 *	void	msg_eom(struct conn *c, const char *queue_id, struct verdict *v,
 *			struct edits *e);
 *	void	msg_abort(struct conn *c);
 * DESCRIPTION
 *	Knows nothing of libmilter: the callbacks module (and -t mode) feed
 *	it.  A conn holds one config snapshot from connect to close.  A
 *	message starts at msg_mail() and ends at msg_eom() or msg_abort();
 *	all its memory hangs off the conn and is freed there.  Header values
 *	are passed as the raw text after the colon (leading white space
 *	kept), folded with LF.  A verdict of VERDICT_CONTINUE means "no
 *	answer yet"; anything else ends the message.  Every decision is logged
 *	once, at the end of the message (or at MAIL when refused there).
 *
 *	msg_eom() fills e with header edits to apply in order: deletions
 *	(by name and 1-based occurrence index, highest index first) and
 *	insertions (at index 0, in the order listed: the first listed ends
 *	up lowest, the last listed on top).
 */
#ifndef AM_MSG_H
#define AM_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum verdict_action {
    VERDICT_CONTINUE,
    VERDICT_ACCEPT,
    VERDICT_REJECT,
    VERDICT_TEMPFAIL,
    VERDICT_QUARANTINE,
};

struct verdict {
    enum verdict_action action;
    char rcode[4];  /* "553" */
    char xcode[8];  /* "5.7.1" */
    char text[512]; /* SMTP reply text, safe ASCII */
};

enum edit_op { EDIT_INSERT, EDIT_DELETE };

struct edit {
    enum edit_op op;
    int index;   /* EDIT_DELETE: 1-based occurrence; EDIT_INSERT: position */
    char *name;  /* header name */
    char *value; /* EDIT_INSERT: value, LF folded, no leading space */
};

struct edits {
    size_t n, size;
    struct edit *v;
};

struct conn;

struct conn *conn_new(struct config *cfg, const char *client_ip, const char *client_host,
                      const char *daemon_name, const char *host_macro);
void conn_helo(struct conn *c, const char *helo);
void conn_free(struct conn **c);
bool conn_is_submission(const struct conn *c);
void conn_set_tracing(struct conn *c, bool on);

void msg_mail(struct conn *c, const char *mail_from, const char *login, struct verdict *v);
void msg_rcpt(struct conn *c, const char *rcpt);
void msg_header(struct conn *c, const char *name, const char *value);
void msg_fail(struct conn *c, const char *why);
void msg_eoh(struct conn *c);
void msg_body(struct conn *c, const unsigned char *buf, size_t len);
void msg_eom(struct conn *c, const char *queue_id, struct verdict *v, struct edits *e);
void msg_abort(struct conn *c);

/* the lines that explain each decision, for -t (NULL-terminated, owned by c) */
const char *const *msg_trace(const struct conn *c);

void edits_clear(struct edits *e);
void verdict_set(struct verdict *v, enum verdict_action action, const char *rcode,
                 const char *xcode, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
