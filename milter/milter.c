/*
 * NAME
 *	milter - libmilter callbacks, thin: each calls one engine function
 * SYNOPSIS
 *	See include/milter.h.
 * DESCRIPTION
 *	Per connection the private data is a struct glue: the engine's conn
 *	plus what was negotiated.  close may come without connect, and abort
 *	at any time: both are NULL-safe.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "log.h"
#include "milter.h"
#include "msg.h"

#define MILTER_MAX_DATA (1024 * 1024)

struct glue {
    struct conn *conn;
    unsigned long pflags; /* negotiated SMFIP_* */
};

/* glue_of - the private data, or NULL */
static struct glue *glue_of(SMFICTX *ctx)
{
    return (struct glue *)smfi_getpriv(ctx);
}

/* noreply - the answer for an event negotiated as "no reply" */
static sfsistat noreply(SMFICTX *ctx, unsigned long flag)
{
    struct glue *g = glue_of(ctx);

    return g && (g->pflags & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* reply - map a verdict to libmilter */
static sfsistat reply(SMFICTX *ctx, const struct verdict *v)
{
    switch (v->action) {
    case VERDICT_CONTINUE:
        return SMFIS_CONTINUE;
    case VERDICT_ACCEPT:
        return SMFIS_ACCEPT;
    case VERDICT_QUARANTINE:
        if (smfi_quarantine(ctx, (char *)v->text) != MI_SUCCESS) {
            log_err("smfi_quarantine failed");
            return SMFIS_TEMPFAIL;
        }
        return SMFIS_ACCEPT;
    case VERDICT_REJECT:
    case VERDICT_TEMPFAIL:
        if (*v->rcode &&
            smfi_setreply(ctx, (char *)v->rcode, (char *)v->xcode, (char *)v->text) != MI_SUCCESS)
            log_warn("smfi_setreply failed for %s %s", v->rcode, v->xcode);
        return v->action == VERDICT_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
    }
    return SMFIS_TEMPFAIL;
}

/* cb_negotiate - ask only for what the engine uses */
static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
    unsigned long want_nr =
        SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;
    unsigned long want_skip = SMFIP_NORCPT | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_HDR_LEADSPC;
    struct glue *g;

    (void)f2;
    (void)f3;
    *pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE);
    *pf1 = f1 & (want_nr | want_skip);
    *pf2 = *pf3 = 0;
    if ((g = calloc(1, sizeof(*g))) == NULL)
        return SMFIS_TEMPFAIL;
    g->pflags = *pf1;
    smfi_setpriv(ctx, g);
    return SMFIS_CONTINUE;
}

/* cb_connect - make the connection context */
static sfsistat cb_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    struct glue *g = glue_of(ctx);
    struct config *cfg;
    char ip[INET6_ADDRSTRLEN + 8] = "";

    if (g == NULL) { /* MTA without negotiation */
        if ((g = calloc(1, sizeof(*g))) == NULL)
            return SMFIS_TEMPFAIL;
        smfi_setpriv(ctx, g);
    }
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, ip, sizeof(ip));
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, ip, sizeof(ip));
    cfg = config_current();
    conn_free(&g->conn);
    g->conn =
        conn_new(cfg, ip, host, smfi_getsymval(ctx, "{daemon_name}"), smfi_getsymval(ctx, "j"));
    config_unref(&cfg);
    if (g->conn == NULL)
        return SMFIS_TEMPFAIL;
    return noreply(ctx, SMFIP_NR_CONN);
}

/* cb_helo - remember HELO */
static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
    struct glue *g = glue_of(ctx);

    if (g && g->conn)
        conn_helo(g->conn, helo);
    return noreply(ctx, SMFIP_NR_HELO);
}

/* cb_envfrom - start a message; the first answer the MTA waits for */
static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
    struct glue *g = glue_of(ctx);
    struct verdict v;

    if (g == NULL || g->conn == NULL)
        return SMFIS_TEMPFAIL;
    msg_mail(g->conn, argv && argv[0] ? argv[0] : "", smfi_getsymval(ctx, "{auth_authen}"), &v);
    return reply(ctx, &v);
}

/* cb_header - hand one header to the engine */
static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
    struct glue *g = glue_of(ctx);

    if (g == NULL || g->conn == NULL)
        return SMFIS_TEMPFAIL;
    if (g->pflags & SMFIP_HDR_LEADSPC) {
        msg_header(g->conn, name, value);
    } else {
        size_t len = strlen(value);
        char *raw = malloc(len + 2);

        if (raw == NULL) { /* no reply possible here: fail the message at EOM */
            msg_fail(g->conn, "out of memory taking a header");
            return noreply(ctx, SMFIP_NR_HDR);
        }
        raw[0] = ' ';
        memcpy(raw + 1, value, len + 1);
        msg_header(g->conn, name, raw);
        free(raw);
    }
    return noreply(ctx, SMFIP_NR_HDR);
}

/* cb_eoh - end of headers */
static sfsistat cb_eoh(SMFICTX *ctx)
{
    struct glue *g = glue_of(ctx);

    if (g == NULL || g->conn == NULL)
        return SMFIS_TEMPFAIL;
    msg_eoh(g->conn);
    return noreply(ctx, SMFIP_NR_EOH);
}

