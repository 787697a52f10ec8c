#!/usr/bin/env bash
# NAME
#	bench-milter.sh - milter throughput of authmilter next to opendkim
# SYNOPSIS
#	contrib/bench/bench-milter.sh [BUILD_DIR]
# DESCRIPTION
#	Runs the built daemon (BUILD_DIR/milter/authmilter) and Debian's
#	opendkim, each in the foreground on inet:PORT@127.0.0.1, and drives
#	them with BUILD_DIR/t/milter-client: N messages of about 1 KB (5
#	headers, 858-byte body), C concurrent connections, one message per
#	connection.  Cases:
#	    authmilter submission  none, rsa2048, ed25519, both keys at once
#	    authmilter inbound     SPF + DKIM (one rsa2048 signature) + DMARC,
#	                           every DNS answer from a local DNSZoneFile
#	    opendkim   Mode s      none (From domain not in SigningTable),
#	                           rsa2048, ed25519 (2.11 signs with one
#	                           algorithm per process: no "both")
#	Before timing, one message per case must come back with the expected
#	DKIM-Signature edits (a= per key) or the script stops.  Each case runs
#	RUNS times; the table gives the median msg/s and the latency average
#	and maximum of that median run.  Keys are made fresh with
#	contrib/keygen in a temporary directory.  Nothing is built here:
#	make milter/authmilter t/milter-client in BUILD_DIR first.
#	opendkim is installed with apt-get when missing; a system service the
#	package may start is stopped (this script starts its own copy).
# ENVIRONMENT
#	BUILD_DIR (default: the argument, else .), N (5000), C (8), RUNS (3),
#	PORT (18891), CASES (all: "am-none am-rsa am-ed am-both am-inbound
#	od-none od-rsa od-ed").
# DIAGNOSTICS
#	Exit 0 after the table; 1 with a message when a tool is missing, a
#	daemon does not start, a case does not sign as expected or a run has
#	errors.  Every process started is killed on exit.
set -u
BUILD_DIR=${1:-${BUILD_DIR:-.}}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd) || exit 1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-5000}
C=${C:-8}
RUNS=${RUNS:-3}
PORT=${PORT:-18891}
CASES=${CASES:-am-none am-rsa am-ed am-both am-inbound od-none od-rsa od-ed}
AM=$BUILD_DIR/milter/authmilter
CLIENT=$BUILD_DIR/t/milter-client
SOCK=inet:$PORT@127.0.0.1

die() { echo "bench-milter: $*" >&2; exit 1; }
[ -x "$AM" ] || die "$AM not built (make milter/authmilter in $BUILD_DIR)"
[ -x "$CLIENT" ] || die "$CLIENT not built (make t/milter-client in $BUILD_DIR)"
if ! command -v opendkim >/dev/null; then
    echo "bench-milter: installing opendkim" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y opendkim >/dev/null ||
        die "apt-get install opendkim failed"
    # do not leave Debian's service running next to ours
    if command -v systemctl >/dev/null; then
        systemctl stop opendkim 2>/dev/null
        systemctl disable opendkim 2>/dev/null
    fi
    [ -f /run/opendkim/opendkim.pid ] && kill "$(cat /run/opendkim/opendkim.pid)" 2>/dev/null
fi

tmp=$(mktemp -d /tmp/bench-milter.XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- keys, maps, zone ----------------------------------------------------
mkdir -m 700 "$tmp/keys"
"$SRC/contrib/keygen" example.com rsa2048 rsa "$tmp/keys" >"$tmp/rsa.zone" 2>/dev/null ||
    die "keygen rsa failed"
"$SRC/contrib/keygen" example.com ed1 ed25519 "$tmp/keys" >"$tmp/ed.zone" 2>/dev/null ||
    die "keygen ed25519 failed"
echo "alice@example.com alice" >"$tmp/sender_login"
RSA_KT="rsa2048._domainkey.example.com example.com:rsa2048:$tmp/keys/rsa2048.example.com.key"
ED_KT="ed1._domainkey.example.com example.com:ed1:$tmp/keys/ed1.example.com.key"
for k in none rsa ed both; do
    : >"$tmp/KeyTable.$k"
    : >"$tmp/SigningTable.$k"
    case $k in rsa | both)
        echo "$RSA_KT" >>"$tmp/KeyTable.$k"
        echo "example.com rsa2048._domainkey.example.com" >>"$tmp/SigningTable.$k" ;;
    esac
    case $k in ed | both)
        echo "$ED_KT" >>"$tmp/KeyTable.$k"
        echo "example.com ed1._domainkey.example.com" >>"$tmp/SigningTable.$k" ;;
    esac
    if [ $k = none ]; then # a key that matches no From: of the bench
        echo "rsa2048._domainkey.other.example other.example:rsa2048:$tmp/keys/rsa2048.example.com.key" >"$tmp/KeyTable.$k"
        echo "other.example rsa2048._domainkey.other.example" >"$tmp/SigningTable.$k"
    fi
