#!/usr/bin/env bash
# t/e2e-submission.sh - end to end: real Postfix (submission with Cyrus SASL,
# inbound port), the real authmilter daemon, swaks as the client and
# smtp-sink capturing what Postfix delivers.  TAP output.
#
# Every case asserts the SMTP reply codes AND whether the message reached
# smtp-sink (and, where it matters, the headers it arrived with).  Nothing is
# skipped: without the daemon binary or the Postfix tools the script fails.
# Needs root (a private Postfix master); everything listens on 127.0.0.1,
# on ports picked at start-up, and is removed at exit (KEEP=1 keeps it).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
. "$top_srcdir/t/e2e-lib.sh"

# SASL users: "Dave" has an upper-case login, mapped as "dave" below.
H_USERS="alice:alice-pw bob:bob-pw carol:carol-pw Dave:dave-pw"
e2e_start
T="$H_DIR/test"
mkdir -p "$T"

# --- milter configuration and login map -----------------------------------
cat >"$T/sender_login" <<'MAP'
alice@demo.example      alice
bob@demo.example        bob
dave@demo.example       dave
@other.example          carol
MAP
cp "$top_srcdir/contrib/demo-data/demo.zone" "$T/test.zone"
cat >"$T/authmilter.conf" <<CONF
AuthservID          mx.demo.example
SubmissionDaemons   ORIGINATING
SenderLoginMap      $T/sender_login
HeaderFromCheck     yes
SenderHeaderCheck   yes
DNSZoneFile         $T/test.zone
CONF

# mkmsg FILE FROM [extra header lines...] - a complete message (no swaks additions)
mkmsg() {
    local file=$1 from=$2 h base
    base=$(basename "$file")
    shift 2
    {
        printf 'From: %s\n' "$from"
        printf 'To: Rcpt <rcpt@example.com>\n'
        printf 'Subject: e2e %s\n' "$base"
        printf 'Date: %s\n' "$(LC_ALL=C date -R)"
        printf 'Message-ID: <%s.%s@client.demo.example>\n' "$base" "$$"
        for h in "$@"; do printf '%s\n' "$h"; done
        printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n'
        printf 'Body of %s.\n  leading spaces, trailing spaces   \n\nlast line\n' "$base"
    } >"$file"
}

# sub NAME LOGIN PASSWORD MAILFROM MSGFILE - submit with AUTH PLAIN (LOGIN "-": no AUTH)
sub() {
    local name=$1 login=$2 pw=$3 from=$4 msg=$5 auth=()
    [ "$login" != - ] && auth=(--auth PLAIN --auth-user "$login" --auth-password "$pw")
    harness_send submission "${auth[@]}" --from "$from" --to rcpt@example.com \
        --data "$msg" >"$T/$name.out"
}

# context FILE - transcript lines for a failure report

# expect_refused NAME STAGE CODE DSN - reply CODE with DSN at STAGE, nothing delivered
expect_refused() {
    local name=$1 stage=$2 code=$3 dsn=$4 before=$5 got text
    got=$(harness_reply "$T/$name.out" "$stage")
    text=$(harness_reply_text "$T/$name.out" "$stage")
    if [ "$got" != "$code" ] || [ "${text#"$code $dsn"}" = "$text" ]; then
        nok "$name: $stage refused with $code $dsn" "got: '$text'" "$(context "$T/$name.out")"
    elif grep -q 'queued as' "$T/$name.out"; then
        nok "$name: $stage refused with $code $dsn" "but Postfix queued it" "$(context "$T/$name.out")"
    elif [ "$(harness_sink_count)" -ne "$before" ]; then
        nok "$name: $stage refused with $code $dsn" "but smtp-sink got a message"
    else
        ok "$name: $stage refused with $text, nothing delivered"
    fi
}


# header_is NAME FILE HEADER VALUE - the delivered header has exactly VALUE
header_is() {
    local got
    got=$(harness_header "$2" "$3")
    [ "$got" = "$4" ] || { nok "$1" "$3: got '$got', want '$4'"; return 1; }
    return 0
}

# run_refused NAME STAGE CODE DSN LOGIN PW MAILFROM FROM [headers...] - one refusal case
run_refused() {
    local name=$1 stage=$2 code=$3 dsn=$4 login=$5 pw=$6 mf=$7 from=$8 before
    shift 8
    mkmsg "$T/m-$name" "$from" "$@"
    before=$(harness_sink_count)
    sub "$name" "$login" "$pw" "$mf" "$T/m-$name"
    expect_refused "$name" "$stage" "$code" "$dsn" "$before"
}

