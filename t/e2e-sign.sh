#!/usr/bin/env bash
# t/e2e-sign.sh - end to end: DKIM signing of authorised submissions through
# a real Postfix, checked by independent verifiers.  TAP output.
#
# Keys are made at test time with contrib/keygen (RSA and Ed25519 for
# demo.example; their zone lines serve as the verifiers' DNS), plus the
# RFC 8463 example Ed25519 key for football.example.com.  What smtp-sink
# captured (minus smtp-sink's own lines) is verified by python3-dkim
# (t/sign-verify.py, both algorithms) and Mail::DKIM (t/sign-verify.pl, RSA:
# Debian 12's Mail::DKIM has no Ed25519).  Also: tampering breaks the
# signatures, a spoof is refused and never signed (nor by -t), inbound mail
# is never signed, a broken key on SIGHUP keeps the old key, a world-readable
# key stops the daemon from starting, the log line names what was signed.
# Needs root; everything on 127.0.0.1; removed at exit (KEEP=1 keeps it).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
. "$top_srcdir/t/e2e-lib.sh"

PY=/usr/bin/python3
PLAN=20
e2e_start
T="$H_DIR/test"
K="$T/keys"
MLOG="$H_DIR/milter/authmilter.log"
mkdir -p "$K"
chmod 700 "$K"

# --- keys, tables, configuration ------------------------------------------
"$top_srcdir/contrib/keygen" demo.example rsa1 rsa "$K" >"$T/keys.zone" 2>/dev/null &&
    "$top_srcdir/contrib/keygen" demo.example ed1 ed25519 "$K" >>"$T/keys.zone" 2>/dev/null ||
    echo "# keygen failed" >&2
cp "$top_srcdir/t/data/keys/rfc8463-ed25519.pem" "$K/brisbane.key"
chmod 600 "$K/brisbane.key"
RFC8463_PUB=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
echo "brisbane._domainkey.football.example.com. IN TXT \"v=DKIM1; k=ed25519; p=$RFC8463_PUB\"" \
    >"$T/rfc8463.zone"
cp "$T/keys.zone" "$T/keys-old.zone" # the public keys as first published

cat >"$T/KeyTable" <<EOF
rsa1._domainkey.demo.example      demo.example:rsa1:$K/rsa1.demo.example.key
ed1._domainkey.demo.example       demo.example:ed1:$K/ed1.demo.example.key
brisbane._domainkey.football      football.example.com:brisbane:$K/brisbane.key
EOF
cat >"$T/SigningTable" <<'EOF'
demo.example            rsa1._domainkey.demo.example
demo.example            ed1._domainkey.demo.example
football.example.com    brisbane._domainkey.football
EOF
cat >"$T/sender_login" <<'EOF'
alice@demo.example      alice
bob@demo.example        bob
@football.example.com   alice
EOF
cp "$top_srcdir/contrib/demo-data/demo.zone" "$T/test.zone"
cat >"$T/authmilter.conf" <<CONF
AuthservID          mx.demo.example
SubmissionDaemons   ORIGINATING
SenderLoginMap      $T/sender_login
DNSZoneFile         $T/test.zone
KeyTable            $T/KeyTable
SigningTable        $T/SigningTable
CONF

# mkmsg FILE FROM [extra header lines...] - a complete message
mkmsg() {
    local file=$1 from=$2 h base
    base=$(basename "$file")
    shift 2
    {
        printf 'From: %s\n' "$from"
        printf 'To: Rcpt <rcpt@example.com>\n'
        printf 'Subject: e2e sign %s\n' "$base"
        printf 'Date: %s\n' "$(LC_ALL=C date -R)"
        printf 'Message-ID: <%s.%s@client.demo.example>\n' "$base" "$$"
        for h in "$@"; do printf '%s\n' "$h"; done
        printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n'
        printf 'Body of %s.\n  leading spaces, trailing spaces   \n\n\ttab line\nlast line\n' "$base"
    } >"$file"
}

# sub NAME LOGIN MAILFROM MSGFILE - submit with AUTH PLAIN (password LOGIN-pw)
sub() {
    harness_send submission --auth PLAIN --auth-user "$2" --auth-password "$2-pw" \
        --from "$3" --to rcpt@example.com --data "$4" >"$T/$1.out"
}

# context FILE - transcript lines for a failure report


