# Flex login with SIPp as the flex phone (MD5 only, with the phone's Yealink User-Agent,
# default tenant settings) and curl as its provisioning client: the phone
# registers its guest account, dials the login code (407 challenge, 603 "Logged in"),
# answers the check-sync NOTIFY and fetches the user's config; it then registers the
# user's line, dials *56 and gets its guest config back. Wrong codes are refused with
# the design's words and change nothing. Sourced by interop/run.sh (lib.sh loaded).
sippdir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sipp"
ext=601 pin=482916
mac=805ec0600101
ua="Yealink SIP-T46U 108.86.0.20 80:5e:c0:60:01:01"

user=$(api POST /api/v1/tenants/default/users "{\"first_name\":\"Flex\",\"last_name\":\"Interop\",\"extensions\":[\"$ext\"],\"pin\":\"$pin\"}")
uid=$(jq -r .id <<<"$user")
phone=$(api POST /api/v1/tenants/default/phones '{"mac":"80:5e:c0:60:01:01","model":"T46U","flex":true}')
created=$(date +%s%N)
[ "$(jq -r .mac <<<"$phone")" = "$mac" ] || fail "phone: $phone"
[ "$(jq -r .flex <<<"$phone")" = true ] || fail "not a flex phone: $phone"
guser=$(jq -r .guest.sip_username <<<"$phone"); gpass=$(jq -r .guest.sip_password <<<"$phone")
[ -n "$guser" ] && [ "$guser" != null ] && [ -n "$gpass" ] && [ "$gpass" != null ] || fail "no guest account: $phone"
tenant=$(api GET /api/v1/tenants/default)
domain=$(jq -r .sip_domain <<<"$tenant"); ptoken=$(jq -r .provisioning_token <<<"$tenant")
esipuser=$(api GET '/api/v1/tenants/default/extensions?limit=500' | jq -r ".items[] | select(.number==\"$ext\") | .sip_username")
[ -n "$esipuser" ] && [ "$esipuser" != null ] || fail "no SIP user name for $ext"

config() { curl -sf -A "$ua" "http://$HTTP/p/$ptoken/$mac.cfg" || fail "GET $mac.cfg failed"; }
line1() { sed -n "s/^account\.1\.$1 = //p" <<<"$2"; } # line1 KEY CONFIG

# Before login: the guest line only.
guest_cfg=$(config)
[ "$(line1 user_name "$guest_cfg")" = "$guser" ] || fail "guest config: user_name $(line1 user_name "$guest_cfg")"
[ "$(line1 auth_name "$guest_cfg")" = "$guser" ] || fail "guest config: auth_name"
[ "$(line1 password "$guest_cfg")" = "$gpass" ] || fail "guest config: password"
[[ "$(line1 label "$guest_cfg")" == Flex* ]] || fail "guest config: label $(line1 label "$guest_cfg")"
! grep -qE '^account\.([2-9]|1[0-9])\.enable = 1' <<<"$guest_cfg" || fail "guest config has a second line"
! grep -qF "$esipuser" <<<"$guest_cfg" || fail "guest config names the user's SIP account"
echo "ok guest config: line 1 = $guser"

# SIPp runs one scenario at a time from the same local port (the registered contact, where
# the NOTIFY goes); the out-of-call scenario answers the NOTIFY and logs it.
lport=$((20000 + RANDOM % 20000))
while ss -Hlun "sport = :$lport" 2>/dev/null | grep -q .; do lport=$((20000 + RANDOM % 20000)); done
phone_sipp() { # NAME SCENARIO FIELD...: one SIPp call; fields joined by ';' as its injection line
  local name=$1 sf=$2; shift 2
  { echo SEQUENTIAL; (IFS=';'; echo "$*"); } >"$WORK/flex-$name.csv"
  if ! timeout 25 sipp -sf "$sippdir/$sf" -oocsf "$sippdir/notify.xml" -inf "$WORK/flex-$name.csv" -m 1 \
    -i 127.0.0.1 -p "$lport" -nostdin -timeout 20s -timeout_error -recv_timeout 5000 \
    -trace_logs -log_file "$WORK/flex-$name.log" -trace_msg -message_file "$WORK/flex-$name.msg" \
    "$SIP" >"$WORK/flex-$name.out" 2>&1; then
    tail -20 "$WORK/flex-$name.out"; cat "$WORK/flex-$name.log" 2>/dev/null
    fail "sipp $name ($sf) failed"
  fi
}
answer() { sed -n 's/^answer //p' "$WORK/flex-$1.log"; }
notifies() { grep -c '^NOTIFY event=.*check-sync' "$WORK/flex-$1.log" || true; }
guest_auth="[authentication username=$guser password=$gpass]"

