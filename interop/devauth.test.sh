# Device certificates with real clients. openssl makes a vendor CA and a device
# certificate naming a phone's MAC, as a factory certificate does; curl uploads the CA
# over HTTPS (verifying the appliance against /ca.pem, never -k); under device_auth
# require the phone's config is served to curl --cert/--key and to openssl s_client
# -cert/-key, and refused (403) without a certificate, with a self-signed one, over
# plain HTTP and over TFTP; the provisioning log says why.
[ -n "${HTTPS:-}" ] || fail "no HTTPS listener: this test needs serve --https (interop/lib.sh)"
d="$WORK/devauth"; mkdir -p "$d"
mac=805ec0d1a501
curl -sf "http://$HTTP/ca.pem" -o "$d/appliance.pem" || fail "GET /ca.pem"

# sapi METHOD PATH [curl args]: the admin API over HTTPS; the body goes to $d/out, the
# status is printed.
sapi() {
  local method=$1 path=$2; shift 2
  curl -s --cacert "$d/appliance.pem" -H "Authorization: Bearer $TOKEN" -X "$method" -o "$d/out" -w '%{http_code}' \
    "$@" "https://$HTTPS$path"
}

# The vendor: a CA, and the phone's certificate with its MAC as the subject CN.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -keyout "$d/vendor.key" -out "$d/vendor.pem" -subj "/O=Interop Phones/CN=Interop Vendor CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || fail "openssl: vendor CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/phone.key" -out "$d/phone.csr" \
  -subj "/O=Interop Phones/CN=$mac" 2>/dev/null || fail "openssl: device key"
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$d/device.ext"
openssl x509 -req -in "$d/phone.csr" -CA "$d/vendor.pem" -CAkey "$d/vendor.key" -CAcreateserial -days 365 \
  -extfile "$d/device.ext" -out "$d/phone.pem" 2>/dev/null || fail "openssl: device certificate"
# An impostor: the same MAC, self-signed.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -keyout "$d/fake.key" -out "$d/fake.pem" \
  -subj "/CN=$mac" 2>/dev/null || fail "openssl: self-signed"

# A tenant of its own, with a user and the phone.
code=$(sapi POST /api/v1/tenants -H 'Content-Type: application/json' -d '{"slug":"devauth","sip_domain":"devauth.interop"}')
[ "$code" = 201 ] || fail "create tenant: $code $(cat "$d/out")"
ptoken=$(jq -r .provisioning_token "$d/out")
code=$(sapi POST /api/v1/tenants/devauth/users -H 'Content-Type: application/json' -d '{"first_name":"Device","last_name":"Auth","extensions":["361"]}')
[ "$code" = 201 ] || fail "create user: $code $(cat "$d/out")"
uid=$(jq -r .id "$d/out")
code=$(sapi POST /api/v1/tenants/devauth/phones -H 'Content-Type: application/json' -d "{\"mac\":\"$mac\",\"model\":\"T46U\",\"user_id\":\"$uid\"}")
[ "$code" = 201 ] || fail "create phone: $code $(cat "$d/out")"

