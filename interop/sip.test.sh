# SIP registrar with real clients. SIPp plays an MD5-only desk phone with a Yealink
# User-Agent (SIPp 3.6 knows only MD5 and answers the first challenge), under the
# tenant's default sip_digest (md5,sha-256): it registers with digest auth (200 listing
# the binding), unregisters with "Contact: *" and "Expires: 0" (the binding leaves the
# admin API), is refused with a wrong password (403) and gets 423 with Min-Expires for
# "Expires: 10"; baresip registers with the credentials the admin API gives and shows in
# the registrations. Sourced by interop/run.sh (lib.sh loaded, Dialtone running).
sipdir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sipp"
ext=701

api POST /api/v1/tenants/default/users "{\"first_name\":\"Sip\",\"last_name\":\"Interop\",\"extensions\":[\"$ext\"]}" >/dev/null
account=$(api GET '/api/v1/tenants/default/extensions?limit=500' | jq -c ".items[] | select(.number==\"$ext\")")
sipuser=$(jq -r .sip_username <<<"$account"); sippass=$(jq -r .sip_password <<<"$account")
[ -n "$sipuser" ] && [ "$sipuser" != null ] && [ -n "$sippass" ] && [ "$sippass" != null ] || fail "no SIP account for $ext: $account"
domain=$(api GET /api/v1/tenants/default | jq -r .sip_domain)
[ -n "$domain" ] && [ "$domain" != null ] || fail "tenant default has no sip_domain"

free_udp_port() {
  local p=$((20000 + RANDOM % 20000))
  while ss -Hlun "sport = :$p" 2>/dev/null | grep -q .; do p=$((20000 + RANDOM % 20000)); done
  echo "$p"
}
lport=$(free_udp_port)
phone_ua="Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:cc"
[ "$(api GET /api/v1/tenants/default | jq -r .sip_digest)" = "md5,sha-256" ] || fail "default sip_digest is not md5,sha-256"

# sipp_run NAME SCENARIO PASSWORD EXPIRES: one call of a scenario from $lport; fails the
# test unless the scenario's expected answer came.
sipp_run() {
  local name=$1 sf=$2 pass=$3 expires=$4
  printf 'SEQUENTIAL\n%s;%s;[authentication username=%s password=%s];%s;%s\n' \
    "$sipuser" "$domain" "$sipuser" "$pass" "$expires" "$phone_ua" >"$WORK/sip-$name.csv"
  if ! timeout 20 sipp -sf "$sipdir/$sf" -inf "$WORK/sip-$name.csv" -m 1 -i 127.0.0.1 -p "$lport" \
    -nostdin -timeout 15s -timeout_error -recv_timeout 5000 \
    -trace_logs -log_file "$WORK/sip-$name.log" -trace_msg -message_file "$WORK/sip-$name.msg" \
    "$SIP" >"$WORK/sip-$name.out" 2>&1; then
    tail -5 "$WORK/sip-$name.out"; cat "$WORK/sip-$name.msg" 2>/dev/null | tail -30
    fail "sipp $name ($sf) did not get its answer"
  fi
}
# binding USERNAME: the user's bindings in the admin API, one JSON object a line.
bindings() { api GET /api/v1/tenants/default/registrations | jq -c ".items[] | select(.sip_username==\"$1\")"; }

# Registers with digest auth: 200 with the binding and its expiry.
sipp_run register sip-register.xml "$sippass" 600
grep -q "^registered $sipuser binding <sip:$sipuser@127.0.0.1:$lport>;expires=" "$WORK/sip-register.log" ||
  fail "200 without the binding: $(cat "$WORK/sip-register.log")"
grep -q '^challenge Digest realm="'"$domain"'"' "$WORK/sip-register.log" || fail "challenge not for realm $domain: $(head -1 "$WORK/sip-register.log")"
grep -q '^challenge Digest .*algorithm=MD5' "$WORK/sip-register.log" || fail "first challenge is not MD5: $(head -1 "$WORK/sip-register.log")"
grep -q 'algorithm=MD5' "$WORK/sip-register.msg" && ! grep -q 'algorithm=SHA-256, *response' "$WORK/sip-register.msg" ||
  fail "SIPp did not answer with MD5"
