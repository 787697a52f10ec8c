#!/usr/bin/env bash
# t/wire-concurrency.sh - the real daemon under 200 simultaneous milter
# sessions on the inbound path, every DNS answer late by DELAY seconds.
#
# t/slow-dns.py serves slow.example (TXT/A/AAAA/MX after DELAY, TTL 0 so
# nothing is cached and every batch pays the delay again), NXDOMAIN for
# other names, and never answers drop.example.  Each message costs three
# sequential lookups (SPF HELO, SPF MAIL FROM, DMARC), about 3 x DELAY.
# t/milter-client plays 200 MTA connections at once.  Checks: every session
# gets its end-of-message answer with spf=pass in the daemon's log line, the
# batch takes far less than the sum of the delays, the DNS server really had
# queries in flight together, the daemon's fds and threads come back to the
# same count after each batch and its RSS stops growing; with DNSTimeout 2
# a domain that never answers gets 451 4.4.3 within the deadline while the
# other sessions still pass; the daemon survives and answers afterwards.
# TAP output.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
AM=$top_builddir/milter/authmilter
CLIENT=$top_builddir/t/milter-client
PY=/usr/bin/python3
N=200            # sessions per batch, all at once
DELAY=0.3        # seconds per DNS answer
MAX_BATCH=10     # seconds allowed for one batch (sum of delays: N x 0.9 s)
RSS_SLACK=2048   # kB the RSS may still grow from batch 2 to batch 3 (batch 1 and 2
                 # warm up threads and malloc arenas; a leak of 10 KB a message
                 # would add ~2 MB a batch)
MAIL_MAX=500     # ms: MAIL needs no DNS, so no session should wait for it
DEADLINE_MAX=3000  # ms: DNSTimeout 2 s plus 1 s of slack
FD_WAIT=45       # s: abandoned lookups may hold a socket this long (libunbound retries)
n=0
failed=0
pid=
dnspid=

if ! "$PY" -c 'import dns.message' 2>/dev/null; then
    echo "1..0 # SKIP Debian python3-dnspython is not installed"
    exit 0
fi
tmp=$(mktemp -d /tmp/conc.XXXXXX)
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
# is NAME COND DIAG...: ok when the shell test COND holds
is() { local name=$1 cond=$2; shift 2; if eval "$cond"; then ok "$name"; else nok "$name" "$@"; fi; }
# pool_is: a latency check that Debian's libmilter worker pool fails today.
# A pass is a plain pass; a failure is reported as TAP "TODO" (an expected
# failure, counted apart from the passes) with its numbers, until the
# daemon stops depending on libmilter's pool (see the README's known limits).
POOL_TODO="libmilter's worker pool queues sessions behind workers blocked in DNS"
pool_is() {
    local name=$1 cond=$2; shift 2
    if eval "$cond"; then ok "$name"; return; fi
    n=$((n + 1)); echo "not ok $n - $name # TODO $POOL_TODO"
    local l; for l in "$@"; do echo "#   $l"; done
}
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    [ -n "$dnspid" ] && kill "$dnspid" 2>/dev/null
    [ -n "$pid" ] && wait "$pid" 2>/dev/null
    [ -n "$dnspid" ] && wait "$dnspid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# field KEY FILE: the value of KEY=... in the client's summary line
