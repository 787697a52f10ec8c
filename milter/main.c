/*
 * NAME
 *	authmilter - authenticated submission, DKIM signing, SPF/DKIM/DMARC
 * SYNOPSIS
 *	authmilter [-c FILE] [-f]		run the daemon
 *	authmilter [-c FILE] -n [--check-dns]	check the configuration (and DNS keys)
 *	authmilter [-c FILE] -t MESSAGE [--client-ip IP] [--helo NAME]
 *		[--mail-from ADDR] [--rcpt ADDR]... [--login LOGIN]
 *		[--daemon-name NAME]		offline run of one message
 *	authmilter -V				version
 * DESCRIPTION
 *	Start-up order: read the configuration and everything it names (as
 *	root, so keys may stay root-only), open the milter socket, go to the
 *	background, write the pid file, drop privileges, then serve.
 *
 *	libmilter's own signal thread takes SIGHUP as "stop".  The main thread
 *	therefore blocks HUP, TERM and INT before any thread exists, starts
 *	libmilter's main loop in a thread of its own and waits in sigwait(): Linux hands
 *	a process-directed signal to the main thread first when it waits for
 *	it.  The main thread takes SIGHUP with a handler, unblocked there
 *	alone, so a HUP is never handed to libmilter's thread; the handler
 *	wakes a reload thread through a pipe (a bad new configuration is
 *	logged and the old one kept; HUPs during a reload collapse into one
 *	more).  TERM and INT stop.
 * DIAGNOSTICS
 *	Start-up problems print one line and exit 1 (EX_CONFIG-like);
 *	-n prints "file:line: reason".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "am_config.h"
#include "config.h"
#include "keycheck.h"
#include "log.h"
#include "milter.h"
#include "testmode.h"

#define DEFAULT_CONFIG AM_SYSCONFDIR "/authmilter.conf"

enum {
    OPT_CLIENT_IP = 256,
    OPT_HELO,
    OPT_MAIL_FROM,
    OPT_RCPT,
    OPT_LOGIN,
    OPT_DAEMON,
    OPT_QID,
    OPT_HOST,
    OPT_KEYS,
    OPT_CHECK_DNS
};

static const struct option long_opts[] = {
    {"client-ip", required_argument, NULL, OPT_CLIENT_IP},
    {"client-host", required_argument, NULL, OPT_HOST},
    {"helo", required_argument, NULL, OPT_HELO},
    {"mail-from", required_argument, NULL, OPT_MAIL_FROM},
    {"rcpt", required_argument, NULL, OPT_RCPT},
    {"login", required_argument, NULL, OPT_LOGIN},
    {"daemon-name", required_argument, NULL, OPT_DAEMON},
    {"queue-id", required_argument, NULL, OPT_QID},
    {"list-keys", no_argument, NULL, OPT_KEYS},
    {"check-dns", no_argument, NULL, OPT_CHECK_DNS},
    {NULL, 0, NULL, 0},
};

/* usage - print the synopsis and exit */
static void usage(void)
{
    fprintf(stderr, "usage: authmilter [-c FILE] [-f]\n"
                    "       authmilter [-c FILE] -n [--check-dns]\n"
                    "       authmilter [-c FILE] -t MESSAGE [--client-ip IP] [--helo NAME]\n"
                    "                  [--mail-from ADDR] [--rcpt ADDR]... [--login LOGIN]\n"
                    "                  [--daemon-name NAME]\n"
                    "       authmilter --list-keys | -V\n");
    exit(1);
}

/* write_pidfile - record our pid */
static int write_pidfile(const char *path)
{
    FILE *fp = fopen(path, "w");

    if (fp == NULL || fprintf(fp, "%ld\n", (long)getpid()) < 0 || fclose(fp) != 0) {
        log_warn_errno("cannot write pid file %s", path);
        return -1;
    }
    return 0;
}

