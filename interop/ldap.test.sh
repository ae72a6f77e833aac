# LDAP phonebook with OpenLDAP's clients: each make's filters, paging, size limit, RootDSE,
# and a refused write.
api POST /api/v1/tenants/default/users '{"first_name":"Anna","last_name":"de Jong","email":"anna@interop.test","extensions":["401"],"external_numbers":["+31 20 123 4567"],"mobile":"+31612345678"}' >/dev/null
for i in $(seq 1 30); do
  api POST /api/v1/tenants/default/users "{\"first_name\":\"Page$i\",\"last_name\":\"Person\",\"extensions\":[\"$((500 + i))\"]}" >/dev/null
done
tenant=$(api GET /api/v1/tenants/default)
base=$(jq -r .ldap_base_dn <<<"$tenant"); dn=$(jq -r .ldap_bind_dn <<<"$tenant"); pw=$(jq -r .ldap_bind_password <<<"$tenant")
[ "$base" = "o=default,dc=dialtone" ] || fail "base $base"
url="ldap://$LDAP"
search() { ldapsearch -LLL -x -H "$url" -D "$dn" -w "$pw" -b "$base" "$@"; }

# Name lookups as Yealink, Fanvil, Grandstream, Snom, Cisco and Poly send them.
for f in '(|(cn=Anna*)(sn=Anna*))' '(cn=Anna*)' '(&(telephoneNumber=*)(displayName=Anna*))' '(sn=de J*)' \
         '(&(objectclass=person)(|(cn=Anna*)(sn=Anna*)))'; do
  out=$(search "$f" cn telephoneNumber)
  expect_contains "$out" "cn: Anna de Jong"
done
# Caller-ID lookups by number, with the spaces and hyphens phones put in.
for f in '(|(telephoneNumber=+31201234567)(mobile=+31201234567)(ipPhone=+31201234567))' \
         '(|(telephoneNumber=+31 20 123-4567)(mobile=+31 20 123-4567))' '(&(telephoneNumber=401)(displayName=*))' \
         '(|(telephoneNumber=+31612345678)(mobile=+31612345678)(other=+31612345678))'; do
  out=$(search "$f" cn)
  expect_contains "$out" "cn: Anna de Jong"
done
out=$(search '(uid=*)' ipPhone mail preferredLanguage objectClass)
expect_contains "$out" "ipPhone: 401"
expect_contains "$out" "objectClass: inetOrgPerson"

# Paging: 31 people in pages of 10.
out=$(search -E pr=10/noprompt '(objectClass=person)' cn)
[ "$(grep -c '^cn: ' <<<"$out")" -ge 31 ] || fail "paged search returned $(grep -c '^cn: ' <<<"$out") entries"
# Size limit: 5 entries then result 4 (sizeLimitExceeded), which ldapsearch exits with.
set +e; out=$(search -z 5 '(objectClass=person)' cn 2>&1); rc=$?; set -e
[ "$rc" = 4 ] || fail "size limit: exit $rc"
[ "$(grep -c '^cn: ' <<<"$out")" = 5 ] || fail "size limit returned $(grep -c '^cn: ' <<<"$out")"

# RootDSE, anonymously.
out=$(ldapsearch -LLL -x -H "$url" -b '' -s base '(objectClass=*)' + namingContexts supportedLDAPVersion)
expect_contains "$out" "namingContexts: dc=dialtone"
expect_contains "$out" "supportedLDAPVersion: 3"
# The subschema entry it names, as schema-aware clients read it.
out=$(ldapsearch -LLL -o ldif-wrap=no -x -H "$url" -D "$dn" -w "$pw" -b cn=Subschema -s base '(objectClass=subschema)' attributeTypes objectClasses)
expect_contains "$out" "NAME 'telephoneNumber'"
expect_contains "$out" "NAME 'inetOrgPerson'"

# Writes are refused (53 unwillingToPerform); a wrong password is 49.
set +e
printf 'dn: uid=x,ou=people,%s\nchangetype: add\nobjectClass: person\ncn: x\nsn: x\n' "$base" \
  | ldapmodify -x -H "$url" -D "$dn" -w "$pw" >"$WORK/modify.out" 2>&1; rc=$?
ldapsearch -x -H "$url" -D "$dn" -w wrong -b "$base" '(cn=*)' >/dev/null 2>&1; rc2=$?
set -e
[ "$rc" = 53 ] || fail "add answered $rc: $(cat "$WORK/modify.out")"
[ "$rc2" = 49 ] || fail "wrong password answered $rc2"
# Anonymous search is off by default.
set +e; ldapsearch -x -H "$url" -b "$base" '(cn=Anna*)' cn >"$WORK/anon.out" 2>&1; set -e
! grep -q 'cn: Anna' "$WORK/anon.out" || fail "anonymous search saw people"