# sigtags FILE - one line per DKIM-Signature: "a=A d=D s=S"
sigtags() {
    harness_header "$1" DKIM-Signature | while IFS= read -r v; do
        v=$(tr -d ' \t' <<<"$v")
        printf 'a=%s d=%s s=%s\n' "$(sed -n 's/.*;a=\([^;]*\).*/\1/p' <<<";$v")" \
            "$(sed -n 's/.*;d=\([^;]*\).*/\1/p' <<<";$v")" "$(sed -n 's/.*;s=\([^;]*\).*/\1/p' <<<";$v")"
    done | sort
}

# dkimpy ZONE FILE / mdkim ZONE FILE - verifier output lines (path removed)
dkimpy() { "$PY" "$top_srcdir/t/sign-verify.py" "$1" "$2" 2>&1 | sed "s|^$2 ||"; }
#   smtp-sink stores LF line ends; Mail::DKIM wants the wire form (CRLF),
#   dkimpy takes either: it reads the file unchanged
mdkim() {
    sed 's/$/\r/' "$2" >"$2.crlf"
    perl "$top_srcdir/t/sign-verify.pl" "$1" "$2.crlf" 2>&1 | sed "s|^$2.crlf ||"
}

# log_since OFFSET - the milter log from byte OFFSET on
log_since() { tail -c +"$(($1 + 1))" "$MLOG"; }

echo "1..$PLAN"

# 1 - the daemon starts with three keys
if [ "$(wc -l <"$T/keys.zone")" -eq 2 ] &&
    harness_start_milter "$T/authmilter.conf" 2>"$T/milter-start.err"; then
    ok "keygen made RSA + Ed25519 keys; authmilter started with a 3-key KeyTable"
else
    nok "authmilter started with the KeyTable" "$(cat "$T/milter-start.err")" "$(cat "$T/keys.zone")"
fi

# 2 - alice's message: two signatures, RSA and Ed25519, for demo.example
mkmsg "$T/m-alice" "Alice <alice@demo.example>"
sub alice alice alice@demo.example "$T/m-alice"
want_sigs=$'a=ed25519-sha256 d=demo.example s=ed1\na=rsa-sha256 d=demo.example s=rsa1'
if expect_delivered alice; then
    got=$(sigtags "$MSG")
    if [ "$got" = "$want_sigs" ]; then
        ok "alice's message delivered with two DKIM-Signatures (rsa-sha256 s=rsa1, ed25519-sha256 s=ed1)"
    else
        nok "alice's message carries the two signatures" "got:" "$got" "$(head -20 "$MSG")"
    fi
fi
ALICE_MSG=${MSG:-/nonexistent}
ALICE_QID=${QID:-none}

# 3 - dkimpy verifies both, on the message exactly as captured
got=$(dkimpy "$T/keys.zone" "$ALICE_MSG" | sort)
if [ "$got" = $'pass d=demo.example s=ed1 a=ed25519-sha256\npass d=demo.example s=rsa1 a=rsa-sha256' ]; then
    ok "python3-dkim verifies both signatures of the captured message"
else
    nok "python3-dkim verifies both signatures" "$got"
fi

# 4 - Mail::DKIM verifies the RSA one (it reports Ed25519 as unsupported)
got=$(mdkim "$T/keys.zone" "$ALICE_MSG")
if grep -qx 'pass d=demo.example s=rsa1 a=rsa-sha256' <<<"$got"; then
    ok "Mail::DKIM verifies the rsa-sha256 signature of the captured message"
else
    nok "Mail::DKIM verifies the rsa-sha256 signature" "$got"
fi

# 5, 6 - tampered copies fail in both verifiers
sed 's/^last line$/last lino/' "$ALICE_MSG" >"$T/tampered-body.eml"
sed '0,/^Subject: /s/^Subject: e2e sign/Subject: E2E sign/' "$ALICE_MSG" >"$T/tampered-subject.eml"
for what in body subject; do
    f="$T/tampered-$what.eml"
    gp=$(dkimpy "$T/keys.zone" "$f")
    gm=$(mdkim "$T/keys.zone" "$f")
    if cmp -s "$f" "$ALICE_MSG"; then
        nok "tampered $what: the copy differs from the original" "sed changed nothing"
    elif [ "$(grep -c '^fail ' <<<"$gp")" -eq 2 ] && ! grep -q '^pass' <<<"$gp" &&
        grep -q '^fail d=demo.example s=rsa1' <<<"$gm" && ! grep -q '^pass' <<<"$gm"; then
        ok "tampered $what: both signatures fail in python3-dkim, RSA fails in Mail::DKIM"
    else
        nok "tampered $what: signatures fail" "dkimpy: $gp" "Mail::DKIM: $gm"
    fi
done

