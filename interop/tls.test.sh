# TLS with real clients: curl fetches the CA from /ca.pem over plain HTTP, checks its
# fingerprint against the API's, and from then on verifies the appliance against it
# alone (never -k): API login and a phone's config over HTTPS, HSTS on the API only.
# provisioning_https_only refuses the phone's file to plain curl and tftp-hpa.
curl -sf "http://$HTTP/ca.pem" -o "$WORK/ca.pem" || fail "GET /ca.pem"
fp=$(openssl x509 -in "$WORK/ca.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
api_fp=$(api GET /api/v1/tls | jq -r .ca_sha256)
[ "$fp" = "$api_fp" ] || fail "CA fingerprint $fp, API says $api_fp"
grep -q "ca_sha256=$fp" "$WORK/server.log" || fail "fingerprint not logged at start"

# The API over HTTPS, verified against the CA: login, HSTS, a call with the token.
login=$(curl -sf --cacert "$WORK/ca.pem" -D "$WORK/login.h" "https://$HTTPS/api/v1/auth/login" \
  -d "{\"email\":\"admin@localhost\",\"password\":\"$ADMIN_PASSWORD\"}") || fail "login over HTTPS"
stoken=$(jq -r .token <<<"$login")
grep -qi '^strict-transport-security: max-age=31536000' "$WORK/login.h" || fail "no HSTS on the API: $(cat "$WORK/login.h")"
curl -sf --cacert "$WORK/ca.pem" -H "Authorization: Bearer $stoken" "https://$HTTPS/api/v1/me" | grep -q admin@localhost || fail "GET /me over HTTPS"
# Without the CA curl refuses the certificate.
if curl -s -o /dev/null "https://$HTTPS/api/v1/openapi.json"; then fail "curl accepted the certificate without the CA"; fi

# The plain API still answers scripts on the box (loopback is exempt from the redirect).
api GET /api/v1/me | grep -q admin@localhost || fail "plain HTTP API from 127.0.0.1"

# A phone's config over HTTPS.
uid=$(api POST /api/v1/tenants/default/users '{"first_name":"Interop","last_name":"TLS","extensions":["351"]}' | jq -r .id)
api POST /api/v1/tenants/default/phones "{\"mac\":\"805ec0351351\",\"model\":\"T46U\",\"user_id\":\"$uid\"}" >/dev/null
ptoken=$(api GET /api/v1/tenants/default | jq -r .provisioning_token)
ua="Yealink SIP-T46U 108.86.0.20 80:5e:c0:35:13:51"
curl -v --cacert "$WORK/ca.pem" -A "$ua" -D "$WORK/cfg.h" -o "$WORK/tls.cfg" "https://$HTTPS/p/$ptoken/805ec0351351.cfg" 2>"$WORK/curl-v.txt" \
  || { cat "$WORK/curl-v.txt"; fail "config over HTTPS"; }
grep -q 'account.1.user_name = 351' "$WORK/tls.cfg" || fail "config over HTTPS: $(cat "$WORK/tls.cfg")"
grep -q "static.trusted_certificates.url = http://$HTTP/ca.pem" "$WORK/tls.cfg" || fail "no CA URL in the config"
if grep -qi '^strict-transport-security' "$WORK/cfg.h"; then fail "HSTS on provisioning"; fi
echo "negotiated: $(grep -E 'SSL connection using|ALPN: server accepted|subjectAltName' "$WORK/curl-v.txt" | tr -d '*' | tr '\n' ';')"

# provisioning_https_only: plain HTTP and TFTP are refused the phone's own file; HTTPS
# serves it with https:// in it; the common file stays on plain HTTP.
api PATCH /api/v1/tenants/default '{"provisioning_https_only":true}' >/dev/null
code=$(curl -s -o "$WORK/refused" -w '%{http_code}' -A "$ua" "http://$HTTP/p/$ptoken/805ec0351351.cfg")
[ "$code" = 403 ] || fail "plain HTTP under provisioning_https_only answered $code"
grep -q "https://127.0.0.1:$(port "$HTTPS")/p/$ptoken/805ec0351351.cfg" "$WORK/refused" || fail "403 body: $(cat "$WORK/refused")"
out=$(tftp -m binary 127.0.0.1 "$(port "$TFTP")" -c get "$ptoken/805ec0351351.cfg" "$WORK/tftp-refused.cfg" 2>&1 || true)
expect_contains "$out" "https://"
curl -sf --cacert "$WORK/ca.pem" -A "$ua" "https://$HTTPS/p/$ptoken/805ec0351351.cfg" | grep -q "auto_provision.server.url = https://127.0.0.1:$(port "$HTTPS")/p/" \
  || fail "config over HTTPS does not point at https://"
curl -sf -A "$ua" "http://$HTTP/p/$ptoken/y000000000108.cfg" | grep -q 'auto_provision.server.url' || fail "common file over plain HTTP"
api PATCH /api/v1/tenants/default '{"provisioning_https_only":false}' >/dev/null
