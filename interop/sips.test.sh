# SIP over TLS (--sips) with real clients, each verifying the server with the private CA
# only: openssl s_client sends a REGISTER over TLS and reads the 401 challenge; baresip
# registers over TLS (account outbound ;transport=tls, sip_cafile the CA) and its binding
# shows transport TLS in the admin API. Sourced by interop/run.sh (lib.sh loaded).
ext=702
[ -n "$SIPS" ] || fail "no sips listener in the log"
[ -s "$CA_PEM" ] || fail "no private CA at $CA_PEM"

api POST /api/v1/tenants/default/users "{\"first_name\":\"Tls\",\"last_name\":\"Interop\",\"extensions\":[\"$ext\"]}" >/dev/null
account=$(api GET '/api/v1/tenants/default/extensions?limit=500' | jq -c ".items[] | select(.number==\"$ext\")")
sipuser=$(jq -r .sip_username <<<"$account"); sippass=$(jq -r .sip_password <<<"$account")
[ -n "$sipuser" ] && [ "$sipuser" != null ] || fail "no SIP account for $ext: $account"
domain=$(api GET /api/v1/tenants/default | jq -r .sip_domain)

# openssl s_client: the handshake verifies with the CA alone, then a REGISTER without
# credentials is answered 401 with a challenge for the tenant's realm, over TLS.
register() {
  printf 'REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-sips-1;rport\r\nMax-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=s1\r\nTo: <sip:%s@%s>\r\nCall-ID: sips-interop-1\r\nCSeq: 1 REGISTER\r\nContact: <sip:%s@127.0.0.1:5999;transport=tls>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n' \
    "$domain" "$sipuser" "$domain" "$sipuser" "$domain" "$sipuser"
}
out=$( (register; sleep 2) | timeout 10 openssl s_client -connect "$SIPS" -CAfile "$CA_PEM" \
  -verify_return_error -servername localhost -quiet 2>"$WORK/sips-openssl.err") || true
expect_contains "$out" "SIP/2.0 401"
expect_contains "$out" "WWW-Authenticate: Digest realm=\"$domain\""
expect_contains "$out" "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-sips-1"
echo "ok openssl s_client (verified with the CA only) sent REGISTER over TLS and read the 401 challenge"

# A client that does not trust the CA fails the handshake.
if (register; sleep 1) | timeout 10 openssl s_client -connect "$SIPS" -verify_return_error \
  -CAfile /dev/null -quiet >"$WORK/sips-untrusted.out" 2>&1; then
  grep -q 'SIP/2.0' "$WORK/sips-untrusted.out" && fail "answered a client that does not trust the CA"
fi
echo "ok a client without the CA fails verification"

# baresip over TLS. Old libre (baresip 1.0) offers only MD5 and fails a 401 that carries
# a SHA-256 challenge: the tenant's sip_digest is md5 for the test (as in sip.test.sh).
api PATCH /api/v1/tenants/default '{"sip_digest":"md5"}' | jq -e '.sip_digest == "md5"' >/dev/null || fail "sip_digest md5 not taken"
bdir=$WORK/baresip-tls; mkdir -p "$bdir"
bport=$((20000 + RANDOM % 20000))
cat >"$bdir/config" <<CONF
poll_method		epoll
sip_listen		127.0.0.1:$bport
sip_cafile		$CA_PEM
module_path		/usr/lib/baresip/modules
module			g711.so
module_app		account.so
CONF
printf '<sip:%s@%s;transport=tls>;auth_pass=%s;outbound="sip:%s;transport=tls";regint=600;answermode=manual\n' \
  "$sipuser" "$domain" "$sippass" "$SIPS" >"$bdir/accounts"
: >"$bdir/contacts"
baresip -f "$bdir" -t 30 >"$WORK/baresip-tls.out" 2>&1 </dev/null &
bpid=$!
trap 'kill $bpid 2>/dev/null || true; wait $bpid 2>/dev/null || true' EXIT
b=""
for _ in $(seq 100); do
  b=$(api GET /api/v1/tenants/default/registrations | jq -c ".items[] | select(.sip_username==\"$sipuser\")")
  [ -n "$b" ] && break
  kill -0 "$bpid" 2>/dev/null || break
  sleep 0.1
done
kill "$bpid" 2>/dev/null || true; wait "$bpid" 2>/dev/null || true
api PATCH /api/v1/tenants/default '{"sip_digest":"md5,sha-256"}' >/dev/null
[ -n "$b" ] || { tail -20 "$WORK/baresip-tls.out"; fail "baresip did not register over TLS"; }
[ "$(jq -r .transport <<<"$b")" = TLS ] || fail "baresip's binding transport: $b"
[[ "$(jq -r .user_agent <<<"$b")" == baresip* ]] || fail "binding user agent: $b"
echo "ok baresip registered $sipuser over TLS; the registrations API shows transport TLS ($(jq -r .source <<<"$b"))"
