# Calls through Dialtone's proxy with real clients. Two baresip instances register as
# two users (the tenant's sip_digest set to md5: baresip before 3.11 fails SHA-256
# challenges) and one calls the other: 407 answered, the callee answers at once, they
# talk a second, the caller hangs up, and the BYE is seen on both sides; the callee's
# INVITE came with our Record-Route. A third baresip rings and the caller hangs up first
# (CANCEL, 487); a SIPp phone answers busy (486). Then SIPp plays both phones: a uas registered (its
# Contact at the uas, register-to.xml) answers a SIPp uac calling with digest
# (call-auth.xml, the benchmark's scenarios), ACK and BYE through the Record-Route.
# A BLF key (SIPp) watching the third baresip gets NOTIFYs idle, early, confirmed,
# terminated as it is called, answers and hangs up. A From naming another line is
# refused. An IP-based upstream (a SIPp on 127.0.0.2) gets an emergency call and calls a
# user's external number. A flex phone (SIPp) logged in as 807 rings for 807, and no
# longer after *56; its guest line reaches the upstream with 112. All in a tenant of its
# own ("calls"), so no other test sees these calls or its settings. Sourced by
# interop/run.sh (lib.sh loaded).
benchsipp="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../shared/bench/sipp" 2>/dev/null && pwd)"
[ -f "$benchsipp/answer.xml" ] || benchsipp=/work/shared/bench/sipp
sipdir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sipp"

api POST /api/v1/tenants '{"slug":"calls","sip_domain":"calls.interop"}' >/dev/null
api PATCH /api/v1/tenants/calls '{"sip_digest":"md5"}' | jq -e '.sip_digest == "md5"' >/dev/null || fail "sip_digest md5 not taken"
for e in 801 802 803 805 806; do
  api POST /api/v1/tenants/calls/users "{\"first_name\":\"Call$e\",\"last_name\":\"Interop\",\"extensions\":[\"$e\"]}" >/dev/null
done
api POST /api/v1/tenants/calls/users '{"first_name":"Call804","last_name":"Interop","extensions":["804"],"external_numbers":["+4930555804"]}' >/dev/null
# 807 logs in at a flex phone (added now, so its own check-sync has passed by the time
# it registers: see flex.test.sh).
api POST /api/v1/tenants/calls/users '{"first_name":"Call807","last_name":"Flex","extensions":["807"],"pin":"582946"}' >/dev/null
fphone=$(api POST /api/v1/tenants/calls/phones '{"mac":"80:5e:c0:80:07:01","model":"T46U","flex":true}')
fcreated=$(date +%s%N)
domain=calls.interop
accounts=$(api GET '/api/v1/tenants/calls/extensions?limit=500')
acct() { jq -r ".items[] | select(.number==\"$1\") | .$2" <<<"$accounts"; }
bindings() { api GET /api/v1/tenants/calls/registrations | jq -c ".items[] | select(.sip_username==\"$1\")"; }

free_port() { # a UDP port with the next few free too (baresip binds UDP and TCP there, TLS one up)
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    ss -Hlntu "( sport = :$p or sport = :$((p + 1)) )" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
}