/* drop_privileges - become user[:group]; fatal on failure */
static int drop_privileges(const char *spec, const char *sockpath)
{
    char user[256];
    const char *colon = strchr(spec, ':');
    struct passwd *pw;
    struct group *gr;
    gid_t gid;

    snprintf(user, sizeof(user), "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
    if ((pw = getpwnam(user)) == NULL)
        return log_err("UserID: unknown user %s", user), -1;
    gid = pw->pw_gid;
    if (colon) {
        if ((gr = getgrnam(colon + 1)) == NULL)
            return log_err("UserID: unknown group %s", colon + 1), -1;
        gid = gr->gr_gid;
    }
    if (sockpath && chown(sockpath, pw->pw_uid, gid) < 0)
        log_warn_errno("chown %s", sockpath);
    if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0)
        return log_warn_errno("cannot become %s", spec), -1;
    if (pw->pw_uid != 0 && setuid(0) == 0)
        return log_err("privileges could be regained after dropping them"), -1;
    return 0;
}

/* milter_thread - run libmilter's loop */
static void *milter_thread(void *arg)
{
    int *rc = arg;

    *rc = milter_run();
    kill(getpid(), SIGTERM); /* wake the main thread if the loop ended by itself */
    return NULL;
}

/* reload - SIGHUP: read the configuration again, keep the old one on error */
static void reload(const char *path)
{
    char *error = NULL;
    struct config *cfg = config_load(path, &error);

    if (cfg == NULL) {
        log_err("reload failed, keeping the running configuration: %s", error ? error : "?");
        free(error);
        return;
    }
    config_install(cfg);
    log_info("configuration reloaded from %s", path);
}

static int reload_pipe[2] = {-1, -1};

/* on_hup - SIGHUP handler (main thread only): wake the reload thread */
static void on_hup(int sig)
{
    int saved = errno;

    (void)sig;
    if (write(reload_pipe[1], "h", 1) < 0) {
        /* pipe full: a reload is already pending */
    }
    errno = saved;
}

/* reload_thread - run reloads off the main thread; HUPs that come during
 *	a reload collapse into one more; ends when the pipe is closed */
static void *reload_thread(void *arg)
{
    const char *path = arg;
    char buf[64];
    ssize_t n;

    while ((n = read(reload_pipe[0], buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        reload(path);
    }
    return NULL;
}

/* hup_setup - SIGHUP reaches only the main thread, through on_hup */
static int hup_setup(void)
{
    struct sigaction sa;
    sigset_t hup;

    if (fcntl(reload_pipe[1], F_SETFL, O_NONBLOCK) < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART | SA_NODEFER; /* never blocked, even inside on_hup */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGHUP, &sa, NULL) < 0)
        return -1;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    return pthread_sigmask(SIG_UNBLOCK, &hup, NULL) == 0 ? 0 : -1;
}

/* hup_stop - no more reloads: block HUP again, end the reload thread */
static void hup_stop(pthread_t rtid)
{
    sigset_t hup;

    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup, NULL);
    close(reload_pipe[1]);
    pthread_join(rtid, NULL);
    close(reload_pipe[0]);
}