done
{
    echo "example.com. 300 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 300"
    echo 'example.com. 300 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"'
    echo '_dmarc.example.com. 300 IN TXT "v=DMARC1; p=reject"'
    sed 's/ IN TXT / 300 IN TXT /' "$tmp/rsa.zone"
} >"$tmp/local.zone"

# authmilter configurations
amconf() { # amconf NAME KEYS
    {
        echo "Socket $SOCK"
        echo "AuthservID mx.bench.example"
        echo "SubmissionDaemons ORIGINATING"
        echo "SenderLoginMap $tmp/sender_login"
        echo "Nameservers 127.0.0.1@9" # never used: the zone file answers
        echo "DNSZoneFile $tmp/local.zone"
        if [ "$2" != none ]; then
            echo "KeyTable $tmp/KeyTable.$2"
            echo "SigningTable $tmp/SigningTable.$2"
        fi
    } >"$tmp/$1.conf"
}
amconf am-none none
amconf am-rsa rsa
amconf am-ed ed
amconf am-both both
amconf am-inbound rsa
# opendkim configurations (Mode s, internal client 127.0.0.1)
odconf() { # odconf NAME KEYS
    {
        echo "Mode s"
        echo "Socket $SOCK"
        echo "Syslog no"
        echo "Canonicalization relaxed/relaxed"
        echo "OversignHeaders From"
        echo "InternalHosts 127.0.0.1"
        echo "RequireSafeKeys no" # the keys are below /tmp (mode 1777)
        echo "KeyTable $tmp/KeyTable.$2"
        echo "SigningTable $tmp/SigningTable.$2"
        # 2.11 takes the algorithm from here, not from the key: one
        # algorithm per process, so no rsa+ed25519 case for opendkim
        [ "$2" = ed ] && echo "SignatureAlgorithm ed25519-sha256"
    } >"$tmp/$1.conf"
}
odconf od-none none
odconf od-rsa rsa
odconf od-ed ed

# --- the message ---------------------------------------------------------
BODY=858 # 11 lines of 78 bytes, ends in CRLF
HDRS=(-h 'From: Alice <alice@example.com>' -h 'To: bob@example.net'
    -h 'Subject: bench' -h 'Date: Mon, 23 Nov 2026 12:00:00 +0000'
    -h 'Message-ID: <bench@example.com>')
SUBMIT=(-d ORIGINATING -l alice -a 127.0.0.1 -H client.example.com
    -f '<alice@example.com>' -r '<bob@example.net>')
INBOUND=(-d smtpd -a 127.0.0.1 -H mail.example.com
    -f '<alice@example.com>' -r '<bob@example.net>')
# the inbound message carries a real rsa2048 signature, made by the
# daemon's test mode over the same headers and the client's -B body
/usr/bin/python3 - "$tmp/inbound.eml" "$BODY" <<'EOF' || die "cannot write the message"
import sys
hdr = ("From: Alice <alice@example.com>\r\nTo: bob@example.net\r\n"
       "Subject: bench\r\nDate: Mon, 23 Nov 2026 12:00:00 +0000\r\n"
       "Message-ID: <bench@example.com>\r\n\r\n")
n = int(sys.argv[2])  # the same body as t/milter-client -B n
body = "".join("\r" if i % 78 == 76 else "\n" if i % 78 == 77 else chr(97 + i % 26)
               for i in range(n))
