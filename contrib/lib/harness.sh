# contrib/lib/harness.sh - a throwaway Postfix + Cyrus SASL + smtp-sink on 127.0.0.1
#
# SYNOPSIS
#     . contrib/lib/harness.sh
#     harness_start                      # Postfix, SASL users, smtp-sink
#     harness_start_milter CONF          # authmilter on CONF (Socket/PidFile set here)
#     harness_milter_running; harness_reload_milter [SECS]; harness_stop_milter
#     harness_send submission|inbound [swaks args...] >transcript
#     code=$(harness_reply transcript CONNECT|EHLO|AUTH|MAIL|RCPT|DATA|END)
#     line=$(harness_reply_text transcript MAIL)   # "553 5.7.1 ..."
#     qid=$(harness_queue_id transcript)
#     file=$(harness_wait_delivered "$qid" [SECS])  # its smtp-sink capture
#     harness_sink_file QID; harness_sink_count; harness_queue_count
#     harness_message FILE               # capture without smtp-sink's lines
#     harness_header FILE NAME           # unfolded header values
#     harness_sent_data transcript       # the message text swaks sent
#     harness_stop                       # also run by the EXIT/INT/TERM traps
#
# DESCRIPTION
#     harness_start builds a private Postfix instance in a fresh temporary
#     directory $H_DIR (config_directory $H_DIR/etc, queue_directory
#     $H_DIR/spool, data_directory $H_DIR/data, log $H_DIR/log/maillog),
#     listening on 127.0.0.1 only, on ports picked free at start-up:
#
#       $H_INPORT      inbound smtpd: no AUTH, smtpd_milters attached,
#                      XCLIENT allowed from 127.0.0.0/8 (swaks --xclient-addr)
#       $H_SUBPORT     submission smtpd: Cyrus SASL (sasldb), AUTH PLAIN/LOGIN
#                      without TLS, milter_macro_daemon_name=ORIGINATING.
#                      Postfix itself accepts unauthenticated mail from
#                      mynetworks (127.0.0.0/8) and has no sender/login check:
#                      refusing is the milter's job, which is what is tested.
#       $H_MILTERPORT  where smtpd_milters points (inet:127.0.0.1:PORT);
#                      nothing listens until harness_start_milter.
#       $H_SINKPORT    smtp-sink; every message Postfix accepts goes there
#                      (transport_maps static:smtp:[127.0.0.1]:PORT) and is
#                      captured, one file per message, under $H_SINK.
#
#     milter_default_action = tempfail, milter_protocol = 6, the default
#     milter macro lists (they carry i, {daemon_name}, {auth_authen}).
#     No DNS: smtp_dns_support_level = disabled, smtpd_peername_lookup = no.
#     The system Postfix instance (/etc/postfix, /var/spool/postfix) is
#     never read, started or stopped.
#
#     SASL users (sasldb in $H_ETC/sasl/sasldb2) come from $H_USERS,
#     "login:password" words, default "alice:alice-pw bob:bob-pw
#     carol:carol-pw".  What the milter sees as {auth_authen} (measured with
#     this instance, Postfix 3.7 + Cyrus SASL 2.1.28 sasldb):
#       - Postfix gives Cyrus $myhostname as the server name, which is the
#         default realm, so the users are made with "saslpasswd2 -u
#         $myhostname" (here mx.demo.example; a user made in another realm,
#         e.g. saslpasswd2's default `hostname`, cannot log in as "alice");
#       - with smtpd_sasl_local_domain empty (as here, the Postfix default)
#         a client logging in as "alice" arrives as {auth_authen}=alice,
#         no @realm; logging in as "alice@mx.demo.example" arrives as
#         exactly that;
#       - with smtpd_sasl_local_domain=D, "alice" arrives as "alice@D";
#       - the case is kept as typed ("Dave" stays "Dave"); sasldb itself
#         is case-sensitive ("ALICE" cannot log in as "alice").
#     Login maps for this instance therefore name the bare login.
#
#     harness_start installs EXIT/INT/TERM traps that call harness_stop,
#     unless H_NO_TRAP=1 (then call harness_stop yourself).  harness_stop is
#     idempotent: it stops the milter, Postfix and smtp-sink that this harness
#     started (by their pids, nothing else) and removes $H_DIR unless KEEP=1.
#
#     Needs root (Postfix's master runs as root, its daemons as "postfix")
#     and the Debian packages postfix, sasl2-bin, libsasl2-modules, swaks
#     (plus bash, coreutils, grep, sed, mawk; iproute2's ss if present).
#     Only 127.0.0.1 is used.
#
# VARIABLES (set before harness_start to change)
#     H_AUTHMILTER   daemon binary (default $top_builddir/milter/authmilter)
#     H_USERS        SASL users, "login:password ..."
#     H_RELAY_DOMAINS domains outside clients may send to on the inbound port
#     H_NAMESERVERS  Nameservers line forced into the milter config (default
#                    127.0.0.1@DEADPORT: nothing answers, nothing leaves the host)
#     H_TMPBASE      where $H_DIR is made (default /tmp, not $TMPDIR: the
#                    postfix user must be able to traverse it)
#     H_VERBOSE=1    harness progress on stderr
#     KEEP=1         keep $H_DIR after harness_stop
#
# DIAGNOSTICS
#     Every function returns non-zero with a "harness: ..." line on stderr
#     on failure; harness_start and harness_start_milter also print the tail
#     of the relevant log.