/* serve - the daemon; takes over the caller's reference to cfg */
static int serve(struct config *cfg, const char *path, bool foreground)
{
    char *sockpath =
        milter_socket_path(cfg->socket) ? strdup(milter_socket_path(cfg->socket)) : NULL;
    char *pidfile = cfg->pid_file ? strdup(cfg->pid_file) : NULL;
    char *error = NULL;
    sigset_t set;
    pthread_t tid, rtid;
    int sig, rc = 0;

    if (milter_setup(cfg->socket, cfg->umask, &error) < 0) {
        log_err("%s", error ? error : "milter set-up failed");
        goto fail;
    }
    if (!foreground && daemon(0, 0) < 0) {
        log_warn_errno("cannot go to the background");
        goto fail;
    }
    log_open("authmilter", foreground, cfg->syslog_facility);
    if (pidfile)
        write_pidfile(pidfile);
    if (cfg->user_id && drop_privileges(cfg->user_id, sockpath) < 0)
        goto fail;
    log_info("started: socket=%s config=%s", cfg->socket, path ? path : "(defaults)");
    config_install(cfg); /* the registry holds the start-up snapshot from now on */
    /* Every thread starts with HUP, TERM and INT blocked; the main thread
     * then takes HUP with a handler (so the kernel, which offers a
     * process signal to the main thread first, never hands a HUP to
     * libmilter's signal thread, which would stop) and waits for TERM
     * and INT in sigwait(). */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (pipe2(reload_pipe, O_CLOEXEC) < 0 ||
        pthread_create(&rtid, NULL, reload_thread, (void *)path) != 0) {
        log_err("cannot start the reload thread");
        rc = 1;
        goto out;
    }
    if (pthread_create(&tid, NULL, milter_thread, &rc) != 0) {
        log_err("cannot start the milter thread");
        hup_stop(rtid);
        rc = 1;
        goto out;
    }
    if (hup_setup() < 0)
        log_warn_errno("SIGHUP set-up failed: reload with a restart");
    sigdelset(&set, SIGHUP);
    while (sigwait(&set, &sig) != 0)
        ;
    log_info("stopping on signal %d", sig);
    hup_stop(rtid);
    milter_stop();
    pthread_join(tid, NULL);
out:
    if (pidfile)
        unlink(pidfile);
    if (sockpath)
        unlink(sockpath);
    /* smfi_main() returns without waiting for sessions still running: drop
     * only our own reference (theirs keep their snapshot alive) and leave
     * the shared libopendkim handle to process exit. */
    config_install(NULL);
    free(pidfile);
    free(sockpath);
    return rc ? 1 : 0;
fail:
    config_unref(&cfg);
    free(pidfile);
    free(sockpath);
    return 1;
}

int main(int argc, char **argv)
{
    struct testmode_args ta = {.client_ip = "127.0.0.1", .helo = "localhost", .mail_from = "<>"};
    const char *path = NULL;
    bool foreground = false, check = false, list_keys = false, check_dns = false;
    struct config *cfg;
    char *error = NULL;
    int ch, rc;

    while ((ch = getopt_long(argc, argv, "c:fnt:Vh", long_opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            path = optarg;
            break;
        case 'f':
            foreground = true;
            break;
        case 'n':
            check = true;
            break;
        case 't':
            ta.file = optarg;
            break;
        case 'V':
            printf("authmilter %s\n", PACKAGE_VERSION);
            return 0;
        case OPT_CLIENT_IP:
            ta.client_ip = optarg;
            break;
        case OPT_HOST:
            ta.client_host = optarg;
            break;
        case OPT_HELO:
            ta.helo = optarg;
            break;
        case OPT_MAIL_FROM:
            ta.mail_from = optarg;
            break;
        case OPT_LOGIN:
            ta.login = optarg;
            break;
        case OPT_DAEMON:
            ta.daemon_name = optarg;
            break;
        case OPT_QID:
            ta.queue_id = optarg;
            break;
        case OPT_KEYS:
            list_keys = true;
            break;
        case OPT_CHECK_DNS:
            check_dns = true;
            break;
        case OPT_RCPT:
            if (ta.nrcpt >= TESTMODE_MAX_RCPT)
                usage();
            ta.rcpt[ta.nrcpt++] = optarg;
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();
    if (list_keys) {
        config_print_keys(stdout);
        return 0;
    }
    if (path == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
        path = DEFAULT_CONFIG;
    log_open("authmilter", true, NULL);
    if ((cfg = config_load(path, &error)) == NULL) {
        fprintf(stderr, "%s\n", error ? error : "cannot load the configuration");
        free(error);
        return 1;
    }
    if (check) {
        printf("%s: configuration OK\n", path ? path : "(built-in defaults)");
        rc = check_dns && keycheck_dns(cfg, stdout) > 0 ? 1 : 0;
    } else if (ta.file) {
        rc = testmode_run(cfg, &ta);
    } else {
        return serve(cfg, path, foreground); /* serve() owns cfg */
    }
    config_unref(&cfg);
    return rc;
}