/* cb_body - stream a body chunk */
static sfsistat cb_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
    struct glue *g = glue_of(ctx);

    if (g == NULL || g->conn == NULL)
        return SMFIS_TEMPFAIL;
    msg_body(g->conn, buf, len);
    return noreply(ctx, SMFIP_NR_BODY);
}

/* apply_edits - perform header edits; -1 when libmilter refused one */
static int apply_edits(SMFICTX *ctx, const struct glue *g, const struct edits *e)
{
    size_t i;

    for (i = 0; i < e->n; i++) {
        const struct edit *ed = &e->v[i];
        int rc;

        if (ed->op == EDIT_DELETE) {
            rc = smfi_chgheader(ctx, ed->name, ed->index, NULL);
        } else if (g->pflags & SMFIP_HDR_LEADSPC) {
            char *sp;

            if (asprintf(&sp, " %s", ed->value) < 0)
                return -1;
            rc = smfi_insheader(ctx, ed->index, ed->name, sp);
            free(sp);
        } else {
            rc = smfi_insheader(ctx, ed->index, ed->name, ed->value);
        }
        if (rc != MI_SUCCESS) {
            log_err("header edit %s %s[%d] failed", ed->op == EDIT_DELETE ? "delete" : "insert",
                    ed->name, ed->index);
            return -1;
        }
    }
    return 0;
}

/* cb_eom - end of message: verdict, edits, log */
static sfsistat cb_eom(SMFICTX *ctx)
{
    struct glue *g = glue_of(ctx);
    struct edits e = {0, 0, NULL};
    struct verdict v;
    sfsistat rc;

    if (g == NULL || g->conn == NULL)
        return SMFIS_TEMPFAIL;
    msg_eom(g->conn, smfi_getsymval(ctx, "i"), &v, &e);
    if ((v.action == VERDICT_ACCEPT || v.action == VERDICT_QUARANTINE) &&
        apply_edits(ctx, g, &e) < 0)
        verdict_set(&v, VERDICT_TEMPFAIL, "451", "4.3.0", "Internal error, try again later");
    rc = reply(ctx, &v);
    edits_clear(&e);
    return rc;
}

/* cb_abort - the message ended early */
static sfsistat cb_abort(SMFICTX *ctx)
{
    struct glue *g = glue_of(ctx);

    if (g && g->conn)
        msg_abort(g->conn);
    return SMFIS_CONTINUE;
}

/* cb_close - free everything of the connection */
static sfsistat cb_close(SMFICTX *ctx)
{
    struct glue *g = glue_of(ctx);

    if (g) {
        conn_free(&g->conn);
        free(g);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

static struct smfiDesc milter_desc = {
    .xxfi_name = "authmilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
    .xxfi_connect = cb_connect,
    .xxfi_helo = cb_helo,
    .xxfi_envfrom = cb_envfrom,
    .xxfi_header = cb_header,
    .xxfi_eoh = cb_eoh,
    .xxfi_body = cb_body,
    .xxfi_eom = cb_eom,
    .xxfi_abort = cb_abort,
    .xxfi_close = cb_close,
    .xxfi_negotiate = cb_negotiate,
};

/* milter_socket_path - the file of a unix socket spec, or NULL */
const char *milter_socket_path(const char *socket)
{
    if (strncmp(socket, "unix:", 5) == 0)
        return socket + 5;
    if (strncmp(socket, "local:", 6) == 0)
        return socket + 6;
    return NULL;
}

/* milter_socket_live - does something answer on this unix socket? */
static int milter_socket_live(const char *path)
{
    struct sockaddr_un sun;
    int fd, live;

    if (strlen(path) >= sizeof(sun.sun_path))
        return 0;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
        return 0;
    live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    close(fd);
    return live;
}

/* setup_error - format a set-up error; returns -1 */
static int setup_error(char **error_r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(error_r, fmt, ap) < 0)
        *error_r = NULL;
    va_end(ap);
    return -1;
}

/* milter_setup - register and open the socket */
int milter_setup(const char *socket, mode_t umask_value, char **error_r)
{
    const char *path = milter_socket_path(socket);
    mode_t old;
    int rc;

    *error_r = NULL;
    if (path) {
        struct stat st;

        if (lstat(path, &st) == 0) {
            if (!S_ISSOCK(st.st_mode))
                return setup_error(error_r, "%s exists and is not a socket", path);
            if (milter_socket_live(path))
                return setup_error(error_r, "%s: another milter is listening there", path);
            if (unlink(path) < 0)
                return setup_error(error_r, "cannot remove stale socket %s: %s", path,
                                   strerror(errno));
            log_info("removed stale socket %s", path);
        }
    }
    if (smfi_register(milter_desc) == MI_FAILURE)
        return setup_error(error_r, "smfi_register failed");
    if (smfi_setconn((char *)socket) == MI_FAILURE)
        return setup_error(error_r, "smfi_setconn %s failed", socket);
    smfi_setmaxdatasize(MILTER_MAX_DATA);
    smfi_settimeout(300);
    old = umask(umask_value);
    rc = smfi_opensocket(0);
    umask(old);
    if (rc == MI_FAILURE)
        return setup_error(error_r, "cannot open socket %s (in use, or bad address?)", socket);
    return 0;
}

/* milter_run - serve until milter_stop() */
int milter_run(void)
{
    return smfi_main() == MI_SUCCESS ? 0 : -1;
}

/* milter_stop - make milter_run() return */
void milter_stop(void)
{
    smfi_stop();
}
