#!/usr/bin/env bash
# t/wire-submission.sh - the real daemon on a unix socket, driven by Debian's
# miltertest (a real milter client), plus -n and -t on the command line.
# TAP output.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
AM=$top_builddir/milter/authmilter
tmp=$(mktemp -d /tmp/wire.XXXXXX)
n=0
failed=0
pid=

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
check() { local name=$1; shift; if "$@" >"$tmp/out" 2>&1; then ok "$name"; else nok "$name" "$(tail -5 "$tmp/out")"; fi; }
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

cat >"$tmp/logins" <<'MAP'
alice@example.com       alice
bob@example.com         bob
@team.example           alice, carol
MAP
cat >"$tmp/am.conf" <<CONF
Socket unix:$tmp/am.sock
SenderLoginMap $tmp/logins
AuthservID mx.test.example
PidFile $tmp/am.pid
CONF

start_daemon() {
    local before
    before=$(grep -c 'started: socket=' "$tmp/daemon.log" 2>/dev/null)
    "$AM" -f -c "$tmp/am.conf" 2>>"$tmp/daemon.log" &
    pid=$!
    for _ in $(seq 50); do
        [ "$(grep -c 'started: socket=' "$tmp/daemon.log")" -gt "${before:-0}" ] && [ -S "$tmp/am.sock" ] && return 0
        sleep 0.1
    done
    return 1
}

# lua_case NAME DAEMON LOGIN MAILFROM EXPECT_MAIL HEADERS EXPECT_EOM
#   (reply codes and texts are checked through -t and Postfix; here the kind of reply)
#   HEADERS: "Name: value|Name: value"; EXPECT_*: continue, accept, reject
lua_case() {
    local name=$1 daemon=$2 login=$3 from=$4 exp_mail=$5 headers=$6 exp_eom=$7
    local f="$tmp/case.lua"
    {
        echo "conn = mt.connect(\"unix:$tmp/am.sock\")"
        echo "if conn == nil then error('cannot connect') end"
        echo "mt.macro(conn, SMFIC_CONNECT, '{daemon_name}', '$daemon', 'j', 'mx.test.example')"
        echo "if mt.conninfo(conn, 'client.example', '192.0.2.10') ~= nil then error('conninfo') end"
        echo "if mt.helo(conn, 'client.example') ~= nil then error('helo') end"
        echo "mt.macro(conn, SMFIC_MAIL, '{auth_authen}', '$login', 'i', 'QID123')"
        echo "if mt.mailfrom(conn, '$from') ~= nil then error('mailfrom') end"
        if [ "$exp_mail" = reject ]; then
            echo "if mt.getreply(conn) ~= SMFIR_REPLYCODE then error('MAIL not refused') end"
            echo "mt.disconnect(conn)"
        else
            echo "if mt.getreply(conn) ~= SMFIR_CONTINUE then error('MAIL refused') end"
            local IFS='|'
            for h in $headers; do
                echo "if mt.header(conn, '${h%%:*}', '${h#*: }') ~= nil then error('header') end"
            done
            echo "if mt.eoh(conn) ~= nil then error('eoh') end"
            echo "if mt.bodystring(conn, 'hello\\r\\n') ~= nil then error('body') end"
            echo "if mt.eom(conn) ~= nil then error('eom') end"
            if [ "$exp_eom" = accept ]; then
                echo "r = mt.getreply(conn)"
                echo "if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then error('EOM not accepted: ' .. r) end"
            else
                echo "if mt.getreply(conn) ~= SMFIR_REPLYCODE then error('EOM not refused') end"
            fi
            echo "mt.disconnect(conn)"
        fi
    } >"$f"
    check "$name" miltertest -s "$f"
}

check "-V prints the version" bash -c "'$AM' -V | grep -q '^authmilter '"
check "-n accepts a good configuration" "$AM" -n -c "$tmp/am.conf"
printf 'Socket unix:%s/x.sock\nSenderLoginMap %s/none\n' "$tmp" "$tmp" >"$tmp/bad.conf"
check "-n refuses a missing map with file:line" bash -c "! '$AM' -n -c '$tmp/bad.conf' 2>'$tmp/err' && grep -q '$tmp/none' '$tmp/err'"
printf 'Socket unix:%s/x.sock\nBogusKey 1\n' "$tmp" >"$tmp/bad2.conf"
check "-n names file:line of an unknown key" bash -c "! '$AM' -n -c '$tmp/bad2.conf' 2>'$tmp/err' && grep -q '^$tmp/bad2.conf:2: unknown key' '$tmp/err'"

