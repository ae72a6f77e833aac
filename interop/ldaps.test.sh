# LDAPS and StartTLS with OpenLDAP's clients, verifying the appliance's certificate
# against its CA alone (LDAPTLS_CACERT, never LDAPTLS_REQCERT=never): people bind with
# their login password over TLS only, the phonebook account in clear as the tenant
# allows, and phone configs point at ldaps:// when the tenant asks.
[ -n "$LDAPS" ] || fail "no ldaps listener"
ca="$WORK/ca.pem"
if ! curl -sf -o "$ca" "http://$HTTP/ca.pem"; then cp "$WORK/data/tls/ca.pem" "$ca"; fi
grep -q 'BEGIN CERTIFICATE' "$ca" || fail "no CA certificate"
export LDAPTLS_CACERT="$ca"
unset LDAPTLS_REQCERT

user=$(api POST /api/v1/tenants/default/users '{"first_name":"Lena","last_name":"Secure","email":"lena@interop.test","extensions":["461"],"password":"lena interop password"}')
uid=$(jq -r .id <<<"$user")
tenant=$(api GET /api/v1/tenants/default)
base=$(jq -r .ldap_base_dn <<<"$tenant"); dn=$(jq -r .ldap_bind_dn <<<"$tenant"); pw=$(jq -r .ldap_bind_password <<<"$tenant")
[ "$(jq -r .ldap_require_tls <<<"$tenant")" = true ] || fail "ldap_require_tls is not on by default"
[ "$(jq -r .ldap_phonebook_cleartext <<<"$tenant")" = true ] || fail "ldap_phonebook_cleartext is not on by default"

# LDAPS: the phonebook account searches, a person binds with the login password.
out=$(ldapsearch -LLL -x -H "ldaps://$LDAPS" -D "$dn" -w "$pw" -b "$base" '(cn=Lena*)' cn telephoneNumber)
expect_contains "$out" "cn: Lena Secure"
expect_contains "$out" "telephoneNumber: 461"
out=$(ldapwhoami -x -H "ldaps://$LDAPS" -D lena@interop.test -w 'lena interop password')
expect_contains "$out" "dn:uid=$uid,ou=people,$base"

# StartTLS (-ZZ: fail unless TLS is established) on the plain port, then a person's bind.
out=$(ldapwhoami -ZZ -x -H "ldap://$LDAP" -D lena@interop.test -w 'lena interop password')
expect_contains "$out" "dn:uid=$uid,ou=people,$base"
out=$(ldapsearch -ZZ -LLL -x -H "ldap://$LDAP" -D "$dn" -w "$pw" -b "$base" '(telephoneNumber=461)' cn)
expect_contains "$out" "cn: Lena Secure"

# A client that trusts another CA gets no session.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other-ca \
  -keyout "$WORK/other.key" -out "$WORK/other.pem" 2>/dev/null
set +e
LDAPTLS_CACERT="$WORK/other.pem" ldapwhoami -x -H "ldaps://$LDAPS" -D "$dn" -w "$pw" >"$WORK/other.out" 2>&1; rc=$?
set -e
[ "$rc" != 0 ] || fail "LDAPS verified against another CA"

# The person's bind in clear: 13 confidentialityRequired, with the way out named.
set +e
ldapwhoami -x -H "ldap://$LDAP" -D lena@interop.test -w 'lena interop password' >"$WORK/clear.out" 2>&1; rc=$?
set -e
[ "$rc" = 13 ] || fail "person in clear answered $rc: $(cat "$WORK/clear.out")"
expect_contains "$(cat "$WORK/clear.out")" "ldaps://"
# The phonebook account binds in clear while ldap_phonebook_cleartext is on ...
ldapwhoami -x -H "ldap://$LDAP" -D "$dn" -w "$pw" >/dev/null || fail "phonebook in clear refused"

# ... and phone configs point at plain LDAP until phonebook_ldaps is on.
ptoken=$(jq -r .provisioning_token <<<"$tenant")
api POST /api/v1/tenants/default/phones "{\"mac\":\"805ec0dd0461\",\"model\":\"T46U\",\"user_id\":\"$uid\"}" >/dev/null
ua="Yealink SIP-T46U 108.86.0.20 80:5e:c0:dd:04:61"
cfg=$(curl -sf -A "$ua" "http://$HTTP/p/$ptoken/805ec0dd0461.cfg") || fail "GET config"
expect_contains "$cfg" "ldap.port = $(port "$LDAP")"
expect_contains "$cfg" "ldap.tls_mode = 0"
api PATCH /api/v1/tenants/default '{"phonebook_ldaps":true,"ldap_phonebook_cleartext":false}' >/dev/null
cfg=$(curl -sf -A "$ua" "http://$HTTP/p/$ptoken/805ec0dd0461.cfg") || fail "GET config"
expect_contains "$cfg" "ldap.port = $(port "$LDAPS")"
expect_contains "$cfg" "ldap.tls_mode = 2"

# With ldap_phonebook_cleartext off the phonebook account needs TLS too (the directory
# follows the change as it commits; wait for it with a deadline).
rc=0
for _ in $(seq 50); do
  set +e; ldapwhoami -x -H "ldap://$LDAP" -D "$dn" -w "$pw" >"$WORK/pbclear.out" 2>&1; rc=$?; set -e
  [ "$rc" = 13 ] && break
  sleep 0.1
done
[ "$rc" = 13 ] || fail "phonebook in clear with ldap_phonebook_cleartext off answered $rc"
expect_contains "$(cat "$WORK/pbclear.out")" "ldap_phonebook_cleartext"
ldapwhoami -ZZ -x -H "ldap://$LDAP" -D "$dn" -w "$pw" >/dev/null || fail "phonebook over StartTLS refused"

# Back to the defaults for the other tests.
api PATCH /api/v1/tenants/default '{"phonebook_ldaps":false,"ldap_phonebook_cleartext":true}' >/dev/null
api DELETE /api/v1/tenants/default/phones/805ec0dd0461 >/dev/null
