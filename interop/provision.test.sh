# Provisioning with real clients: curl fetches each make's files with that make's
# User-Agent; tftp-hpa's tftp fetches a config and is refused a write; curl --digest
# fetches a phone's file with its own credentials; the XML phonebook and token rotation.
user=$(api POST /api/v1/tenants/default/users '{"first_name":"Interop","last_name":"Provision","extensions":["301"],"pin":"482613"}')
uid=$(jq -r .id <<<"$user")
ptoken=$(api GET /api/v1/tenants/default | jq -r .provisioning_token)
sipuser=$(api GET '/api/v1/tenants/default/extensions?limit=500' | jq -r '.items[] | select(.number=="301") | .sip_username')
[ -n "$sipuser" ] && [ "$sipuser" != null ] || fail "no SIP user name for 301"

# make model mac user-agent file expected
while IFS='|' read -r mk model mac ua file want; do
  api POST /api/v1/tenants/default/phones "{\"mac\":\"$mac\",\"model\":\"$model\",\"user_id\":\"$uid\"}" >/dev/null
  body=$(curl -sf -A "$ua" "http://$HTTP/p/$ptoken/$file") || fail "$mk: GET $file failed"
  expect_contains "$body" "$want"
  expect_contains "$body" "$sipuser"
  echo "ok $mk $file"
done <<'PHONES'
yealink|T46U|805ec0aabbcc|Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:cc|805ec0aabbcc.cfg|#!version:1.0.0.1
poly|VVX450|0004f2010203|FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018|0004f2010203-user.cfg|reg.1.address="301@
snom|D785|000413a1b2c3|Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13 1.1.3-s)|000413A1B2C3.xml|<user_name idx="1" perm="">301</user_name>
cisco|8841|00562b043615|Cisco-CP8841-3PCC/11.3.7 (00562b043615)|00562b043615.xml|<User_ID_1_>301</User_ID_1_>
grandstream|GRP2614|c074ad010203|Grandstream Model HW GRP2614 SW 1.0.5.33 DevId c074ad010203|cfgc074ad010203.xml|<P35>301</P35>
fanvil|X4U|0c383e07e16c|Fanvil X4U 2.12.10 0c383e07e16c|0c383e07e16c.cfg|<PhoneNumber>301</PhoneNumber>
PHONES

# An unknown MAC gets no secrets (404) and shows up as discovered.
code=$(curl -s -o /dev/null -w '%{http_code}' -A "Yealink SIP-T46U 108.86.0.20" "http://$HTTP/p/$ptoken/805ec0000999.cfg")
[ "$code" = 404 ] || fail "unknown MAC answered $code"
# A wrong token is 404 too.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/p/not-a-token/805ec0aabbcc.cfg")
[ "$code" = 404 ] || fail "wrong token answered $code"

# TFTP: tftp-hpa fetches the same file as HTTP under the token; a bare name (no token)
# only once tenant default's tftp_bare_names is on.
tport=$(port "$TFTP")
tftp -m binary 127.0.0.1 "$tport" -c get "$ptoken/805ec0aabbcc.cfg" "$WORK/tftp.cfg"
cmp "$WORK/tftp.cfg" <(curl -sf -A "Yealink SIP-T46U 108.86.0.20" "http://$HTTP/p/$ptoken/805ec0aabbcc.cfg") || fail "TFTP and HTTP differ"
out=$(cd "$WORK" && tftp -m binary 127.0.0.1 "$tport" -c get "805ec0aabbcc.cfg" "$WORK/bare.cfg" 2>&1 || true)
expect_contains "$out" "Error code 1"  # file not found: bare names are off by default
api PATCH /api/v1/tenants/default '{"tftp_bare_names":true}' >/dev/null
tftp -m binary 127.0.0.1 "$tport" -c get "805ec0aabbcc.cfg" "$WORK/bare.cfg"
expect_contains "$(cat "$WORK/bare.cfg")" "$sipuser"
api PATCH /api/v1/tenants/default '{"tftp_bare_names":false}' >/dev/null
# …and is refused a write with an access violation.
echo "x" >"$WORK/upload.cfg"
out=$(tftp -m binary 127.0.0.1 "$tport" -c put "$WORK/upload.cfg" "805ec0aabbcc.cfg" 2>&1 || true)
expect_contains "$out" "Error code 2"  # RFC 1350: access violation