# postfix, postconf, smtp-sink and saslpasswd2 live in /usr/sbin
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=/usr/sbin:/sbin:$PATH ;; esac
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${H_AUTHMILTER:=$top_builddir/milter/authmilter}"
: "${H_USERS:=alice:alice-pw bob:bob-pw carol:carol-pw}"
: "${H_RELAY_DOMAINS:=demo.example other.example example.com example.net example.org}"
H_REALM=mx.demo.example
H_DIR=
H_STARTED=
H_MILTER_PID=
H_MILTER_CONF=
H_SINK_PID=
H_PORTS_TAKEN=" "

# _h_say - progress line when H_VERBOSE=1
_h_say() { [ "${H_VERBOSE:-0}" = 1 ] && echo "harness: $*" >&2; return 0; }

# _h_err - error line on stderr, returns 1
_h_err() { echo "harness: $*" >&2; return 1; }

# _h_port_free - true if nothing accepts TCP connections on 127.0.0.1:PORT
_h_port_free() {
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        # any socket on that port, listening or not (TIME_WAIT included)
        ss -Htan "sport = :$port" 2>/dev/null | grep -q . && return 1
    fi
    ! timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
}

# _h_pick_port - set variable VAR to a free TCP port in 20000-31999 (below
#   Linux's ephemeral ports) not yet taken by this harness (no subshell:
#   H_PORTS_TAKEN must persist)
_h_pick_port() {
    local port
    for _ in $(seq 200); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
        case "$H_PORTS_TAKEN" in *" $port "*) continue ;; esac
        if _h_port_free "$port"; then
            H_PORTS_TAKEN="$H_PORTS_TAKEN$port "
            printf -v "$1" '%s' "$port"
            return 0
        fi
    done
    _h_err "no free port found"
}

# _h_wait_listen - wait up to SECS (default 10) until 127.0.0.1:PORT accepts
_h_wait_listen() {
    local port=$1 secs=${2:-10}
    for _ in $(seq $((secs * 10))); do
        if command -v ss >/dev/null 2>&1; then
            ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
        else
            timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && return 0
        fi
        sleep 0.1
    done
    return 1
}

# _h_pf - run postfix/postconf/postqueue on this instance
_h_pf() { local cmd=$1; shift; "$cmd" -c "$H_ETC" "$@"; }