# 7 - the log line of the signed message names domain/selector/algorithm
line=$(grep -F "$ALICE_QID" "$MLOG" | grep -F 'signed=' | tail -1)
if grep -q 'signed=[^ ]*demo.example/rsa1/rsa-sha256' <<<"$line" &&
    grep -q 'signed=[^ ]*demo.example/ed1/ed25519-sha256' <<<"$line"; then
    ok "log line of $ALICE_QID: ${line##*signed=}"
else
    nok "log line of the signed message names both signatures" "qid $ALICE_QID" "$(tail -3 "$MLOG")"
fi

# 8, 9 - spoof: alice, From: bob@demo.example (a domain we hold keys for)
mkmsg "$T/m-spoof" "Bob <bob@demo.example>"
before=$(harness_sink_count)
logoff=$(wc -c <"$MLOG")
sub spoof alice alice@demo.example "$T/m-spoof"
text=$(harness_reply_text "$T/spoof.out" END)
sleep 0.5
if [ "$(harness_reply "$T/spoof.out" END)" = 553 ] && [ "${text#553 5.7.1}" != "$text" ] &&
    ! grep -q 'queued as' "$T/spoof.out" && [ "$(harness_sink_count)" -eq "$before" ] &&
    [ "$(harness_queue_count)" -eq 0 ]; then
    ok "spoof (alice, From: bob@demo.example): '$text', nothing queued or delivered"
else
    nok "spoof refused 553 5.7.1, nothing delivered" "got '$text'; sink $(harness_sink_count) (was $before)" \
        "$(context "$T/spoof.out")"
fi
newlog=$(log_since "$logoff")
if grep -q 'action=reject' <<<"$newlog" && ! grep -qiE 'signed=[^- ]|dkim-signature' <<<"$newlog"; then
    ok "spoof: the milter log shows the reject and no signature"
else
    nok "spoof: milter log shows a reject and no signature" "$newlog"
fi

# 10 - -t on the same spoof prints the refusal and no DKIM-Signature
"$H_AUTHMILTER" -c "$H_MILTER_CONF" -t "$T/m-spoof" --login alice --daemon-name ORIGINATING \
    --mail-from alice@demo.example --rcpt rcpt@example.com >"$T/spoof-t.out" 2>&1
if grep -q '^reply: 553 5.7.1' "$T/spoof-t.out" && ! grep -qi 'DKIM-Signature' "$T/spoof-t.out" &&
    ! grep -q '^trace: sign' "$T/spoof-t.out"; then
    ok "-t on the spoof: 553 5.7.1, no DKIM-Signature printed"
else
    nok "-t on the spoof: 553 and no DKIM-Signature" "$(cat "$T/spoof-t.out")"
fi
# and -t on alice's own message does print them (else test 10 proves nothing)
"$H_AUTHMILTER" -c "$H_MILTER_CONF" -t "$T/m-alice" --login alice --daemon-name ORIGINATING \
    --mail-from alice@demo.example --rcpt rcpt@example.com >"$T/alice-t.out" 2>&1

# 11 - inbound mail is never signed, even From: one of our signing domains
if [ "$(grep -c '^DKIM-Signature: v=1' "$T/alice-t.out")" -ne 2 ]; then
    nok "-t on alice's own message prints two DKIM-Signatures (control)" "$(head -20 "$T/alice-t.out")"
else
    mkmsg "$T/m-inbound" "Alice <alice@demo.example>"
    harness_send inbound --xclient-addr 192.0.2.10 --from alice@demo.example \
        --to rcpt@example.com --data "$T/m-inbound" >"$T/inbound.out"
    if expect_delivered inbound; then
        if ! grep -qi '^DKIM-Signature:' "$MSG" && grep -q '^Authentication-Results: ' "$MSG"; then
            ok "inbound From: alice@demo.example: delivered (with A-R) and not signed (-t control signs 2)"
        else
            nok "inbound mail not signed" "$(head -15 "$MSG")"
        fi
    fi
fi

# 12, 13 - the RFC 8463 key: football.example.com, s=brisbane
mkmsg "$T/m-football" "Joe <joe@football.example.com>"
sub football alice joe@football.example.com "$T/m-football"
if expect_delivered football; then
    got=$(sigtags "$MSG")
    res=$(dkimpy "$T/rfc8463.zone" "$MSG")
    if [ "$got" = "a=ed25519-sha256 d=football.example.com s=brisbane" ] &&
        [ "$res" = "pass d=football.example.com s=brisbane a=ed25519-sha256" ]; then
        ok "RFC 8463 key: one ed25519-sha256 signature, python3-dkim verifies it with p=$RFC8463_PUB"
    else
        nok "RFC 8463 key signs and verifies" "sigs: $got" "dkimpy: $res"
    fi
    # the same signature against another Ed25519 public key must fail
    sed -n "s/^ed1\._domainkey\.demo\.example\. /brisbane._domainkey.football.example.com. /p" \
        "$T/keys.zone" >"$T/wrong.zone"
    res=$(dkimpy "$T/wrong.zone" "$MSG")
    if [ -s "$T/wrong.zone" ] && grep -q '^fail d=football.example.com' <<<"$res"; then
        ok "RFC 8463 signature fails against a different Ed25519 public key"
    else
        nok "RFC 8463 signature fails against another key" "$res"
    fi