# -t, the offline run
printf 'From: Alice <alice@example.com>\nTo: x@example.net\nSubject: t\n\nbody\n' >"$tmp/ok.eml"
printf 'From: Bob <bob@example.com>\nTo: x@example.net\nSubject: t\n\nbody\n' >"$tmp/bob.eml"
check "-t: alice as herself is accepted" bash -c "'$AM' -c '$tmp/am.conf' -t '$tmp/ok.eml' --daemon-name ORIGINATING --login alice --mail-from alice@example.com | grep -qx 'action: accept'"
check "-t: alice with From: bob is refused, reply printed" bash -c "'$AM' -c '$tmp/am.conf' -t '$tmp/bob.eml' --daemon-name ORIGINATING --login alice --mail-from alice@example.com | grep -q '^reply: 553 5.7.1 From: address <bob@example.com> not owned by user alice'"
check "-t: no login on submission is refused with 530" bash -c "'$AM' -c '$tmp/am.conf' -t '$tmp/ok.eml' --daemon-name ORIGINATING --mail-from alice@example.com | grep -q '^reply: 530 5.7.0'"
check "-t: inbound is not checked" bash -c "'$AM' -c '$tmp/am.conf' -t '$tmp/bob.eml' --daemon-name smtpd --mail-from bob@example.com | grep -qx 'action: accept'"

# switches and structural rules of the submission path
tcase() { # NAME CONF MSGFILE LOGIN MAILFROM EXPECTED-LINE-REGEX
    "$AM" -c "$2" -t "$3" --daemon-name ORIGINATING --login "$4" --mail-from "$5" >"$tmp/tcase.out" 2>/dev/null
    check "$1" grep -qE "$6" "$tmp/tcase.out"
}
printf 'From: alice@example.com\nSender: Bob <bob@example.com>\nSubject: t\n\nbody\n' >"$tmp/sender.eml"
printf 'To: x@example.net\nSubject: no from\n\nbody\n' >"$tmp/nofrom.eml"
printf 'From: alice@example.com <broken\nSubject: t\n\nbody\n' >"$tmp/badfrom.eml"
printf 'From: team:;\nSubject: t\n\nbody\n' >"$tmp/emptyfrom.eml"
cp "$tmp/am.conf" "$tmp/nohdr.conf"; printf 'HeaderFromCheck no\nSenderHeaderCheck no\n' >>"$tmp/nohdr.conf"
cp "$tmp/am.conf" "$tmp/nullrej.conf"; echo 'NullSenderLogin reject' >>"$tmp/nullrej.conf"
tcase "-t: Sender: bob refused by default" "$tmp/am.conf" "$tmp/sender.eml" alice alice@example.com '^reply: 553 5.7.1 Sender: address <bob@example.com>'
tcase "-t: SenderHeaderCheck no lets Sender: bob pass" "$tmp/nohdr.conf" "$tmp/sender.eml" alice alice@example.com '^action: accept'
tcase "-t: HeaderFromCheck no lets From: bob pass" "$tmp/nohdr.conf" "$tmp/bob.eml" alice alice@example.com '^action: accept'
tcase "-t: HeaderFromCheck no still checks the envelope" "$tmp/nohdr.conf" "$tmp/bob.eml" alice bob@example.com '^reply: 553 5.7.1 Sender address <bob@example.com>'
tcase "-t: no From: refused with 550 5.6.0" "$tmp/am.conf" "$tmp/nofrom.eml" alice alice@example.com '^reply: 550 5.6.0 Message has no From: header'
tcase "-t: unparsable From: refused with 550 5.6.0" "$tmp/am.conf" "$tmp/badfrom.eml" alice alice@example.com '^reply: 550 5.6.0 Malformed From: header'
tcase "-t: From: without an address refused" "$tmp/am.conf" "$tmp/emptyfrom.eml" alice alice@example.com '^reply: 550 5.6.0 From: header has no address'
tcase "-t: null sender from a login accepted by default" "$tmp/am.conf" "$tmp/ok.eml" alice '<>' '^action: accept'
tcase "-t: null sender still needs an own From:" "$tmp/am.conf" "$tmp/bob.eml" alice '<>' '^reply: 553 5.7.1 From: address'
tcase "-t: NullSenderLogin reject refuses <>" "$tmp/nullrej.conf" "$tmp/ok.eml" alice '<>' '^reply: 553 5.7.1 Null sender'