field() { sed -n "s/^messages=.* $1=\([^ ]*\).*/\1/p" "$2" | tail -1; }
fds() { ls "/proc/$pid/fd" 2>/dev/null | wc -l; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status"; }
threads() { sed -n 's/^Threads:[[:space:]]*//p' "/proc/$pid/status"; }
# settle: wait until the daemon is back to its idle thread count (libmilter
# ends a session's thread after the client's QUIT), at most 5 s
settle() {
    local want=$1
    for _ in $(seq 50); do [ "$(threads)" -le "$want" ] && return 0; sleep 0.1; done
    return 1
}

# batch TAG DOMAIN [COUNT] [extra client options]: COUNT sessions at once;
# names are per session (h<n>.DOMAIN, m<n>.DOMAIN), identical across
# batches; queue ids TAG-<n> mark this batch's log lines
batch() {
    local tag=$1 dom=$2 count=${3:-$N}
    shift 3
    "$CLIENT" -s "unix:$tmp/am.sock" -n "$count" -c "$count" -t 20 -v -d smtpd -a 192.0.2.10 \
        -H "h%n.$dom" -f "<user@m%n.$dom>" -q "$tag-%n" \
        -h "From: User <user@m%n.$dom>" -h "To: rcpt@mx.test.example" -h "Subject: load %n" \
        -h "Message-ID: <%n.$tag@m%n.$dom>" "$@" >"$tmp/$tag.out" 2>&1
}
# spf_pass TAG: daemon log lines of this batch with spf=pass
spf_pass() { grep -c " $1-[0-9]*: client=.* action=accept .*spf=pass" "$tmp/daemon.log"; }

"$PY" "$top_srcdir/t/slow-dns.py" --zone slow.example --drop drop.example --delay "$DELAY" \
    --port-file "$tmp/dns.port" --stats-file "$tmp/dns.stats" 2>"$tmp/dns.log" &
dnspid=$!
for _ in $(seq 50); do [ -s "$tmp/dns.port" ] && break; sleep 0.1; done
port=$(cat "$tmp/dns.port" 2>/dev/null)
is "slow DNS server listens" '[ -n "$port" ]' "$(cat "$tmp/dns.log")"

write_conf() {
    cat >"$tmp/am.conf" <<CONF
Socket unix:$tmp/am.sock
AuthservID mx.test.example
Nameservers 127.0.0.1@$port
DNSTimeout $1
CONF
}
write_conf 10
"$AM" -f -c "$tmp/am.conf" 2>"$tmp/daemon.log" &
pid=$!
for _ in $(seq 50); do
    grep -q 'started: socket=' "$tmp/daemon.log" && [ -S "$tmp/am.sock" ] && break
    sleep 0.1
done
is "daemon starts" '[ -S "$tmp/am.sock" ] && kill -0 $pid' "$(tail -3 "$tmp/daemon.log")"

# one message alone: the DNS really is slow (3 lookups x DELAY); it also
# starts the resolver's threads, so the idle thread count is taken after it
batch one slow.example 1
lat=$(field lat_max_ms "$tmp/one.out")
is "one message alone: accepted with spf=pass after ${lat:-?} ms of DNS (>= 3 x ${DELAY}s)" \
    '[ "$(field accept "$tmp/one.out")" = 1 ] && [ "$(spf_pass one)" = 1 ] && [ "${lat:-0}" -ge 850 ]' \
    "$(cat "$tmp/one.out")" "$(tail -2 "$tmp/daemon.log")"
sleep 0.5
idle_threads=$(threads)
echo "# idle: fds=$(fds) threads=$idle_threads rss=$(rss)kB t=${SECONDS}s"

declare -A FD RSS EL
mail_max=0
for b in 1 2 3; do
    batch "b$b" slow.example "$N"
    out=$tmp/b$b.out
    EL[$b]=$(field elapsed "$out")
    m=$(field mail_max_ms "$out")
    [ "${m:-0}" -gt "$mail_max" ] && mail_max=${m:-0}
    is "batch $b: $N sessions at once, every one accepted ($(field accept "$out") accept, $(field error "$out") error)" \
        '[ "$(field accept "$out")" = $N ] && [ "$(field error "$out")" = 0 ]' \
        "$(tail -1 "$out")" "$(grep -v 'action=accept' "$out" | head -3)"
    is "batch $b: $N daemon log lines with spf=pass (got $(spf_pass "b$b"))" \
        '[ "$(spf_pass "b$b")" = $N ]' "$(grep " b$b-" "$tmp/daemon.log" | grep -v spf=pass | head -3)"
    is "batch $b: took ${EL[$b]} s, < ${MAX_BATCH} s (sum of DNS delays: $N x 0.9 s)" \
        'awk -v e="${EL[$b]:-999}" -v m=$MAX_BATCH "BEGIN { exit !(e < m) }"' "$(tail -1 "$out")"
    settle "$idle_threads"
    is "batch $b: daemon threads back to $idle_threads (now $(threads))" '[ "$(threads)" -le "$idle_threads" ]'
    FD[$b]=$(fds)
    RSS[$b]=$(rss)
    echo "# batch $b: elapsed=${EL[$b]}s lat_max=$(field lat_max_ms "$out")ms mail_max=${m}ms fds=${FD[$b]} rss=${RSS[$b]}kB $(cat "$tmp/dns.stats") t=${SECONDS}s"
done
inflight=$(sed -n 's/.*inflight_max=\([0-9]*\).*/\1/p' "$tmp/dns.stats")
is "DNS server had $inflight queries waiting at once (>= $((N / 2)): lookups overlap)" \
    '[ "${inflight:-0}" -ge $((N / 2)) ]' "$(cat "$tmp/dns.stats")"
is "open fds after batches 1, 2, 3: ${FD[1]} ${FD[2]} ${FD[3]} (no growth)" \
    '[ "${FD[1]}" = "${FD[2]}" ] && [ "${FD[2]}" = "${FD[3]}" ]' "$(ls -l "/proc/$pid/fd" | tail -n +2)"
is "RSS after batches 1, 2, 3: ${RSS[1]} ${RSS[2]} ${RSS[3]} kB (batch 2 to 3 grows < $RSS_SLACK kB)" \
    '[ $((RSS[3] - RSS[2])) -lt $RSS_SLACK ]'
# MAIL needs no DNS: with a thread per connection it is answered at once;
# a session that waits about one message's DNS time for it was queued
# behind other sessions' lookups
pool_is "batches 1-3: every MAIL answered within ${MAIL_MAX} ms (slowest: $mail_max ms)" \
    '[ "$mail_max" -lt $MAIL_MAX ]' \
    "$(grep -h 'mail_ms=' "$tmp"/b[123].out | awk -v m=$MAIL_MAX '{ split($5, a, "="); if (a[2] + 0 >= m) c++ } END { print c + 0 " sessions waited >= " m " ms for MAIL" }')"

# DNSTimeout 2 (reload): sessions for a domain whose server never answers,
# and while their lookups hang, a burst of sessions for the slow domain
write_conf 2
kill -HUP "$pid"
for _ in $(seq 50); do grep -q 'configuration reloaded' "$tmp/daemon.log" && break; sleep 0.1; done
is "SIGHUP: DNSTimeout 2 loaded" 'grep -q "configuration reloaded" "$tmp/daemon.log"' "$(tail -3 "$tmp/daemon.log")"
batch warm slow.example 1
sleep 0.5
idle_threads=$(threads) # the first resolver lives on after a reload
fd_before=$(fds)
batch dropA drop.example $((N / 4)) &
bgA=$!
sleep 0.5
batch dropB drop.example $((N / 4)) &
bgB=$!
batch mixed slow.example $((N / 2))
wait $bgA $bgB
cat "$tmp/dropA.out" "$tmp/dropB.out" >"$tmp/drop.out"
# drop_checks TAG FILE COUNT: COUNT sessions answered 451 4.4.3 in time
drop_checks() {
    local tag=$1 f=$2 count=$3 dmax
    dmax=$(grep -o ' ms=[0-9]*' "$f" | cut -d= -f2 | sort -n | tail -1)
    is "$tag: all $count sessions answered 451 4.4.3 ($(grep -c 'reply="451 4.4.3' "$f") of them)" \
        '[ "$(grep -c "action=tempfail .*reply=\"451 4.4.3" "$f")" = $count ]' \
        "$(grep '^messages=' "$f")" "$(grep -v 'reply="451 4.4.3' "$f" | head -3)"
    pool_is "$tag: slowest answer after ${dmax:-?} ms (DNSTimeout 2 s: < ${DEADLINE_MAX} ms)" \
        '[ "${dmax:-99999}" -lt $DEADLINE_MAX ]' \
        "answers by second: $(grep -o ' ms=[0-9]*' "$f" | awk -F= '{ print int($2 / 1000) "s" }' | sort | uniq -c | tr -s '\n ' ' ')" \
        "waits for MAIL by second: $(grep -o ' mail_ms=[0-9]*' "$f" | awk -F= '{ print int($2 / 1000) "s" }' | sort | uniq -c | tr -s '\n ' ' ')"
}
drop_checks "silent domain, two waves 0.5 s apart" "$tmp/drop.out" $((N / 2))
is "silent domain: the daemon logs a 451 4.4.3 tempfail for each" \
    '[ "$(grep -c " drop[AB]-[0-9]*: .*action=tempfail code=451 dsn=4.4.3" "$tmp/daemon.log")" = $((N / 2)) ]' \
    "$(grep ' drop[AB]-' "$tmp/daemon.log" | head -2)"
is "meanwhile the slow (answering) domain: $((N / 2)) accepted with spf=pass ($(spf_pass mixed))" \
    '[ "$(field accept "$tmp/mixed.out")" = $((N / 2)) ] && [ "$(spf_pass mixed)" = $((N / 2)) ]' \
    "$(tail -1 "$tmp/mixed.out")" "$(grep ' mixed-' "$tmp/daemon.log" | grep -v spf=pass | head -3)"
mm=$(field mail_max_ms "$tmp/mixed.out")
pool_is "meanwhile the slow domain: every MAIL answered within ${MAIL_MAX} ms (slowest: ${mm:-?} ms)" \
    '[ "${mm:-99999}" -lt $MAIL_MAX ]' "$(tail -1 "$tmp/mixed.out")"
echo "# timeouts: mixed lat_max=$(field lat_max_ms "$tmp/mixed.out")ms mail_max=${mm}ms fds=$(fds) $(cat "$tmp/dns.stats") t=${SECONDS}s"
batch dropC drop.example $((N / 2))
drop_checks "silent domain, $((N / 2)) at once alone" "$tmp/dropC.out" $((N / 2))
# right after: the resolver must not treat its (single) server as dead
batch after slow.example 20
is "right after the timeouts: 20 normal messages accepted with spf=pass ($(spf_pass after)), slowest $(field lat_max_ms "$tmp/after.out") ms" \
    '[ "$(spf_pass after)" = 20 ] && [ "$(field lat_max_ms "$tmp/after.out")" -lt 2000 ]' "$(tail -1 "$tmp/after.out")" \
    "$(grep ' after-' "$tmp/daemon.log" | grep -v spf=pass | head -2 | cut -c1-300)"
waited=0
while [ "$(fds)" -gt "$fd_before" ] && [ $waited -lt $FD_WAIT ]; do sleep 1; waited=$((waited + 1)); done
is "the abandoned lookups' sockets are closed within ${FD_WAIT} s ($fd_before fds before, $(fds) after ${waited} s)" \
    '[ "$(fds)" -le "$fd_before" ]' "$(ls -l "/proc/$pid/fd" | grep -c socket) sockets open"
echo "# fds back to $(fds) after ${waited}s; rss=$(rss)kB threads=$(threads) t=${SECONDS}s"

is "daemon still alive" 'kill -0 $pid 2>/dev/null'
batch final slow.example 1
is "a final normal message is accepted with spf=pass" \
    '[ "$(field accept "$tmp/final.out")" = 1 ] && [ "$(spf_pass final)" = 1 ]' \
    "$(cat "$tmp/final.out")" "$(tail -2 "$tmp/daemon.log")"
is "no error or crit lines in the daemon log" '! grep -Eq "^authmilter: (emerg|alert|crit|error):" "$tmp/daemon.log"' \
    "$(grep -E '^authmilter: (emerg|alert|crit|error):' "$tmp/daemon.log" | head -3)"

echo "1..$n"
[ "$failed" -eq 0 ]