else
    nok "RFC 8463 signature fails against another key" "(not delivered)"
fi

# 14, 15 - a world-readable key: the daemon refuses to start, naming the file
harness_stop_milter
chmod 644 "$K/ed1.demo.example.key"
: >"$T/milter-644.err"
logoff=$(wc -c <"$MLOG")
if harness_start_milter "$T/authmilter.conf" 2>"$T/milter-644.err"; then
    nok "world-readable key: the daemon refuses to start" "it started" "$(log_since "$logoff")"
else
    msg=$(log_since "$logoff")
    if grep -qF "$K/ed1.demo.example.key" <<<"$msg" && grep -q 'chmod 600' <<<"$msg" &&
        ! harness_milter_running; then
        ok "world-readable key (chmod 644): start refused: $(grep -F 'chmod 600' <<<"$msg" | head -1 | cut -c1-150)"
    else
        nok "world-readable key: refusal names the file and chmod 600" "$msg"
    fi
fi
chmod 600 "$K/ed1.demo.example.key"
if harness_start_milter "$T/authmilter.conf" 2>"$T/milter-restart.err"; then
    ok "after chmod 600 the daemon starts again"
else
    nok "after chmod 600 the daemon starts again" "$(cat "$T/milter-restart.err")"
fi

# 16 - SIGHUP after replacing the RSA key with garbage: still running, log names the key
cp "$K/rsa1.demo.example.key" "$T/rsa1.saved"
printf -- '-----BEGIN PRIVATE KEY-----\nthis is not a key\n-----END PRIVATE KEY-----\n' \
    >"$K/rsa1.demo.example.key"
chmod 600 "$K/rsa1.demo.example.key"
logoff=$(wc -c <"$MLOG")
harness_reload_milter 3
msg=$(log_since "$logoff")
if harness_milter_running && grep -qF "$K/rsa1.demo.example.key" <<<"$msg"; then
    ok "SIGHUP with a garbage RSA key: daemon still running, log names the key: $(grep -F rsa1 <<<"$msg" | head -1 | cut -c1-150)"
else
    nok "SIGHUP with a garbage key: running and the key named" "running: $(harness_milter_running && echo yes || echo no)" "$msg"
fi

# 17, 18 - and keeps signing with the old keys, which still verify
mkmsg "$T/m-after-hup" "Alice <alice@demo.example>"
sub after-hup alice alice@demo.example "$T/m-after-hup"
if expect_delivered after-hup; then
    got=$(sigtags "$MSG")
    if [ "$got" = "$want_sigs" ]; then
        ok "after the bad reload: still two signatures (rsa1, ed1)"
    else
        nok "after the bad reload: still two signatures" "$got"
    fi
    gp=$(dkimpy "$T/keys-old.zone" "$MSG" | sort)
    gm=$(mdkim "$T/keys-old.zone" "$MSG")
    if [ "$gp" = $'pass d=demo.example s=ed1 a=ed25519-sha256\npass d=demo.example s=rsa1 a=rsa-sha256' ] &&
        grep -qx 'pass d=demo.example s=rsa1 a=rsa-sha256' <<<"$gm"; then
        ok "after the bad reload: both verify with the old public keys (python3-dkim; RSA also Mail::DKIM)"
    else
        nok "after the bad reload: signatures verify with the old keys" "dkimpy: $gp" "Mail::DKIM: $gm"
    fi
else
    nok "after the bad reload: signatures verify with the old keys" "(not delivered)"
fi

# 19 - the log line of that message still says signed= with the RSA key
line=$(grep -F "${QID:-none}" "$MLOG" | grep -F 'signed=' | tail -1)
if grep -q 'signed=[^ ]*demo.example/rsa1/rsa-sha256' <<<"$line"; then
    ok "after the bad reload the log line still names demo.example/rsa1/rsa-sha256"
else
    nok "after the bad reload the log names rsa1" "$(tail -3 "$MLOG")"
fi

# 20 - nothing arrived that a test did not expect
e2e_sink_check

e2e_finish "$PLAN" e2e-sign