# forged Authentication-Results: ours (any case, comments, garbage) removed from
# the highest index down, foreign ones kept; submission gets auth=pass
{
    printf 'Authentication-Results: mx.test.example; spf=pass smtp.mailfrom=x@y\n'
    printf 'Authentication-Results: other.example; dkim=pass header.d=y\n'
    printf 'Authentication-Results: (c) MX.TEST.EXAMPLE; garbage((\n'
    printf 'Authentication-Results: mx.test.example.evil; spf=pass\n'
    printf 'From: alice@example.com\nSubject: t\n\nbody\n'
} >"$tmp/forged.eml"
"$AM" -c "$tmp/am.conf" -t "$tmp/forged.eml" --daemon-name smtpd --mail-from a@b.example >"$tmp/forged.out" 2>/dev/null
check "-t: forged A-R removed highest index first, foreign kept" \
    bash -c "grep '^delete:' '$tmp/forged.out' | tr '\n' '|' | grep -qx 'delete: Authentication-Results 3|delete: Authentication-Results 1|'"
"$AM" -c "$tmp/am.conf" -t "$tmp/forged.eml" --daemon-name ORIGINATING --login alice --mail-from alice@example.com >"$tmp/sub.out" 2>/dev/null
check "-t: submission removes forged A-R too" bash -c "[ \$(grep -c '^delete: Authentication-Results' '$tmp/sub.out') = 2 ]"
check "-t: submission adds auth=pass smtp.auth=alice" \
    bash -c "grep -A3 '^insert: 0' '$tmp/sub.out' | tr -d '\n\t' | grep -q '^insert: 0Authentication-Results: mx.test.example;auth=pass smtp.auth=alice'"

# signing: -t shows the exact signatures; a refused spoof is never signed;
# -n --check-dns compares the published keys with ours
mkdir -p "$tmp/keys"
"$top_srcdir/contrib/keygen" example.com rsa1 rsa "$tmp/keys" >"$tmp/keys/rsa1.txt" 2>&1
"$top_srcdir/contrib/keygen" example.com ed1 ed25519 "$tmp/keys" >"$tmp/keys/ed1.txt" 2>&1
{
    grep -h ' IN TXT ' "$tmp/keys/rsa1.txt" "$tmp/keys/ed1.txt"
    echo 'wrong._domainkey.example.com. IN TXT "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="'
    echo 'example.com. 300 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 300'
} >"$tmp/dkim.zone"
printf 'rsa example.com:rsa1:%s\ned example.com:ed1:%s\n' "$tmp/keys/rsa1.example.com.key" "$tmp/keys/ed1.example.com.key" >"$tmp/KeyTable"
printf '*@example.com rsa\n*@example.com ed\n' >"$tmp/SigningTable"
sed "s|^Socket .*|Socket unix:$tmp/sign.sock|; /^PidFile/d" "$tmp/am.conf" >"$tmp/sign.conf"
printf 'KeyTable %s\nSigningTable refile:%s\nDNSZoneFile %s\n' "$tmp/KeyTable" "$tmp/SigningTable" "$tmp/dkim.zone" >>"$tmp/sign.conf"
"$AM" -c "$tmp/sign.conf" -t "$tmp/ok.eml" --daemon-name ORIGINATING --login alice --mail-from alice@example.com >"$tmp/signed.out" 2>/dev/null
check "-t: an authorised message gets an RSA and an Ed25519 signature" \
    bash -c "grep -q '^DKIM-Signature: v=1; a=rsa-sha256;' '$tmp/signed.out' && grep -q '^DKIM-Signature: v=1; a=ed25519-sha256;' '$tmp/signed.out'"
check "-t: signatures are inserted at the top, LF folded, no CR" \
    bash -c "[ \$(grep -c '^insert: 0' '$tmp/signed.out') = 3 ] && ! grep -q \$'\\r' '$tmp/signed.out'"
"$AM" -c "$tmp/sign.conf" -t "$tmp/bob.eml" --daemon-name ORIGINATING --login alice --mail-from alice@example.com >"$tmp/spoof.out" 2>/dev/null
check "-t: a refused spoof with a From: we hold keys for is not signed" \
    bash -c "grep -q '^action: reject' '$tmp/spoof.out' && ! grep -q '^DKIM-Signature:' '$tmp/spoof.out'"
