# The tenant's upstream (issue 15 point 3): SIPp plays a provider's registrar. Dialtone
# registers to it from its SIP port, answering the digest challenge (checked by SIPp),
# the API shows the registration's state and never the password, and removing the
# upstream un-registers (Expires: 0).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sippdir="$here/sipp"
pport=$((20000 + RANDOM % 20000))
while ss -Hlun "sport = :$pport" 2>/dev/null | grep -q .; do pport=$((20000 + RANDOM % 20000)); done
secret="trunk-Secret-4711"

timeout 40 sipp -sf "$sippdir/upstream-provider.xml" -i 127.0.0.1 -p "$pport" -m 1 -nostdin \
  -timeout 35s -timeout_error -trace_logs -log_file "$WORK/provider.log" -trace_msg -message_file "$WORK/provider.msg" \
  >"$WORK/provider.out" 2>&1 &
sipp_pid=$!

out=$(api PUT /api/v1/tenants/default/upstream "{\"mode\":\"register\",\"host\":\"127.0.0.1\",\"port\":$pport,\"transport\":\"udp\",\"username\":\"interop-trunk\",\"password\":\"$secret\",\"domain\":\"provider.interop\"}")
expect_contains "$out" '"password_set":true'
grep -qF "$secret" <<<"$out" && fail "the password is in the PUT answer"

state=""
for _ in $(seq 100); do
  out=$(api GET /api/v1/tenants/default/upstream)
  state=$(jq -r '.state.state // empty' <<<"$out")
  [ "$state" = registered ] && break
  sleep 0.1
done
[ "$state" = registered ] || { cat "$WORK/provider.msg" 2>/dev/null | tail -40; fail "upstream state: $out"; }
grep -qF "$secret" <<<"$out" && fail "the password is in the GET answer"
expect_contains "$out" "\"registrar\":\"127.0.0.1:$pport\""
expect_contains "$(cat "$WORK/provider.log")" "REGISTER expires=3600 auth=true"
curl -sf "http://$METRICS/metrics" | grep -q '^dialtone_sip_upstream_registered{tenant="default"} 1' || fail "metrics: upstream not registered"
# Sent from Dialtone's SIP socket: inbound calls come back to it.
grep -q "Via: SIP/2.0/UDP 127.0.0.1:$(port "$SIP");" "$WORK/provider.msg" || fail "REGISTER not from the SIP port $(port "$SIP")"

api DELETE /api/v1/tenants/default/upstream >/dev/null
wait "$sipp_pid" || { tail -20 "$WORK/provider.out"; fail "the provider scenario failed"; }
expect_contains "$(cat "$WORK/provider.log")" "REGISTER expires=0 auth=true"
audit=$(api GET "/api/v1/tenants/default/audit?limit=50")
grep -qF "$secret" <<<"$audit" && fail "the password is in the audit log"
grep -qF "$secret" "$WORK/server.log" && fail "the password is in the server log"
echo "registered, state shown, un-registered"