# _h_write_main_cf - the instance's main.cf
_h_write_main_cf() {
    cat >"$H_ETC/main.cf" <<EOF
# main.cf of a throwaway authmilter test instance ($H_DIR); never the system one.
compatibility_level = 3.6
queue_directory = $H_DIR/spool
data_directory = $H_DIR/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $H_DIR/log/maillog
maillog_file_prefixes = $H_DIR
syslog_name = postfix-e2e

myhostname = $H_REALM
mydomain = demo.example
myorigin = \$myhostname
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 no local delivery in this instance
alias_maps =
alias_database =
relay_domains = $H_RELAY_DOMAINS
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
biff = no
append_dot_mydomain = no
smtpd_banner = \$myhostname ESMTP authmilter-e2e
header_size_limit = 102400

# Every message leaves for smtp-sink; no DNS anywhere.
relayhost = [127.0.0.1]:$H_SINKPORT
transport_maps = static:smtp:[127.0.0.1]:$H_SINKPORT
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtpd_peername_lookup = no
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtp_address_preference = ipv4
delay_warning_time = 0
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s

# Cyrus SASL from our own directory (smtpd.conf, sasldb2).
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $H_ETC/sasl
smtpd_sasl_auth_enable = no
smtpd_sasl_local_domain =
smtpd_sasl_security_options = noanonymous

# The milter.
smtpd_milters = inet:127.0.0.1:$H_MILTERPORT
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 5s
EOF
}