"$AM" -c "$tmp/sign.conf" -t "$tmp/ok.eml" --daemon-name smtpd --mail-from alice@example.com >"$tmp/inb.out" 2>/dev/null
check "-t: inbound mail is never signed" bash -c "grep -q '^action: accept' '$tmp/inb.out' && ! grep -q '^DKIM-Signature:' '$tmp/inb.out'"
check "-n --check-dns: published keys match" "$AM" -n --check-dns -c "$tmp/sign.conf"
printf 'bad example.com:wrong:%s\nnone example.com:absent:%s\n' "$tmp/keys/ed1.example.com.key" "$tmp/keys/rsa1.example.com.key" >>"$tmp/KeyTable"
"$AM" -n --check-dns -c "$tmp/sign.conf" >"$tmp/checkdns.out" 2>&1
check "-n --check-dns: a mismatch and a missing record are reported, exit non-zero" \
    bash -c "! '$AM' -n --check-dns -c '$tmp/sign.conf' >/dev/null 2>&1 && grep -q '^MISMATCH p= is another key: wrong._domainkey.example.com' '$tmp/checkdns.out' && grep -q '^MISSING no TXT record: absent._domainkey.example.com' '$tmp/checkdns.out'"
cp "$tmp/sign.conf" "$tmp/sign-nohdr.conf"; echo 'HeaderFromCheck no' >>"$tmp/sign-nohdr.conf"
"$AM" -c "$tmp/sign-nohdr.conf" -t "$tmp/bob.eml" --daemon-name ORIGINATING --login alice --mail-from alice@example.com >"$tmp/nohdr-sign.out" 2>/dev/null
check "-t: HeaderFromCheck no passes a foreign From: but never signs it" \
    bash -c "grep -q '^action: accept' '$tmp/nohdr-sign.out' && ! grep -q '^DKIM-Signature:' '$tmp/nohdr-sign.out'"
"$AM" -c "$tmp/sign-nohdr.conf" -t "$tmp/ok.eml" --daemon-name ORIGINATING --login alice --mail-from alice@example.com >"$tmp/nohdr-own.out" 2>/dev/null
check "-t: HeaderFromCheck no still signs the login's own From:" \
    bash -c "[ \$(grep -c '^DKIM-Signature:' '$tmp/nohdr-own.out') = 2 ]"
# key files may belong to the UserID user (so a reload after the privilege
# drop can read them), not to any other user
cp "$tmp/keys/ed1.example.com.key" "$tmp/keys/owned.key"
printf 'o example.com:ed1:%s\n' "$tmp/keys/owned.key" >"$tmp/KeyTable.owned"
sed "s|^KeyTable .*|KeyTable $tmp/KeyTable.owned|; /^SigningTable/d" "$tmp/sign.conf" >"$tmp/owned.conf"
printf 'SigningTable %s\nUserID nobody:nogroup\n' "$tmp/SigningTable.owned" >>"$tmp/owned.conf"
echo 'example.com o' >"$tmp/SigningTable.owned"
chown nobody "$tmp/keys/owned.key"
check "-n: a key owned by the UserID user is accepted" "$AM" -n -c "$tmp/owned.conf"
chown daemon "$tmp/keys/owned.key"
check "-n: a key owned by another user is refused with the fix named" \
    bash -c "! '$AM' -n -c '$tmp/owned.conf' 2>'$tmp/err' && grep -q 'chown root' '$tmp/err'"
chmod 644 "$tmp/keys/rsa1.example.com.key"
check "-n: a world-readable key is refused with the fix named" \
    bash -c "! '$AM' -n -c '$tmp/sign.conf' 2>'$tmp/err' && grep -q 'chmod 600' '$tmp/err'"
chmod 600 "$tmp/keys/rsa1.example.com.key"

# UserID: privileges dropped after the socket is opened (and chowned to the user)
sed "s|^Socket .*|Socket unix:$tmp/priv.sock|; /^PidFile/d" "$tmp/am.conf" >"$tmp/priv.conf"
echo "UserID nobody:nogroup" >>"$tmp/priv.conf"
chmod 755 "$tmp"
"$AM" -f -c "$tmp/priv.conf" 2>"$tmp/priv.log" &
ppid=$!
for _ in $(seq 50); do [ -S "$tmp/priv.sock" ] && grep -q 'started:' "$tmp/priv.log" && break; sleep 0.1; done
check "UserID: the daemon runs as nobody" bash -c "grep -q \"^Uid:.*\$(id -u nobody)\" /proc/$ppid/status"
check "UserID: the socket belongs to nobody:nogroup" bash -c "[ \"\$(stat -c %U:%G '$tmp/priv.sock')\" = nobody:nogroup ]"
kill $ppid 2>/dev/null; wait $ppid 2>/dev/null