# Uploads: the phone's own certificate is no CA; the vendor's CA is taken, with its fingerprint.
code=$(sapi POST /api/v1/tenants/devauth/trust/device-cas -H 'Content-Type: application/x-pem-file' --data-binary @"$d/phone.pem")
[ "$code" = 400 ] || fail "a device certificate uploaded as a CA: $code"
expect_contains "$(cat "$d/out")" "not a CA certificate"
code=$(sapi POST /api/v1/tenants/devauth/trust/device-cas -H 'Content-Type: application/x-pem-file' --data-binary @"$d/vendor.pem")
[ "$code" = 201 ] || fail "upload the vendor CA: $code $(cat "$d/out")"
fp=$(openssl x509 -in "$d/vendor.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
[ "$(jq -r '.items[0].sha256' "$d/out")" = "$fp" ] || fail "fingerprint: $(cat "$d/out"), openssl says $fp"
code=$(sapi GET /api/v1/tenants/devauth/trust/device-cas)
expect_contains "$(cat "$d/out")" "CN=Interop Vendor CA,O=Interop Phones"
code=$(sapi PATCH /api/v1/tenants/devauth -H 'Content-Type: application/json' -d '{"device_auth":"require"}')
[ "$code" = 200 ] || fail "device_auth require: $code $(cat "$d/out")"

# The phone with its certificate: curl, then openssl s_client.
ua="Yealink SIP-T46U 108.86.0.20 80:5e:c0:d1:a5:01"
url="https://$HTTPS/p/$ptoken/$mac.cfg"
code=$(curl -s --cacert "$d/appliance.pem" --cert "$d/phone.pem" --key "$d/phone.key" -A "$ua" -o "$d/cfg" -w '%{http_code}' "$url")
[ "$code" = 200 ] || fail "curl with the device certificate: $code $(cat "$d/cfg")"
grep -q 'account.1.user_name = 361' "$d/cfg" || fail "config: $(head -c 400 "$d/cfg")"
printf 'GET /p/%s/%s.cfg HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n' "$ptoken" "$mac" "$ua" |
  openssl s_client -connect "$HTTPS" -servername localhost -CAfile "$d/appliance.pem" -verify_return_error \
    -cert "$d/phone.pem" -key "$d/phone.key" -quiet >"$d/s_client.out" 2>"$d/s_client.err" || true
head -1 "$d/s_client.out" | grep -q '^HTTP/1.1 200' || fail "s_client with the device certificate: $(head -c 300 "$d/s_client.out") $(tail -3 "$d/s_client.err")"
grep -q 'account.1.user_name = 361' "$d/s_client.out" || fail "s_client config"

# Refused: no certificate, a self-signed one, plain HTTP, TFTP.
code=$(curl -s --cacert "$d/appliance.pem" -A "$ua" -o "$d/no-cert" -w '%{http_code}' "$url")
[ "$code" = 403 ] || fail "no certificate under require: $code"
if grep -q 'account.1.password' "$d/no-cert"; then fail "a 403 carried the config"; fi
code=$(curl -s --cacert "$d/appliance.pem" --cert "$d/fake.pem" --key "$d/fake.key" -A "$ua" -o /dev/null -w '%{http_code}' "$url")
[ "$code" = 403 ] || fail "self-signed certificate under require: $code"
code=$(curl -s -A "$ua" -o /dev/null -w '%{http_code}' "http://$HTTP/p/$ptoken/$mac.cfg")
[ "$code" = 403 ] || fail "plain HTTP under require: $code"
out=$(tftp -m binary 127.0.0.1 "$(port "$TFTP")" -c get "$ptoken/$mac.cfg" "$d/tftp.cfg" 2>&1 || true)
grep -qi 'error code 2\|access violation' <<<"$out" || fail "TFTP under require: $out"
# The common file needs no certificate.
code=$(curl -s --cacert "$d/appliance.pem" -A "$ua" -o /dev/null -w '%{http_code}' "https://$HTTPS/p/$ptoken/y000000000108.cfg")
[ "$code" = 200 ] || fail "common file without a certificate: $code"

# The provisioning log says who was served and why the others were refused.
for _ in $(seq 100); do
  log=$(api GET /api/v1/tenants/devauth/provisioning-log)
  if grep -q '"device":"verified"' <<<"$log" && grep -q 'the client sent none' <<<"$log" &&
    grep -q 'not issued by a vendor CA' <<<"$log" && grep -q 'plain HTTP' <<<"$log" && grep -q 'TFTP' <<<"$log"; then
    break
  fi
  sleep 0.1
done
expect_contains "$log" '"device":"verified"'
expect_contains "$log" "no device certificate: the client sent none"
expect_contains "$log" "not issued by a vendor CA this tenant trusts"
expect_contains "$log" "fetched over plain HTTP"
expect_contains "$log" "TFTP cannot carry one"