# _h_write_master_cf - the instance's master.cf (chroot off everywhere)
_h_write_master_cf() {
    cat >"$H_ETC/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
$H_INPORT     inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix-e2e/inbound
  -o smtpd_authorized_xclient_hosts=127.0.0.0/8
$H_SUBPORT     inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix-e2e/submission
  -o smtpd_sasl_auth_enable=yes
  -o milter_macro_daemon_name=ORIGINATING
  -o smtpd_relay_restrictions=permit_mynetworks,permit_sasl_authenticated,reject
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# _h_make_sasl - smtpd.conf and the sasldb with $H_USERS, readable by postfix
_h_make_sasl() {
    local u login pw
    mkdir -p "$H_ETC/sasl"
    cat >"$H_ETC/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $H_ETC/sasl/sasldb2
EOF
    for u in $H_USERS; do
        login=${u%%:*}
        pw=${u#*:}
        printf '%s' "$pw" | saslpasswd2 -p -c -f "$H_ETC/sasl/sasldb2" -u "$H_REALM" "$login" ||
            return 1
    done
    chown root:postfix "$H_ETC/sasl/sasldb2" && chmod 640 "$H_ETC/sasl/sasldb2"
}

# harness_start - create the instance and start smtp-sink and Postfix
harness_start() {
    local tmpbase=${H_TMPBASE:-/tmp} prog
    [ -n "$H_STARTED" ] && return 0
    [ "$(id -u)" -eq 0 ] || { _h_err "must run as root (Postfix master)"; return 1; }
    for prog in postfix postconf smtp-sink swaks saslpasswd2; do
        command -v "$prog" >/dev/null 2>&1 ||
            { _h_err "$prog not found (apt-get install postfix sasl2-bin swaks)"; return 1; }
    done
    compgen -G '/usr/lib/*/sasl2/libplain.so' >/dev/null ||
        compgen -G '/usr/lib/sasl2/libplain.so' >/dev/null ||
        { _h_err "Cyrus PLAIN/LOGIN plugins missing (apt-get install libsasl2-modules)"; return 1; }
    H_DIR=$(mktemp -d "$tmpbase/authmilter-e2e.XXXXXX") || return 1
    H_STARTED=1
    if [ "${H_NO_TRAP:-0}" != 1 ]; then
        trap 'harness_stop' EXIT
        trap 'harness_stop; trap - INT; kill -INT $$' INT
        trap 'harness_stop; trap - TERM; kill -TERM $$' TERM
    fi
    chmod 755 "$H_DIR"
    H_ETC=$H_DIR/etc
    H_SPOOL=$H_DIR/spool
    H_LOG=$H_DIR/log/maillog
    H_SINK=$H_DIR/sink
    mkdir -p "$H_ETC" "$H_SPOOL" "$H_DIR/data" "$H_DIR/log" "$H_SINK" "$H_DIR/milter"
    chown postfix:postfix "$H_DIR/data" "$H_SINK" && chmod 700 "$H_DIR/data"
    _h_pick_port H_INPORT && _h_pick_port H_SUBPORT && _h_pick_port H_SINKPORT &&
        _h_pick_port H_MILTERPORT && _h_pick_port H_DNSPORT || return 1
    _h_write_main_cf
    _h_write_master_cf
    _h_make_sasl || { _h_err "saslpasswd2 failed"; return 1; }

    _h_say "smtp-sink on 127.0.0.1:$H_SINKPORT, captures in $H_SINK"
    (cd "$H_SINK" && exec smtp-sink -u postfix -d "$H_SINK/%Y%m%d%H%M%S." \
        "127.0.0.1:$H_SINKPORT" 64) >"$H_DIR/log/smtp-sink.log" 2>&1 &
    H_SINK_PID=$!
    _h_wait_listen "$H_SINKPORT" 10 ||
        { _h_err "smtp-sink did not start"; cat "$H_DIR/log/smtp-sink.log" >&2; return 1; }

    _h_say "postfix -c $H_ETC: inbound $H_INPORT, submission $H_SUBPORT"
    if ! _h_pf postfix check >"$H_DIR/log/postfix-start.log" 2>&1 ||
        ! _h_pf postfix start >>"$H_DIR/log/postfix-start.log" 2>&1 ||
        ! _h_wait_listen "$H_INPORT" 15 || ! _h_wait_listen "$H_SUBPORT" 5; then
        _h_err "Postfix did not start"
        tail -20 "$H_DIR/log/postfix-start.log" "$H_LOG" >&2 2>/dev/null
        return 1
    fi
    return 0
}

# _h_master_pid - pid of this instance's master, if running
_h_master_pid() {
    local pid
    pid=$(tr -dc '0-9' <"$H_SPOOL/pid/master.pid" 2>/dev/null)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# harness_stop - stop everything this harness started; remove $H_DIR unless KEEP=1
harness_stop() {
    local pid
    [ -n "$H_STARTED" ] || return 0
    H_STARTED=
    harness_stop_milter
    pid=$(_h_master_pid)
    if [ -n "$pid" ]; then
        _h_pf postfix stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { _h_pf postfix abort >/dev/null 2>&1 || kill -9 "$pid"; }
    fi
    if [ -n "$H_SINK_PID" ]; then
        kill "$H_SINK_PID" 2>/dev/null
        wait "$H_SINK_PID" 2>/dev/null
        H_SINK_PID=
    fi
    if [ "${KEEP:-0}" = 1 ]; then
        echo "harness: kept $H_DIR (maillog: $H_LOG, captures: $H_SINK)" >&2
    elif [ -n "$H_DIR" ] && [ -d "$H_DIR" ]; then
        rm -rf "$H_DIR"
    fi
    return 0
}

# harness_start_milter - run $H_AUTHMILTER -f on CONF with our Socket/PidFile/Nameservers
#   "@CONFDIR@" in CONF is replaced by CONF's own directory.  Waits until
#   the socket listens (at most 10 s; fails at once if the daemon exits).
#   The daemon's stderr goes to $H_DIR/milter/authmilter.log.
harness_start_milter() {
    local conf=$1 confdir out=$H_DIR/milter/authmilter.conf up=0
    [ -n "$H_STARTED" ] || { _h_err "harness_start first"; return 1; }
    [ -f "$conf" ] || { _h_err "no milter config $conf"; return 1; }
    [ -x "$H_AUTHMILTER" ] || { _h_err "milter binary $H_AUTHMILTER missing"; return 1; }
    harness_stop_milter
    confdir=$(cd "$(dirname "$conf")" && pwd)
    {
        echo "# generated by harness.sh from $conf"
        sed -e "s|@CONFDIR@|$confdir|g" \
            -e '/^[[:space:]]*\(Socket\|PidFile\|Nameservers\)[[:space:]]/Id' "$conf"
        echo "Socket inet:$H_MILTERPORT@127.0.0.1"
        echo "PidFile $H_DIR/milter/authmilter.pid"
        echo "Nameservers ${H_NAMESERVERS:-127.0.0.1@$H_DNSPORT}"
    } >"$out"
    # shellcheck disable=SC2034 # for callers: the generated configuration
    H_MILTER_CONF=$out
    "$H_AUTHMILTER" -f -c "$out" >>"$H_DIR/milter/authmilter.log" 2>&1 &
    H_MILTER_PID=$!
    # poll in short steps and give up at once if the daemon has exited
    # (a refused configuration or key), rather than waiting the full 10 s
    for _ in $(seq 100); do
        if command -v ss >/dev/null 2>&1; then
            ss -Hltn "sport = :$H_MILTERPORT" 2>/dev/null | grep -q . && { up=1; break; }
        else
            timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$H_MILTERPORT" 2>/dev/null &&
                { up=1; break; }
        fi
        harness_milter_running || break
        sleep 0.1
    done
    if [ "$up" = 0 ]; then
        _h_err "authmilter did not listen on $H_MILTERPORT"
        tail -20 "$H_DIR/milter/authmilter.log" >&2
        harness_stop_milter
        return 1
    fi
    _h_say "authmilter pid $H_MILTER_PID on inet:$H_MILTERPORT@127.0.0.1"
    return 0
}

# harness_milter_running - true if the milter this harness started is alive
harness_milter_running() { [ -n "$H_MILTER_PID" ] && kill -0 "$H_MILTER_PID" 2>/dev/null; }

# harness_reload_milter - SIGHUP the milter; wait (at most SECS, default 3)
#   until it logs something about it
harness_reload_milter() {
    local log=$H_DIR/milter/authmilter.log size
    harness_milter_running || { _h_err "milter not running"; return 1; }
    size=$(wc -c <"$log")
    kill -HUP "$H_MILTER_PID" || return 1
    for _ in $(seq $((${1:-3} * 20))); do
        [ "$(wc -c <"$log")" -gt "$size" ] && { sleep 0.1; return 0; }
        sleep 0.05
    done
    return 0
}

# harness_stop_milter - stop the milter this harness started (TERM, then KILL)
harness_stop_milter() {
    [ -n "$H_MILTER_PID" ] || return 0
    kill "$H_MILTER_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$H_MILTER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$H_MILTER_PID" 2>/dev/null
    wait "$H_MILTER_PID" 2>/dev/null
    H_MILTER_PID=
    return 0
}

# harness_send - swaks to the submission or inbound port; transcript on stdout
#   harness_send submission|inbound [swaks args...]; returns swaks' status.
#   Defaults: --helo client.demo.example, --timeout 30; pass --auth-user etc.
harness_send() {
    local which=$1 port
    shift
    case "$which" in
    submission) port=$H_SUBPORT ;;
    inbound) port=$H_INPORT ;;
    *) _h_err "harness_send: submission or inbound, not '$which'"; return 2 ;;
    esac
    swaks --server 127.0.0.1 --port "$port" --helo client.demo.example \
        --timeout 30 "$@" 2>&1
}