# the daemon on its socket
if start_daemon; then ok "daemon starts and opens its socket"; else nok "daemon starts" "$(cat "$tmp/daemon.log")"; fi
check "pid file written" bash -c "[ \"\$(cat '$tmp/am.pid')\" = $pid ]"
lua_case "wire: no login on submission refused at MAIL" ORIGINATING "" "<alice@example.com>" reject "" -
lua_case "wire: alice as herself accepted" ORIGINATING alice "<alice@example.com>" continue \
    "From: Alice <alice@example.com>|To: x@example.net|Subject: hi" accept
lua_case "wire: alice with envelope bob refused at MAIL" ORIGINATING alice "<bob@example.com>" reject "" -
lua_case "wire: alice with From: bob refused at end of message (553)" ORIGINATING alice "<alice@example.com>" continue \
    "From: bob@example.com|Subject: hi" reject 553
lua_case "wire: alice+tag accepted" ORIGINATING alice "<alice+tag@example.com>" continue \
    "From: alice+news@example.com" accept
lua_case "wire: @domain entry for carol" ORIGINATING carol "<carol@team.example>" continue \
    "From: Carol <anyone@team.example>" accept
lua_case "wire: Sender: bob refused" ORIGINATING alice "<alice@example.com>" continue \
    "From: alice@example.com|Sender: bob@example.com" reject 553
lua_case "wire: two From: headers refused (550)" ORIGINATING alice "<alice@example.com>" continue \
    "From: alice@example.com|From: alice@example.com" reject 550
lua_case "wire: inbound listener untouched" smtpd "" "<bob@elsewhere.example>" continue \
    "From: bob@example.com" accept
# (a 100 KB header is tested through Postfix in t/e2e-submission.sh: miltertest
# itself overflows its stack on headers of a few KB)
lua_case "wire: a 1 KB header is taken" smtpd "" "<a@b.example>" continue \
    "From: a@b.example|X-Big: $(head -c 1000 /dev/zero | tr '\0' 'x')" accept

# SIGHUP: a broken map keeps the old rules; a good one takes effect
cp "$tmp/logins" "$tmp/logins.good"
printf 'dup@example.com a\ndup@example.com b\n' >"$tmp/logins"
kill -HUP "$pid"; sleep 0.5
check "SIGHUP with a broken map: daemon still running" kill -0 "$pid"
check "SIGHUP with a broken map: error logged" grep -q 'reload failed' "$tmp/daemon.log"
lua_case "SIGHUP with a broken map: alice still allowed" ORIGINATING alice "<alice@example.com>" continue \
    "From: alice@example.com" accept
lua_case "SIGHUP with a broken map: bob still refused for alice" ORIGINATING alice "<bob@example.com>" reject "" -
sed 's/^bob@example.com .*/bob@example.com bob, alice/' "$tmp/logins.good" >"$tmp/logins"
kill -HUP "$pid"; sleep 0.5
lua_case "SIGHUP with a good map: new rule applies" ORIGINATING alice "<bob@example.com>" continue \
    "From: bob@example.com" accept

# a burst of SIGHUPs (some arriving during a reload) never stops the daemon
for _ in $(seq 100); do kill -HUP "$pid"; done
sleep 1
check "a burst of 100 SIGHUPs: daemon still running" kill -0 "$pid"
lua_case "a burst of 100 SIGHUPs: still serving" ORIGINATING alice "<alice@example.com>" continue \
    "From: alice@example.com" accept

# a second daemon on a live socket refuses to start
check "a live socket is not stolen" bash -c "! timeout 5 '$AM' -f -c '$tmp/am.conf' 2>'$tmp/second.log' && grep -q 'another milter is listening' '$tmp/second.log'"
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM stops the daemon" bash -c "! kill -0 $pid 2>/dev/null"
check "socket and pid file removed on exit" bash -c "[ ! -e '$tmp/am.sock' ] && [ ! -e '$tmp/am.pid' ]"
pid=
# a stale socket (nobody listening) is removed at start
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$tmp/am.sock"
if start_daemon && grep -q 'removed stale socket' "$tmp/daemon.log"; then ok "a stale socket is replaced"; else nok "a stale socket is replaced" "$(tail -3 "$tmp/daemon.log")"; fi
lua_case "daemon serves after replacing a stale socket" ORIGINATING alice "<alice@example.com>" continue "From: alice@example.com" accept

echo "1..$n"
[ "$failed" -eq 0 ]