# run_delivered NAME LOGIN PW MAILFROM FROM [headers...] - submit; 0 if delivered
run_delivered() {
    local name=$1 login=$2 pw=$3 mf=$4 from=$5
    shift 5
    mkmsg "$T/m-$name" "$from" "$@"
    sub "$name" "$login" "$pw" "$mf" "$T/m-$name"
    expect_delivered "$name"
}

echo "1..22"

# 1 - the daemon starts on the test configuration
if harness_start_milter "$T/authmilter.conf" 2>"$T/milter-start.err"; then
    ok "authmilter started under the harness ($(head -c 60 <<<"$("$H_AUTHMILTER" -V 2>&1)"))"
else
    nok "authmilter started under the harness" "$(cat "$T/milter-start.err")"
fi

# 2 - no AUTH on submission
run_refused no-auth MAIL 530 5.7.0 - - alice@demo.example "Alice <alice@demo.example>"

# 3 - alice as herself: accepted, delivered with her From and the ESMTPSA trace
if run_delivered alice-as-alice alice alice-pw alice@demo.example "Alice <alice@demo.example>" &&
    header_is "alice-as-alice: accepted and delivered" "$DELIVERED" From "Alice <alice@demo.example>"; then
    if grep -q 'with ESMTPA id' "$DELIVERED" &&
        grep -q '^X-Mail-Args: <alice@demo.example>' "$DELIVERED"; then
        ok "alice as herself: accepted and delivered (From, envelope, ESMTPA trace intact)"
    else
        nok "alice as herself: delivered with envelope and ESMTPA trace" "$(head -12 "$DELIVERED")"
    fi
fi

# 4 - alice with bob's envelope sender
run_refused alice-mailfrom-bob MAIL 553 5.7.1 alice alice-pw bob@demo.example "Alice <alice@demo.example>"

# 5 - alice, envelope hers, From: bob
run_refused alice-from-bob END 553 5.7.1 alice alice-pw alice@demo.example "Bob <bob@demo.example>"

# 6 - From: with two addresses, one not hers
run_refused alice-from-two END 553 5.7.1 alice alice-pw alice@demo.example \
    "Alice <alice@demo.example>, Bob <bob@demo.example>"

# 7 - Sender: bob
run_refused alice-sender-bob END 553 5.7.1 alice alice-pw alice@demo.example \
    "Alice <alice@demo.example>" "Sender: Bob <bob@demo.example>"

# 8 - alice+tag@: subaddress of her own address
if run_delivered alice-plus-tag alice alice-pw alice+tag@demo.example "Alice <alice+tag@demo.example>"; then
    header_is "alice+tag@ accepted and delivered" "$DELIVERED" From "Alice <alice+tag@demo.example>" &&
        ok "alice+tag@ (envelope and From) accepted and delivered"
fi

# 9, 10 - @domain entry: carol owns all of other.example, alice none of it
if run_delivered carol-domain carol carol-pw anyone@other.example "Carol <anyone@other.example>"; then
    ok "@other.example entry: carol as anyone@other.example accepted and delivered"
fi
run_refused alice-as-other-domain MAIL 553 5.7.1 alice alice-pw alice@other.example "Alice <alice@other.example>"

# 11 - upper-case address variants
if run_delivered upper-address alice alice-pw ALICE@DEMO.EXAMPLE "Alice <Alice@Demo.Example>"; then
    ok "upper-case envelope ALICE@DEMO.EXAMPLE and From Alice@Demo.Example accepted and delivered"
fi

# 12 - upper-case login: SASL user "Dave", map says "dave"
if run_delivered upper-login Dave dave-pw dave@demo.example "Dave <dave@demo.example>"; then
    if grep -q 'sasl_username=Dave' "$H_LOG"; then
        ok "login 'Dave' ({auth_authen}=Dave) matches map entry 'dave': accepted and delivered"
    else
        nok "login 'Dave' reached Postfix as 'Dave'" "$(grep sasl_username "$H_LOG" | tail -3)"
    fi
fi

# 13 - and an upper-case login is still refused someone else's address
run_refused upper-login-foreign MAIL 553 5.7.1 Dave dave-pw alice@demo.example "Alice <alice@demo.example>"

# 14 - inbound port: no AUTH, From anyone, outside client; delivered untouched
mkmsg "$T/m-inbound" "Bob <bob@demo.example>" "Sender: Mallory <mallory@example.net>"
harness_send inbound --xclient-addr 192.0.2.10 --from someone@example.org \
    --to bob@demo.example --data "$T/m-inbound" >"$T/inbound.out"