# harness_reply - the SMTP reply code to a command in a swaks transcript
#   harness_reply FILE CONNECT|EHLO|AUTH|MAIL|RCPT|DATA|END|QUIT (END: after
#   the message's final dot).  Prints the 3-digit code of the reply line
#   following the command (last line of a multi-line reply), or nothing.
harness_reply() {
    local file=$1 cmd=$2
    awk -v cmd="$cmd" '
        function want(line) {
            if (cmd == "END") return line ~ /^ -> \.$/ || line ~ /^ -> \.\r$/
            if (cmd == "AUTH") return line ~ /^ -> AUTH /
            if (cmd == "MAIL") return line ~ /^ -> MAIL FROM:/
            if (cmd == "RCPT") return line ~ /^ -> RCPT TO:/
            return line ~ ("^ -> " cmd)
        }
        BEGIN { armed = (cmd == "CONNECT") }
        !armed && want($0) { armed = 1; next }
        armed && /^(<-|<\*\*) +[0-9][0-9][0-9][ -]/ {
            sub(/^(<-|<\*\*) +/, ""); code = substr($0, 1, 3)
            if (substr($0, 4, 1) == " ") { print code; exit }
        }' "$file"
}

# harness_reply_text - the full last reply line to a command (see harness_reply)
harness_reply_text() {
    local file=$1 cmd=$2
    awk -v cmd="$cmd" '
        function want(line) {
            if (cmd == "END") return line ~ /^ -> \.\r?$/
            if (cmd == "MAIL") return line ~ /^ -> MAIL FROM:/
            if (cmd == "RCPT") return line ~ /^ -> RCPT TO:/
            return line ~ ("^ -> " cmd)
        }
        !armed && want($0) { armed = 1; next }
        armed && /^(<-|<\*\*) +[0-9][0-9][0-9] / { sub(/^(<-|<\*\*) +/, ""); print; exit }
        ' "$file"
}