# Adding the phone queued a check-sync of its own, sent 300 ms after the change if the
# phone has a binding by then. Register after it has passed: otherwise its NOTIFY goes to
# the port between two SIPp runs, unanswered, and its retransmissions (RFC 3261 §17.1.2.2)
# reach a later scenario as if a refused login had caused them.
settle=$(( (created + 1000000000 - $(date +%s%N)) / 1000000 ))
[ "$settle" -le 0 ] || sleep "$(awk -v ms="$settle" 'BEGIN { print ms / 1000 }')"
phone_sipp guest-register register.xml "$guser" "$domain" "$guest_auth" 3600 "$mac" "$ua"
grep -q "^registered $guser" "$WORK/flex-guest-register.log" || fail "guest not registered"
bmac=$(api GET /api/v1/tenants/default/registrations | jq -r ".items[] | select(.sip_username==\"$guser\") | .mac")
[ "$bmac" = "$mac" ] || fail "guest binding: mac '$bmac'"
echo "ok guest registered from 127.0.0.1:$lport"

# Wrong PIN, unknown extension, a code with letters: one answer, no NOTIFY, same config.
# (30 rounds of 50 ms: far longer than the registrar's 300 ms check-sync debounce.)
for code in "*55*$ext*000000" "*55*699*$pin" "*55*6a1*$pin"; do
  phone_sipp refused dial.xml "$guser" "$domain" "$guest_auth" "$code" 30 "$ua"
  [ "$(answer refused)" = "SIP/2.0 403 Wrong extension or PIN" ] || fail "$code answered '$(answer refused)'"
  [ "$(notifies refused)" = 0 ] || fail "$code: a NOTIFY after a refused login"
  [ "$(config)" = "$guest_cfg" ] || fail "$code changed the config"
done
echo "ok wrong PIN, unknown extension, letters: 403 Wrong extension or PIN, nothing changed"

# Login: 407, then 603 "Logged in 601", then the check-sync NOTIFY.
phone_sipp login dial.xml "$guser" "$domain" "$guest_auth" "*55*$ext*$pin" 100 "$ua"
[ "$(answer login)" = "SIP/2.0 603 Logged in $ext" ] || fail "login answered '$(answer login)'"
grep -q '^SIP/2.0 407' "$WORK/flex-login.msg" || fail "login INVITE was not challenged"
[ "$(notifies login)" -ge 1 ] || fail "no check-sync NOTIFY after login"
grep -q '^SIP/2.0 200 OK' "$WORK/flex-login.msg" || fail "NOTIFY not answered"
user_cfg=$(config)
[ "$(line1 user_name "$user_cfg")" = "$ext" ] || fail "after login: user_name $(line1 user_name "$user_cfg")"
[ "$(line1 auth_name "$user_cfg")" = "$esipuser" ] || fail "after login: auth_name $(line1 auth_name "$user_cfg")"
[ "$(line1 display_name "$user_cfg")" = "Flex Interop" ] || fail "after login: display_name"
! grep -qF "$guser" <<<"$user_cfg" || fail "after login the config still carries the guest account"
upass=$(line1 password "$user_cfg")
[ -n "$upass" ] || fail "after login: no password"
audit=$(api GET "/api/v1/tenants/default/audit?limit=50")
jq -e --arg u "$uid" '[.items[] | select(.action=="flex.login" and .subject==$u)] | length == 1' <<<"$audit" >/dev/null ||
  fail "flex.login not audited once: $(jq -c '[.items[] | .action]' <<<"$audit")"
echo "ok login: 603 Logged in $ext, NOTIFY answered, config carries line $ext ($esipuser)"

# The phone now runs its new config: the guest account goes, the user's line registers
# (with the credentials the config gave), and *56 logs out.
phone_sipp guest-unregister register.xml "$guser" "$domain" "$guest_auth" 0 "$mac" "$ua"
user_auth="[authentication username=$esipuser password=$upass]"
phone_sipp user-register register.xml "$ext" "$domain" "$user_auth" 600 "$mac" "$ua"
grep -q "^registered $ext" "$WORK/flex-user-register.log" || fail "user line not registered"
phone_sipp logout dial.xml "$ext" "$domain" "$user_auth" "*56" 100 "$ua"
[ "$(answer logout)" = "SIP/2.0 603 Logged out" ] || fail "logout answered '$(answer logout)'"
[ "$(notifies logout)" -ge 1 ] || fail "no check-sync NOTIFY after logout"
[ "$(config)" = "$guest_cfg" ] || fail "after logout the config is not the guest config"
echo "ok logout: 603 Logged out, NOTIFY answered, guest config back"