b=$(bindings "$sipuser")
[ "$(jq -r .contact <<<"$b")" = "<sip:$sipuser@127.0.0.1:$lport>" ] || fail "registrations: $b"
[ "$(jq -r .source <<<"$b")" = "127.0.0.1:$lport" ] || fail "binding source: $b"
[ "$(jq -r .extension <<<"$b")" = "$ext" ] || fail "binding extension: $b"
[ "$(jq -r .user_agent <<<"$b")" = "$phone_ua" ] || fail "binding user agent: $b"
echo "ok SIPp (MD5 only, User-Agent $phone_ua) registered $sipuser (extension $ext) from 127.0.0.1:$lport"

# Unregisters every binding with "*": gone from the API.
sipp_run unregister sip-unregister.xml "$sippass" 0
[ -z "$(bindings "$sipuser")" ] || fail "binding left after Contact: *: $(bindings "$sipuser")"
echo "ok SIPp unregistered with Contact: * and Expires: 0; no binding listed"

# A wrong password: 403, and nothing registered.
sipp_run refused sip-refused.xml "not-$sippass" 600
grep -q '^SIP/2.0 403' "$WORK/sip-refused.msg" || fail "wrong password not answered 403"
[ -z "$(bindings "$sipuser")" ] || fail "a wrong password registered: $(bindings "$sipuser")"
echo "ok wrong password refused with 403"

# Expires: 10 is under the minimum: 423 with Min-Expires 60, nothing registered.
sipp_run too-brief sip-too-brief.xml "$sippass" 10
grep -q '^too brief, min-expires 60$' "$WORK/sip-too-brief.log" || fail "423 without Min-Expires 60: $(cat "$WORK/sip-too-brief.log")"
[ -z "$(bindings "$sipuser")" ] || fail "Expires: 10 registered: $(bindings "$sipuser")"
echo "ok Expires: 10 answered 423 Interval Too Brief, Min-Expires: 60"

# baresip (baresip-core), headless, with the credentials read from the admin API; the
# outbound proxy is Dialtone's SIP address, the AOR in the tenant's domain. baresip
# before 3.11 (libre before 3.11) fails a registration whose 401 carries any SHA-256
# challenge, whatever comes first ("Register: Function not implemented"): for it the
# admin sets the tenant's sip_digest to md5, and puts the default back afterwards.
api PATCH /api/v1/tenants/default '{"sip_digest":"md5"}' | jq -e '.sip_digest == "md5"' >/dev/null || fail "sip_digest md5 not taken"
bdir=$WORK/baresip; mkdir -p "$bdir"
bport=$(free_udp_port)
cat >"$bdir/config" <<CONF
poll_method		epoll
sip_listen		127.0.0.1:$bport
sip_transports		udp
module_path		/usr/lib/baresip/modules
module			g711.so
module_app		account.so
CONF
printf '<sip:%s@%s>;auth_pass=%s;outbound="sip:%s;transport=udp";regint=600;answermode=manual\n' \
  "$sipuser" "$domain" "$sippass" "$SIP" >"$bdir/accounts"
: >"$bdir/contacts"
baresip -f "$bdir" -t 30 >"$WORK/baresip.out" 2>&1 </dev/null &
bpid=$!
trap 'kill $bpid 2>/dev/null || true; wait $bpid 2>/dev/null || true' EXIT
ua=""
for _ in $(seq 100); do
  b=$(bindings "$sipuser")
  ua=$(jq -r 'select(.source=="127.0.0.1:'"$bport"'") | .user_agent' <<<"$b" 2>/dev/null)
  [ -n "$ua" ] && break
  kill -0 "$bpid" 2>/dev/null || break
  sleep 0.1
done
kill "$bpid" 2>/dev/null || true; wait "$bpid" 2>/dev/null || true
api PATCH /api/v1/tenants/default '{"sip_digest":"md5,sha-256"}' >/dev/null
[[ "$ua" == baresip* ]] || { tail -20 "$WORK/baresip.out"; fail "baresip not in the registrations (user agent '$ua'): $(bindings "$sipuser")"; }
grep -q '200 OK' "$WORK/baresip.out" || { tail -20 "$WORK/baresip.out"; fail "baresip did not report 200 OK"; }
echo "ok baresip registered $sipuser from 127.0.0.1:$bport ($ua) with the tenant's sip_digest md5"