# harness_queue_id - the Postfix queue id from "250 ... queued as QID" in a transcript
harness_queue_id() {
    sed -n 's/^<- *250 .*queued as \([0-9A-Za-z]*\).*/\1/p' "$1" | tail -1
}

# harness_sent_data - the message text a swaks transcript shows it sent after DATA
#   (the " -> " lines between the 354 reply and the final dot, CRs dropped)
harness_sent_data() {
    awk '/^<-  354 / { on = 1; next }
        on && /^ -> \.\r?$/ { exit }
        on && /^ -> / { sub(/^ -> /, ""); sub(/\r$/, ""); print }' "$1"
}

# harness_sink_file - print the smtp-sink capture file(s) holding queue id QID
harness_sink_file() {
    local qid=$1
    [ -n "$qid" ] || return 1
    grep -rlE "id $qid(;|$)" "$H_SINK" 2>/dev/null
}

# harness_sink_count - number of messages smtp-sink has captured
harness_sink_count() { find "$H_SINK" -type f | wc -l; }

# harness_queue_count - number of messages in this instance's Postfix queue
harness_queue_count() {
    find "$H_SPOOL/incoming" "$H_SPOOL/active" "$H_SPOOL/deferred" \
        "$H_SPOOL/hold" "$H_SPOOL/maildrop" -type f 2>/dev/null | wc -l
}

# harness_wait_delivered - wait until QID reached smtp-sink; print its capture file
#   harness_wait_delivered QID [SECS=15]; non-zero if it did not arrive.
harness_wait_delivered() {
    local qid=$1 secs=${2:-15} f
    [ -n "$qid" ] || { _h_err "harness_wait_delivered: no queue id"; return 1; }
    for _ in $(seq $((secs * 10))); do
        if grep -qE "[[:space:]]$qid: to=<.*status=sent" "$H_LOG" 2>/dev/null; then
            f=$(harness_sink_file "$qid")
            [ -n "$f" ] && { echo "$f"; return 0; }
        fi
        sleep 0.1
    done
    _h_err "message $qid not delivered within ${secs}s"
    grep -E "[[:space:]]$qid:" "$H_LOG" >&2 2>/dev/null
    return 1
}

# harness_message - print the message of a capture file without smtp-sink's own lines
#   (drops the X-Client-*/X-Helo-/X-Mail-/X-Rcpt- lines and smtp-sink's
#   three-line Received: header, and the empty line smtp-sink appends)
harness_message() {
    awk '
        state == 0 && /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): / { next }
        state == 0 && /^Received: / { state = 1; n = 0; next }
        state == 1 && n < 2 && /^[ \t]/ { n++; next }
        { state = 2; lines[++count] = $0 }
        END { if (count > 0 && lines[count] == "") count--; for (i = 1; i <= count; i++) print lines[i] }
    ' "$1"
}

# harness_header - print the (unfolded) values of header NAME in a message file
harness_header() {
    local file=$1 name=$2
    awk -v name="$name" '
        BEGIN { lname = tolower(name) ":" }
        /^$/ { exit }
        /^[ \t]/ { if (on) val = val " " substr($0, 2); next }
        { if (on) print val; on = 0
          if (tolower(substr($0, 1, length(lname))) == lname) { on = 1; val = substr($0, length(lname) + 2) } }
        END { if (on) print val }
    ' "$file"
}