# The XML phonebook: to a known phone under its MAC, or with the phonebook account.
ua="Yealink SIP-T46U 108.86.0.20"
expect_contains "$(curl -sf -A "$ua" "http://$HTTP/p/$ptoken/directory/805ec0aabbcc/yealink.xml")" "Interop Provision"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/p/$ptoken/directory/805ec0000999/yealink.xml")
[ "$code" = 404 ] || fail "phonebook for an unknown MAC answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/p/$ptoken/directory/yealink.xml")
[ "$code" = 401 ] || fail "phonebook without credentials answered $code"
pbpw=$(api GET /api/v1/tenants/default | jq -r .ldap_bind_password)
expect_contains "$(curl -sf -u "phonebook:$pbpw" "http://$HTTP/p/$ptoken/directory/yealink.xml")" "Interop Provision"

# Per-phone Digest credentials (curl --digest answers the challenge, RFC 7616).
api PATCH /api/v1/tenants/default '{"provisioning_auth":"digest"}' >/dev/null
for mac in 805ec0d1e001 805ec0d1e002; do
  api POST /api/v1/tenants/default/phones "{\"mac\":\"$mac\",\"model\":\"T46U\",\"user_id\":\"$uid\"}" >"$WORK/$mac.json"
done
pw1=$(jq -r .provisioning_credentials.password <"$WORK/805ec0d1e001.json")
pw2=$(jq -r .provisioning_credentials.password <"$WORK/805ec0d1e002.json")
url="http://$HTTP/p/$ptoken/805ec0d1e001.cfg"
expect_contains "$(curl -sf -A "$ua" "$url")" "static.auto_provision.server.password = $pw1"  # first fetch: learns them
code=$(curl -s -o /dev/null -w '%{http_code}' -A "$ua" "$url")
[ "$code" = 401 ] || fail "second fetch without credentials answered $code"
expect_contains "$(curl -sf --digest -u "805ec0d1e001:$pw1" -A "$ua" "$url")" "$sipuser"
code=$(curl -s -o /dev/null -w '%{http_code}' --digest -u "805ec0d1e001:wrong" -A "$ua" "$url")
[ "$code" = 401 ] || fail "wrong digest password answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --digest -u "805ec0d1e002:$pw2" -A "$ua" "$url")
[ "$code" = 401 ] || fail "another phone's credentials answered $code"
api PATCH /api/v1/tenants/default '{"provisioning_auth":"token"}' >/dev/null

# Rotating the provisioning token: the old one works within the grace; with grace 0 the
# one before is refused at once.
next=$(api POST /api/v1/tenants/default/provisioning-token/rotate '{"grace":"1h"}' | jq -r .provisioning_token)
curl -sf -o /dev/null -A "$ua" "http://$HTTP/p/$ptoken/805ec0aabbcc.cfg" || fail "old token within its grace refused"
curl -sf -o /dev/null -A "$ua" "http://$HTTP/p/$next/805ec0aabbcc.cfg" || fail "new token refused"
last=$(api POST /api/v1/tenants/default/provisioning-token/rotate '{"grace":"0"}' | jq -r .provisioning_token)
code=$(curl -s -o /dev/null -w '%{http_code}' -A "$ua" "http://$HTTP/p/$next/805ec0aabbcc.cfg")
[ "$code" = 404 ] || fail "token rotated with grace 0 answered $code"
curl -sf -o /dev/null -A "$ua" "http://$HTTP/p/$last/805ec0aabbcc.cfg" || fail "newest token refused"
