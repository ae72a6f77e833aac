# dialtone dhcp-options, through the running server and offline: every snippet carries the
# tenant's provisioning URL, and the DHCP servers at hand parse theirs (ISC dhcpd -t,
# kea-dhcp4 -t, dnsmasq --test); one that is not installed is skipped with a message.
dir=$(mktemp -d "$WORK/dhcp.XXXXXX")
url=$(api GET /api/v1/tenants/default | jq -r .provisioning_url)
"$DIALTONE_BIN" dhcp-options --data "$WORK/data" > "$dir/online"
# Offline, on a store of its own (import-users makes one), for a routable address: with 150.
printf 'FirstName,LastName\nAnn,Lee\n' > "$dir/p.csv"
DIALTONE_ADMIN_PASSWORD=offline-admin-password "$DIALTONE_BIN" import-users "$dir/p.csv" --tenant default --data "$dir/store" > /dev/null
"$DIALTONE_BIN" dhcp-options --data "$dir/store" --public-host 192.0.2.10 --http :8080 --tftp :69 > "$dir/offline"
expect_contains "$(cat "$dir/offline")" "option 150 (Cisco TFTP server)        192.0.2.10 (hex C000020A)"

check() { # check NAME URL: the values and each snippet of $dir/NAME
  local name=$1 url=$2 out d=$dir/$1.d
  out=$(cat "$dir/$name"); mkdir -p "$d"
  expect_contains "$out" "option 66  (TFTP server name)        $url"
  expect_contains "$out" "option 160 (provisioning URL, Poly)   $url"
  awk -v d="$d" '/^## /{ n = $2; next } n { print > (d "/" n) }' "$dir/$name"
  for n in ISC dnsmasq MikroTik Windows; do grep -qF "$url" "$d/$n" || fail "$name: $n snippet lacks $url"; done
  grep -qF "$(printf %s "$url" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" "$d/Kea" || fail "$name: Kea snippet lacks the URL in hex"
  if command -v dhcpd >/dev/null; then
    { echo 'ddns-update-style none;'; cat "$d/ISC"
      echo 'subnet 192.0.2.0 netmask 255.255.255.0 { range 192.0.2.100 192.0.2.200; }'; } > "$d/dhcpd.conf"
    dhcpd -t -cf "$d/dhcpd.conf" >"$d/dhcpd.log" 2>&1 || { cat "$d/dhcpd.log"; fail "$name: dhcpd refused the ISC snippet"; }
    echo "$name: dhcpd -t accepted the ISC snippet"
  else
    echo "SKIP ISC dhcpd check: dhcpd is not installed (apt-get install isc-dhcp-server)"
  fi
  if command -v kea-dhcp4 >/dev/null; then
    jq '{Dhcp4: {"interfaces-config": {interfaces: []}, "lease-database": {type: "memfile", persist: false},
         subnet4: [{subnet: "192.0.2.0/24", pools: [{pool: "192.0.2.100 - 192.0.2.200"}], "option-data": .["option-data"]}]}}' \
      "$d/Kea" > "$d/kea.json" || fail "$name: Kea snippet is not JSON"
    kea-dhcp4 -t "$d/kea.json" >"$d/kea.log" 2>&1 || { tail "$d/kea.log"; fail "$name: kea-dhcp4 refused the Kea snippet"; }
    echo "$name: kea-dhcp4 -t accepted the Kea snippet"
  else
    echo "SKIP Kea check: kea-dhcp4 is not installed (apt-get install kea-dhcp4-server)"
  fi
  if command -v dnsmasq >/dev/null; then
    dnsmasq --test -C "$d/dnsmasq" >"$d/dnsmasq.log" 2>&1 || { cat "$d/dnsmasq.log"; fail "$name: dnsmasq refused its snippet"; }
    echo "$name: dnsmasq --test accepted its snippet"
  else
    echo "SKIP dnsmasq check: dnsmasq is not installed (apt-get install dnsmasq-base)"
  fi
}
check online "$url"
check offline "http://192.0.2.10:8080/p/$(sed -n 's|^  http://192.0.2.10:8080/p/\([0-9a-f]*\)/$|\1|p' "$dir/offline")/"