if expect_delivered inbound; then
    # what swaks sent must arrive byte for byte after the trace headers
    # that Postfix and the milter may prepend, and nothing else may change
    harness_sent_data "$T/inbound.out" >"$T/inbound.sent"
    harness_message "$DELIVERED" | tr -d '\r' >"$T/inbound.got"
    want=$(wc -l <"$T/inbound.sent")
    extra=$(($(wc -l <"$T/inbound.got") - want))
    if [ "$want" -gt 10 ] && [ "$extra" -ge 1 ] &&
        tail -n "$want" "$T/inbound.got" | cmp -s - "$T/inbound.sent" &&
        ! head -n "$extra" "$T/inbound.got" |
        grep -qvE '^([[:blank:]]|Received:|Authentication-Results:|Received-SPF:)'; then
        ok "inbound port, no AUTH, From/Sender anyone: delivered, headers and body unchanged"
    else
        nok "inbound port: delivered unchanged" "$(diff "$T/inbound.sent" "$T/inbound.got" | head -20)"
    fi
fi

# 15 - the macros reached the milter: the daemon's log line names the queue id
qid=$(harness_queue_id "$T/alice-as-alice.out")
if [ -n "$qid" ] && grep -q "$qid" "$H_DIR/milter/authmilter.log"; then
    ok "milter saw the queue id (macro i) of the delivered submission $qid"
else
    nok "milter saw the queue id (macro i)" "qid '$qid'" "$(tail -5 "$H_DIR/milter/authmilter.log")"
fi

# 16 - SIGHUP with a good new map applies it (else the next case proves nothing)
cat >"$T/sender_login" <<'MAP'
alice@demo.example      alice
bob@demo.example        bob
dave@demo.example       dave
@other.example          carol
team@demo.example       alice
MAP
harness_reload_milter 3
if run_delivered reload-good alice alice-pw team@demo.example "Team <team@demo.example>"; then
    ok "SIGHUP with a good map: the new entry team@ -> alice applies (delivered)"
fi

# 17-20 - SIGHUP with a broken map keeps the old rules
cat >"$T/sender_login" <<'MAP'
alice@demo.example      bob
bob@demo.example        alice
keyonly-no-login@demo.example
MAP
harness_reload_milter 3
if harness_milter_running && grep -q 'sender_login:3' "$H_DIR/milter/authmilter.log"; then
    ok "SIGHUP with a broken map: the daemon is still running and names sender_login:3"
else
    nok "SIGHUP with a broken map: the daemon is still running" "$(tail -5 "$H_DIR/milter/authmilter.log")"
fi
if run_delivered broken-alice alice alice-pw alice@demo.example "Alice <alice@demo.example>"; then
    ok "after the broken map: alice as herself still accepted and delivered"
fi
run_refused broken-bob-as-alice MAIL 553 5.7.1 bob bob-pw alice@demo.example "Alice <alice@demo.example>"
if run_delivered broken-team alice alice-pw team@demo.example "Team <team@demo.example>"; then
    ok "after the broken map: the last good map (team@ -> alice) still applies"
fi

# 21 - milter stopped: Postfix tempfails, nothing lost, nothing delivered unchecked
harness_stop_milter
mkmsg "$T/m-stopped" "Bob <bob@demo.example>"
before=$(harness_sink_count)
sub stopped alice alice-pw bob@demo.example "$T/m-stopped"
harness_send inbound --from someone@example.org --to bob@demo.example \
    --data "$T/m-stopped" >"$T/stopped-in.out"
sleep 1
codes=$(grep -hE '^<\*\* [0-9]{3} ' "$T/stopped.out" "$T/stopped-in.out" | cut -c5-7 | sort -u | tr '\n' ' ')
queued=$(harness_queue_count)
if [ "$(harness_sink_count)" -ne "$before" ]; then
    nok "milter stopped: nothing delivered unchecked" "smtp-sink got a message"
elif grep -q 'queued as' "$T/stopped.out" "$T/stopped-in.out" && [ "$queued" -eq 0 ]; then
    nok "milter stopped: nothing delivered unchecked" "Postfix said queued but the queue is empty"
elif grep -q 'queued as' "$T/stopped.out" "$T/stopped-in.out"; then
    ok "milter stopped: message kept in the Postfix queue ($queued), not delivered"
elif [ -n "$codes" ] && ! grep -qE '(^| )[^4]' <<<"$codes"; then
    ok "milter stopped: both ports answer 4xx ($codes), nothing queued or delivered"
else
    nok "milter stopped: clients get 4xx" "codes: '$codes'" "$(context "$T/stopped.out")"
fi

# 22 - nothing arrived that a test did not expect
e2e_sink_check

e2e_finish 22 e2e