open(sys.argv[1], "w", newline="").write(hdr + body)
EOF
sig=$("$AM" -c "$tmp/am-rsa.conf" -t "$tmp/inbound.eml" --daemon-name ORIGINATING \
    --login alice --mail-from alice@example.com 2>/dev/null |
    awk '/^DKIM-Signature:/ { on = 1; sub(/^DKIM-Signature: */, ""); s = $0; next }
         on && /^[ \t]/ { sub(/^[ \t]+/, " "); s = s $0; next }
         on { print s; exit }')
[ -n "$sig" ] || die "authmilter -t did not sign the inbound message"
INBOUND+=(-h "DKIM-Signature: $sig")

# --- running -------------------------------------------------------------
start() { # start CASE: the daemon of CASE in the foreground, wait for PORT
    local i
    case $1 in
    am-*) "$AM" -f -c "$tmp/$1.conf" >"$tmp/$1.log" 2>&1 & ;;
    od-*) opendkim -f -x "$tmp/$1.conf" >"$tmp/$1.log" 2>&1 & ;;
    esac
    pid=$!
    for i in $(seq 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$tmp/$1.log" >&2
    die "$1: daemon did not start"
}
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }
args() { # args CASE: client arguments of CASE
    case $1 in
    am-inbound) echo inbound ;;
    *) echo submit ;;
    esac
}
expect() { # expect CASE: the a= values the one-message check must see
    case $1 in
    *-none | am-inbound) echo "" ;;
    *-rsa) echo "rsa-sha256" ;;
    *-ed) echo "ed25519-sha256" ;;
    *-both) echo "ed25519-sha256 rsa-sha256" ;;
    esac
}
client() { # client CASE ARGS...: t/milter-client with the case's message
    local c=$1
    shift
    if [ "$(args "$c")" = inbound ]; then
        "$CLIENT" -s "$SOCK" "${INBOUND[@]}" "${HDRS[@]}" -B "$BODY" "$@"
    else
        "$CLIENT" -s "$SOCK" "${SUBMIT[@]}" "${HDRS[@]}" -B "$BODY" "$@"
    fi
}
field() { sed -n "s|.* $1=\([^ ]*\).*|\1|p"; }

printf '%-10s %-22s %8s %8s %8s   (N=%s C=%s RUNS=%s, msg/s median)\n' \
    daemon case msg/s avg_ms max_ms "$N" "$C" "$RUNS"
for c in $CASES; do
    start "$c"
    # check: the signatures this case must add, and a final accept/continue
    out=$(client "$c" -n 1 -v)
    got=$(printf '%s\n' "$out" | sed -n 's/^edit 0 [A-Z]* DKIM-Signature: .*a=\([a-z0-9-]*\);.*/\1/p' |
        sort | tr '\n' ' ' | sed 's/ $//')
    if [ "$got" != "$(expect "$c")" ] || ! printf '%s\n' "$out" | grep -q 'action=\(accept\|continue\)'; then
        printf '%s\n' "$out" >&2
        die "$c: expected signatures '$(expect "$c")', got '$got'"
    fi
    if [ "$c" = am-inbound ] &&
        ! printf '%s\n' "$out" | grep -q 'Authentication-Results:.*spf=pass.*dkim=pass.*dmarc=pass'; then
        printf '%s\n' "$out" >&2
        die "$c: expected spf=pass dkim=pass dmarc=pass"
    fi
    rates=
    for r in $(seq "$RUNS"); do
        line=$(client "$c" -n "$N" -c "$C" -M 1) || { echo "$line" >&2; die "$c: run $r had errors"; }
        rates="$rates$(echo "$line" | field msg/s) $(echo "$line" | field lat_avg_ms) $(echo "$line" | field lat_max_ms)
"
    done
    stop
    med=$(printf '%s' "$rates" | sort -n -k1,1 | sed -n "$(((RUNS + 1) / 2))p")
    set -- $med
    case $c in am-*) d=authmilter ;; *) d=opendkim ;; esac
    name=${c#*-}
    [ "$name" = inbound ] && name="inbound-spf/dkim/dmarc"
    printf '%-10s %-22s %8s %8s %8s   runs: %s\n' "$d" "$name" "$1" "$2" "$3" \
        "$(printf '%s' "$rates" | awk '{ printf "%s ", $1 }')"
done