# baresip NAME EXT ANSWERMODE: a headless baresip for the extension's account with
# Dialtone as outbound proxy, a UDP console for commands, Opus with a sine tone as
# the microphone (ausine speaks 48 kHz only).
bpids=()
start_baresip() {
  local name=$1 ext=$2 mode=$3 d=$WORK/baresip-$1
  local sport; sport=$(free_port)
  local cport; cport=$(free_port)
  mkdir -p "$d"
  cat >"$d/config" <<CONF
poll_method		epoll
sip_listen		127.0.0.1:$sport
module_path		/usr/lib/baresip/modules
module			opus.so
module			aubridge.so
module			ausine.so
module			cons.so
cons_listen		127.0.0.1:$cport
audio_source		ausine,440
audio_player		aubridge,$name
module_app		account.so
module_app		menu.so
CONF
  printf '<sip:%s@%s>;auth_pass=%s;outbound="sip:%s;transport=udp";regint=600;answermode=%s\n' \
    "$(acct "$ext" sip_username)" "$domain" "$(acct "$ext" sip_password)" "$SIP" "$mode" >"$d/accounts"
  : >"$d/contacts"
  baresip -f "$d" -s -t 40 >"$WORK/baresip-$name.out" 2>&1 </dev/null &
  bpids+=($!)
  eval "${name}_cons=$cport ${name}_sip=$sport"
}
cleanup_calls() {
  for p in "${bpids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${bpids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup_calls EXIT
# wait_for WHAT CMD...: polls CMD every 0.1 s for up to 10 s.
wait_for() {
  local what=$1; shift
  for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done
  fail "timed out waiting for $what"
}
has() { grep -q -- "$2" "$WORK/baresip-$1.out"; }
registered() { bindings "$(acct "$1" sip_username)" | grep -q "127.0.0.1:$2"; }

start_baresip caller 801 manual
start_baresip callee 802 auto
wait_for "baresip 801 registered" registered 801 "$caller_sip"
wait_for "baresip 802 registered" registered 802 "$callee_sip"
echo "ok both baresip registered (801 from 127.0.0.1:$caller_sip, 802 from 127.0.0.1:$callee_sip)"

echo "/dial sip:802@$domain" >"/dev/udp/127.0.0.1/$caller_cons"
wait_for "the caller's call established" has caller "Call established"
wait_for "the callee's call established" has callee "Call established"
grep -q '^SIP/2.0 407 Proxy Authentication Required' "$WORK/baresip-caller.out" || fail "the caller's INVITE was not challenged"
grep -q '^Record-Route: <sip:127.0.0.1:.*;lr' "$WORK/baresip-callee.out" || fail "the callee's INVITE carried no Record-Route"
echo "ok 801 called 802: 407 answered, 180/200, call established on both"
sleep 1 # they talk a second
echo "/hangup" >"/dev/udp/127.0.0.1/$caller_cons"
wait_for "the BYE at the callee" has callee '^BYE sip:'
wait_for "the BYE answered at the caller" grep -q '^CSeq: [0-9]* BYE' "$WORK/baresip-caller.out"
awk '/^SIP\/2.0 200/{ok=1} ok && /^CSeq: [0-9]+ BYE/{found=1} /^$/{ok=0} END{exit !found}' "$WORK/baresip-caller.out" ||
  fail "the caller's BYE was not answered 200: $(grep -A3 '^BYE' "$WORK/baresip-caller.out" | head)"
echo "ok 801 hung up: BYE through the Record-Route seen by 802, 200 back to 801"

# CANCEL before the answer: a third baresip (805) rings and does not answer; the caller
# hangs up: 805 gets the CANCEL, the caller 487.
count() { grep -c -- "$2" "$WORK/baresip-$1.out" || true; }
more() { [ "$(count "$1" "$2")" -gt "$3" ]; } # more NAME PATTERN N: seen more than N times
start_baresip ringer 805 manual
wait_for "baresip 805 registered" registered 805 "$ringer_sip"
rang=$(count caller '^SIP/2.0 180'); terminated=$(count caller '^SIP/2.0 487')
echo "/dial sip:805@$domain" >"/dev/udp/127.0.0.1/$caller_cons"
wait_for "805 ringing" has ringer '^INVITE sip:'
wait_for "the caller hearing it ring" more caller '^SIP/2.0 180' "$rang"
echo "/hangup" >"/dev/udp/127.0.0.1/$caller_cons"
wait_for "the CANCEL at 805" has ringer '^CANCEL sip:'
wait_for "487 at the caller" more caller '^SIP/2.0 487' "$terminated"
echo "ok 801 hung up while 805 rang: CANCEL at 805, 487 to 801"

# BLF through a real call: SIPp as a busy-lamp key (line 806) subscribes to dialog for
# 805 (the baresip that does not answer by itself). 801 calls 805: the NOTIFY says early;
# then 805 accepts: confirmed; 801 hangs up: terminated. Each step waits for the NOTIFY
# of the one before, so none is merged into the next; SIPp then unsubscribes.
printf 'SEQUENTIAL\n%s;%s;[authentication username=%s password=%s];805\n' "$(acct 806 sip_username)" "$domain" \
  "$(acct 806 sip_username)" "$(acct 806 sip_password)" >"$WORK/calls-blf.csv"
timeout 30 sipp -sf "$sipdir/blf-call.xml" -inf "$WORK/calls-blf.csv" -m 1 -i 127.0.0.1 -p "$(free_port)" \
  -nostdin -timeout 25s -timeout_error -trace_logs -log_file "$WORK/calls-blf.log" \
  -trace_msg -message_file "$WORK/calls-blf.msg" "$SIP" >"$WORK/calls-blf.out" 2>&1 &
blfpid=$!
lamp() { grep -q "^notify version=[0-9]* state=$1\$" "$WORK/calls-blf.log" 2>/dev/null; }
wait_for "the lamp's first NOTIFY (805 idle)" lamp idle
echo "/dial sip:805@$domain" >"/dev/udp/127.0.0.1/$caller_cons"
wait_for "the lamp showing 805 early" lamp early
echo "/accept" >"/dev/udp/127.0.0.1/$ringer_cons"
wait_for "the lamp showing 805 confirmed" lamp confirmed
echo "/hangup" >"/dev/udp/127.0.0.1/$caller_cons"
wait "$blfpid" || { tail -40 "$WORK/calls-blf.msg"; cat "$WORK/calls-blf.log"; fail "the lamp's subscription did not run through"; }
states=$(sed -n 's/^notify version=\([0-9]*\) state=\([a-z]*\)$/\1 \2/p' "$WORK/calls-blf.log" | tr '\n' ' ')
[ "$states" = "0 idle 1 early 2 confirmed 3 terminated " ] || fail "the lamp's NOTIFYs (version state): $states"
grep -q '^unsubscribed' "$WORK/calls-blf.log" || fail "the lamp did not unsubscribe: $(cat "$WORK/calls-blf.log")"
grep -q '<dialog id="[^"]*" direction="recipient">' "$WORK/calls-blf.msg" || fail "the lamp's NOTIFYs: 805 not the recipient"
grep -q "<identity>sip:801@$domain</identity>" "$WORK/calls-blf.msg" || fail "the lamp's NOTIFYs do not name the caller 801"
echo "ok a BLF subscription to 805 got NOTIFYs as 801 called: idle, early, confirmed, terminated (versions 0-3)"

# SIPp as both phones, with the benchmark's scenarios.
# answering EXT NAME: SIPp answering one call (the benchmark's answer.xml, messages in
# $WORK/calls-NAME.msg), registered as EXT. Sets uaspid.
answering() {
  local uas; uas=$(free_port)
  timeout 30 sipp -sf "$benchsipp/answer.xml" -i 127.0.0.1 -p "$uas" -m 1 -nostdin -timeout 25s -timeout_error \
    -trace_msg -message_file "$WORK/calls-$2.msg" >"$WORK/calls-$2.out" 2>&1 &
  uaspid=$!
  printf 'SEQUENTIAL\n%s;%s;[authentication username=%s password=%s]\n' "$(acct "$1" sip_username)" "$domain" \
    "$(acct "$1" sip_username)" "$(acct "$1" sip_password)" >"$WORK/calls-reg$1.csv"
  timeout 20 sipp -sf "$benchsipp/register-to.xml" -key contact "127.0.0.1:$uas" -inf "$WORK/calls-reg$1.csv" -m 1 \
    -i 127.0.0.1 -p "$(free_port)" -nostdin -timeout 15s -timeout_error "$SIP" >"$WORK/calls-reg$1.out" 2>&1 ||
    fail "SIPp did not register $1: $(tail -5 "$WORK/calls-reg$1.out")"
}

answering 803 uas
printf 'SEQUENTIAL\n%s;%s;[authentication username=%s password=%s];803\n' "$(acct 801 sip_username)" "$domain" \
  "$(acct 801 sip_username)" "$(acct 801 sip_password)" >"$WORK/calls-uac.csv"
if ! timeout 25 sipp -sf "$benchsipp/call-auth.xml" -inf "$WORK/calls-uac.csv" -m 1 -d 500 -i 127.0.0.1 -p "$(free_port)" \
  -nostdin -timeout 20s -timeout_error -trace_msg -message_file "$WORK/calls-uac.msg" "$SIP" >"$WORK/calls-uac.out" 2>&1; then
  tail -30 "$WORK/calls-uac.msg"; fail "the SIPp caller's call failed"
fi
wait "$uaspid" || { tail -30 "$WORK/calls-uas.msg"; fail "the SIPp callee did not see its call through"; }
echo "ok SIPp uac called a SIPp uas registered as 803: 407, 180, 200, ACK, BYE, 200"

# A busy phone (SIPp answering 486, registered as 806): the caller gets 486.
busy=$(free_port)
timeout 30 sipp -sf "$sipdir/busy.xml" -i 127.0.0.1 -p "$busy" -m 1 -nostdin -timeout 25s -timeout_error \
  >"$WORK/calls-busy-uas.out" 2>&1 &
busypid=$!
printf 'SEQUENTIAL\n%s;%s;[authentication username=%s password=%s]\n' "$(acct 806 sip_username)" "$domain" \
  "$(acct 806 sip_username)" "$(acct 806 sip_password)" >"$WORK/calls-reg806.csv"
timeout 20 sipp -sf "$benchsipp/register-to.xml" -key contact "127.0.0.1:$busy" -inf "$WORK/calls-reg806.csv" -m 1 \
  -i 127.0.0.1 -p "$(free_port)" -nostdin -timeout 15s -timeout_error "$SIP" >"$WORK/calls-reg806.out" 2>&1 ||
  fail "SIPp did not register 806: $(tail -5 "$WORK/calls-reg806.out")"
printf 'SEQUENTIAL\n%s;%s;[authentication username=%s password=%s];806\n' "$(acct 801 sip_username)" "$domain" \
  "$(acct 801 sip_username)" "$(acct 801 sip_password)" >"$WORK/calls-busy.csv"
timeout 20 sipp -sf "$sipdir/call-busy.xml" -inf "$WORK/calls-busy.csv" -m 1 -i 127.0.0.1 -p "$(free_port)" \
  -nostdin -timeout 15s -timeout_error -trace_msg -message_file "$WORK/calls-busy.msg" "$SIP" >"$WORK/calls-busy.out" 2>&1 ||
  { tail -20 "$WORK/calls-busy.msg"; fail "a busy callee: no 486"; }
wait "$busypid" || fail "the busy phone did not get its ACK"
echo "ok 801 called a busy phone (806): 486 back, the phone's 486 acknowledged"

# The caller may call only as its own line.
printf 'SEQUENTIAL\n%s;%s;[authentication username=%s password=%s];803\n' "$(acct 802 sip_username)" "$domain" \
  "$(acct 801 sip_username)" "$(acct 801 sip_password)" >"$WORK/calls-from.csv"
timeout 20 sipp -sf "$sipdir/call-refused.xml" -inf "$WORK/calls-from.csv" -m 1 -i 127.0.0.1 -p "$(free_port)" \
  -nostdin -timeout 15s -timeout_error -trace_msg -message_file "$WORK/calls-from.msg" "$SIP" >"$WORK/calls-from.out" 2>&1 ||
  { tail -20 "$WORK/calls-from.msg"; fail "From naming another line: no 403"; }
grep -q '^SIP/2.0 403 From is not your line' "$WORK/calls-from.msg" || fail "From naming another line: $(grep '^SIP/2.0' "$WORK/calls-from.msg")"
echo "ok a From naming another line: 403 From is not your line"

# The tenant's upstream, IP-based, is a SIPp on 127.0.0.2 (trusted by that address
# alone: the phones stay on 127.0.0.1). A phone dials the emergency number: the upstream
# gets it. The upstream calls 804's external number: 804's phone (a SIPp uas) answers,
# with no challenge.
api PATCH /api/v1/tenants/calls '{"emergency_numbers":["112"]}' >/dev/null
up=$(free_port)
api PUT /api/v1/tenants/calls/upstream "{\"mode\":\"ip\",\"host\":\"127.0.0.2\",\"port\":$up,\"transport\":\"udp\"}" >/dev/null
timeout 30 sipp -sf "$benchsipp/answer.xml" -i 127.0.0.2 -p "$up" -m 1 -nostdin -timeout 25s -timeout_error \
  -trace_msg -message_file "$WORK/calls-up.msg" >"$WORK/calls-up.out" 2>&1 &
uppid=$!
printf 'SEQUENTIAL\n%s;%s;[authentication username=%s password=%s];112\n' "$(acct 801 sip_username)" "$domain" \
  "$(acct 801 sip_username)" "$(acct 801 sip_password)" >"$WORK/calls-112.csv"
if ! timeout 25 sipp -sf "$benchsipp/call-auth.xml" -inf "$WORK/calls-112.csv" -m 1 -i 127.0.0.1 -p "$(free_port)" \
  -nostdin -timeout 20s -timeout_error -trace_msg -message_file "$WORK/calls-112.msg" "$SIP" >"$WORK/calls-112.out" 2>&1; then
  tail -30 "$WORK/calls-112.msg"; fail "the emergency call failed"
fi
wait "$uppid" || { tail -30 "$WORK/calls-up.msg"; fail "the upstream did not see the emergency call through"; }
grep -q '^INVITE sip:112@' "$WORK/calls-up.msg" || fail "the upstream got no INVITE for 112: $(grep '^INVITE' "$WORK/calls-up.msg")"
echo "ok 801 dialled 112: the upstream (SIPp at 127.0.0.2) answered, BYE through Dialtone"

answering 804 804
printf 'SEQUENTIAL\n%s;%s;%s\n' "+4915112345678" "$domain" "4930555804" >"$WORK/calls-in.csv"
if ! timeout 25 sipp -sf "$sipdir/call-in.xml" -inf "$WORK/calls-in.csv" -m 1 -i 127.0.0.2 -p "$(free_port)" \
  -nostdin -timeout 20s -timeout_error -trace_msg -message_file "$WORK/calls-in.msg" "$SIP" >"$WORK/calls-in.out" 2>&1; then
  tail -30 "$WORK/calls-in.msg"; fail "the call from the upstream failed"
fi
wait "$uaspid" || { tail -30 "$WORK/calls-804.msg"; fail "804's phone did not see the call from the upstream through"; }
! grep -q '^SIP/2.0 407' "$WORK/calls-in.msg" || fail "the upstream's INVITE was challenged"
echo "ok the upstream called 804's external number: 804's phone answered, no challenge"

# The proxy's call events reach the call history: both answered calls are listed.
answered() { [ "$(api GET '/api/v1/tenants/calls/calls?result=answered' | jq '[.items[] | select(.route=="internal")] | length')" -ge 2 ]; }
wait_for "both calls in the call history" answered
echo "ok the call history lists both answered calls"

# A flex phone (SIPp from one port, as in flex.test.sh, with the Yealink User-Agent that
# names its MAC) registers its guest line, dials *55*807*PIN (603, check-sync NOTIFY),
# fetches its config with curl and registers the line it gives: a call from 801 to 807
# rings it there (a SIPp uas on the phone's port answers). *56 from that line (603,
# NOTIFY), the config is the guest's again and the phone registers it; it does not
# un-register 807 itself, yet 801's next call to 807 finds no phone (480): the logout
# took 807's registration from that phone. Then the guest line dials 112 and the
# upstream answers.
fmac=805ec0800701 fua="Yealink SIP-T46U 108.86.0.20 80:5e:c0:80:07:01"
guser=$(jq -r .guest.sip_username <<<"$fphone"); gpass=$(jq -r .guest.sip_password <<<"$fphone")
[ -n "$guser" ] && [ "$guser" != null ] || fail "no guest account: $fphone"
ptoken=$(api GET /api/v1/tenants/calls | jq -r .provisioning_token)
fconfig() { curl -sf -A "$fua" "http://$HTTP/p/$ptoken/$fmac.cfg" || fail "GET $fmac.cfg failed"; }
fline() { sed -n "s/^account\.1\.$1 = //p" <<<"$2"; } # fline KEY CONFIG
fport=$(free_port)
flex_sipp() { # NAME SCENARIO FIELD...: one SIPp run from the flex phone's port
  local name=$1 sf=$2; shift 2
  { echo SEQUENTIAL; (IFS=';'; echo "$*"); } >"$WORK/calls-flex-$name.csv"
  timeout 25 sipp -sf "$sipdir/$sf" -oocsf "$sipdir/notify.xml" -inf "$WORK/calls-flex-$name.csv" -m 1 \
    -i 127.0.0.1 -p "$fport" -nostdin -timeout 20s -timeout_error -recv_timeout 5000 \
    -trace_logs -log_file "$WORK/calls-flex-$name.log" -trace_msg -message_file "$WORK/calls-flex-$name.msg" \
    "$SIP" >"$WORK/calls-flex-$name.out" 2>&1 || { tail -20 "$WORK/calls-flex-$name.msg"; fail "flex phone: $name ($sf) failed"; }
}
fanswer() { sed -n 's/^answer //p' "$WORK/calls-flex-$1.log"; }
fnotified() { grep -q '^NOTIFY event=.*check-sync' "$WORK/calls-flex-$1.log"; }
settle=$(( (fcreated + 1000000000 - $(date +%s%N)) / 1000000 ))
[ "$settle" -le 0 ] || sleep "$(awk -v ms="$settle" 'BEGIN { print ms / 1000 }')"
guest_auth="[authentication username=$guser password=$gpass]"
flex_sipp guest register.xml "$guser" "$domain" "$guest_auth" 600 "$fmac" "$fua"
flex_sipp login dial.xml "$guser" "$domain" "$guest_auth" '*55*807*582946' 100 "$fua"
[ "$(fanswer login)" = "SIP/2.0 603 Logged in 807" ] || fail "flex login answered '$(fanswer login)'"
fnotified login || fail "no check-sync NOTIFY after the flex login"
ucfg=$(fconfig)
uname=$(fline user_name "$ucfg"); uauth=$(fline auth_name "$ucfg"); upass=$(fline password "$ucfg")
[ "$uname" = 807 ] && [ "$uauth" = "$(acct 807 sip_username)" ] && [ -n "$upass" ] || fail "config after login: line 1 $uname ($uauth)"
user_auth="[authentication username=$uauth password=$upass]"
flex_sipp user register.xml "$uname" "$domain" "$user_auth" 600 "$fmac" "$fua"
echo "ok flex phone: guest registered, *55*807*PIN answered 603 Logged in 807, line 807 from its config registered"

timeout 30 sipp -sf "$benchsipp/answer.xml" -i 127.0.0.1 -p "$fport" -m 1 -nostdin -timeout 25s -timeout_error \
  -trace_msg -message_file "$WORK/calls-flex-rings.msg" >"$WORK/calls-flex-rings.out" 2>&1 &
fuaspid=$!
printf 'SEQUENTIAL\n%s;%s;[authentication username=%s password=%s];807\n' "$(acct 801 sip_username)" "$domain" \
  "$(acct 801 sip_username)" "$(acct 801 sip_password)" >"$WORK/calls-807.csv"
if ! timeout 25 sipp -sf "$benchsipp/call-auth.xml" -inf "$WORK/calls-807.csv" -m 1 -i 127.0.0.1 -p "$(free_port)" \
  -nostdin -timeout 20s -timeout_error -trace_msg -message_file "$WORK/calls-807.msg" "$SIP" >"$WORK/calls-807.out" 2>&1; then
  tail -30 "$WORK/calls-807.msg"; fail "801's call to 807 at the flex phone failed"
fi
wait "$fuaspid" || { tail -30 "$WORK/calls-flex-rings.msg"; fail "the flex phone did not see 801's call through"; }
grep -q "^INVITE sip:807@127.0.0.1:$fport" "$WORK/calls-flex-rings.msg" ||
  fail "the flex phone's INVITE: $(grep '^INVITE' "$WORK/calls-flex-rings.msg")"
echo "ok 801 called 807: the flex phone logged in as 807 rang and answered, BYE through Dialtone"

flex_sipp logout dial.xml "$uname" "$domain" "$user_auth" '*56' 100 "$fua"
[ "$(fanswer logout)" = "SIP/2.0 603 Logged out" ] || fail "flex logout answered '$(fanswer logout)'"
fnotified logout || fail "no check-sync NOTIFY after the flex logout"
gcfg=$(fconfig)
[ "$(fline auth_name "$gcfg")" = "$guser" ] || fail "config after logout: line 1 $(fline auth_name "$gcfg")"
flex_sipp guest-again register.xml "$guser" "$domain" "$guest_auth" 600 "$fmac" "$fua"
[ -z "$(bindings "$uauth")" ] || fail "807 still registered after the logout: $(bindings "$uauth")"
printf 'SEQUENTIAL\n%s;%s;[authentication username=%s password=%s];807\n' "$(acct 801 sip_username)" "$domain" \
  "$(acct 801 sip_username)" "$(acct 801 sip_password)" >"$WORK/calls-807-gone.csv"
timeout 20 sipp -sf "$sipdir/call-unavailable.xml" -inf "$WORK/calls-807-gone.csv" -m 1 -i 127.0.0.1 -p "$(free_port)" \
  -nostdin -timeout 15s -timeout_error -trace_msg -message_file "$WORK/calls-807-gone.msg" "$SIP" >"$WORK/calls-807-gone.out" 2>&1 ||
  { tail -20 "$WORK/calls-807-gone.msg"; fail "801's call to 807 after the logout: not 480"; }
echo "ok *56: 603 Logged out, guest config registered; 801's call to 807 is 480, the phone no longer rings for 807"

timeout 30 sipp -sf "$benchsipp/answer.xml" -i 127.0.0.2 -p "$up" -m 1 -nostdin -timeout 25s -timeout_error \
  -trace_msg -message_file "$WORK/calls-up-guest.msg" >"$WORK/calls-up-guest.out" 2>&1 &
uppid=$!
printf 'SEQUENTIAL\n%s;%s;%s;112\n' "$guser" "$domain" "$guest_auth" >"$WORK/calls-guest-112.csv"
if ! timeout 25 sipp -sf "$benchsipp/call-auth.xml" -inf "$WORK/calls-guest-112.csv" -m 1 -i 127.0.0.1 -p "$(free_port)" \
  -nostdin -timeout 20s -timeout_error -trace_msg -message_file "$WORK/calls-guest-112.msg" "$SIP" >"$WORK/calls-guest-112.out" 2>&1; then
  tail -30 "$WORK/calls-guest-112.msg"; fail "the emergency call from the guest line failed"
fi
wait "$uppid" || { tail -30 "$WORK/calls-up-guest.msg"; fail "the upstream did not see the guest's emergency call through"; }
grep -q '^INVITE sip:112@' "$WORK/calls-up-guest.msg" || fail "the upstream got no INVITE for 112: $(grep '^INVITE' "$WORK/calls-up-guest.msg")"
echo "ok the flex phone's guest line dialled 112: the upstream answered"
