# BLF with SIPp as the busy-lamp key of a phone: its line (extension 741) subscribes to
# dialog for extension 742 of the same tenant (SUBSCRIBE, 401, SUBSCRIBE with digest
# credentials), gets 200 with the Expires granted, then a NOTIFY in the dialog with 742's
# full dialog-info (version 0, idle); it unsubscribes in the dialog (Expires: 0, challenged
# again) and gets the last NOTIFY, Subscription-State: terminated, version 1. The NOTIFYs
# of a call's steps (early, confirmed, terminated) are in calls.test.sh, with a real call
# through the proxy. presence and message-summary SUBSCRIBEs are 489
# with Allow-Events: dialog. Then the call history API with curl: the list pages (empty:
# no call went through here), and call_history_days takes 1 to 3650.
# Sourced by interop/run.sh (lib.sh loaded, Dialtone running).
sipdir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sipp"
for ext in 741 742; do
  api POST /api/v1/tenants/default/users "{\"first_name\":\"Blf\",\"last_name\":\"Lamp$ext\",\"extensions\":[\"$ext\"]}" >/dev/null
done
account=$(api GET '/api/v1/tenants/default/extensions?limit=1000' | jq -c '.items[] | select(.number=="741")')
sipuser=$(jq -r .sip_username <<<"$account"); sippass=$(jq -r .sip_password <<<"$account")
[ -n "$sipuser" ] && [ "$sipuser" != null ] || fail "no SIP account for 741: $account"
domain=$(api GET /api/v1/tenants/default | jq -r .sip_domain)

# blf_run NAME SCENARIO FIELD2 WATCHED: one SIPp exchange from its own port.
blf_run() {
  local name=$1 sf=$2 f2=$3 watched=$4
  printf 'SEQUENTIAL\n%s;%s;%s;%s\n' "$sipuser" "$domain" "$f2" "$watched" >"$WORK/blf-$name.csv"
  if ! timeout 20 sipp -sf "$sipdir/$sf" -inf "$WORK/blf-$name.csv" -m 1 -i 127.0.0.1 -p 0 \
    -nostdin -timeout 15s -timeout_error -recv_timeout 5000 \
    -trace_logs -log_file "$WORK/blf-$name.log" -trace_msg -message_file "$WORK/blf-$name.msg" \
    "$SIP" >"$WORK/blf-$name.out" 2>&1; then
    tail -5 "$WORK/blf-$name.out" >&2; tail -40 "$WORK/blf-$name.msg" >&2
    fail "sipp blf-$name ($sf) did not get its answers"
  fi
}

blf_run subscribe blf.xml "[authentication username=$sipuser password=$sippass]" 742
grep -q '^granted 600$' "$WORK/blf-subscribe.log" || fail "Expires granted: $(cat "$WORK/blf-subscribe.log")"
grep -q "^first active;expires=[0-9]* version=.0. state=.full. entity=.sip:742@$domain" "$WORK/blf-subscribe.log" ||
  fail "first NOTIFY: $(cat "$WORK/blf-subscribe.log")"
grep -q '^last terminated;reason=timeout version=.1. ' "$WORK/blf-subscribe.log" || fail "last NOTIFY: $(cat "$WORK/blf-subscribe.log")"
grep -q 'Content-Type: application/dialog-info+xml' "$WORK/blf-subscribe.msg" || fail "NOTIFY without dialog-info"
echo "ok SIPp (line 741) subscribed to dialog for 742: 200 Expires 600, NOTIFY version 0 idle; unsubscribed: NOTIFY terminated, version 1"

for ev in presence message-summary; do
  blf_run "$ev" blf-bad-event.xml "$ev" 742
  grep -q '^allow dialog' "$WORK/blf-$ev.log" || fail "489 to $ev: $(cat "$WORK/blf-$ev.log")"
  echo "ok SUBSCRIBE $ev: 489 Bad Event, Allow-Events: dialog"
done

# Call history: the API answers a page; the retention setting is checked.
page=$(api GET '/api/v1/tenants/default/calls?limit=10&result=answered&from=2026-01-01')
jq -e '.items == [] and .next_cursor == ""' <<<"$page" >/dev/null || fail "call history: $page"
mine=$(api GET /api/v1/me/calls)
jq -e '.items == []' <<<"$mine" >/dev/null || fail "my calls: $mine"
days=$(api PATCH /api/v1/tenants/default '{"call_history_days":30}' | jq -r .call_history_days)
[ "$days" = 30 ] || fail "call_history_days after PATCH: $days"
code=$(curl -s -o "$WORK/bad.json" -w '%{http_code}' -X PATCH -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"call_history_days":4000}' "http://$HTTP/api/v1/tenants/default")
[ "$code" = 400 ] && [ "$(jq -r .error.field "$WORK/bad.json")" = call_history_days ] || fail "call_history_days 4000: $code $(cat "$WORK/bad.json")"
code=$(curl -s -o "$WORK/bad.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://$HTTP/api/v1/tenants/default/calls?result=won")
[ "$code" = 400 ] && [ "$(jq -r .error.field "$WORK/bad.json")" = result ] || fail "calls?result=won: $code $(cat "$WORK/bad.json")"
echo "ok call history API: an empty page, call_history_days 30 taken, 4000 and result=won refused naming the field"
