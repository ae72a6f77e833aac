# SIP plug-and-play with SIPp as each make's phone: a SUBSCRIBE (Event: ua-profile, the
# MAC written the make's way in the From user) sent to the unicast SIP port gets 200,
# then a NOTIFY whose application/url body is the URL that make loads (the tenant's
# folder; Snom its own {MAC}.xml), checked by SIPp's regexp and here against the
# tenant's token. The server listens on 127.0.0.1 only, so 224.0.1.75 is not joined
# here: cmd/dialtone's TestPnPMulticast covers the multicast path on loopback. Each make
# subscribes from its own loopback address (a source gets a few NOTIFYs a minute).
# Prints the time from SUBSCRIBE sent (SIPp started) to config fetched (curl done).
# Sourced by interop/run.sh (lib.sh loaded, Dialtone running).
sipdir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sipp"
token=$(api GET /api/v1/tenants/default | jq -r .provisioning_token)
[ -n "$token" ] && [ "$token" != null ] || fail "no provisioning token"
folder="http://$HTTP/p/$token/"

user=$(api POST /api/v1/tenants/default/users '{"first_name":"Plug","last_name":"Play","extensions":["731"]}' | jq -r .id)
api POST /api/v1/tenants/default/phones "{\"mac\":\"80:5e:c0:00:01:01\",\"model\":\"T46U\",\"user_id\":\"$user\"}" >/dev/null

# pnp_run MAKE IP: one SIPp plug-and-play exchange from IP; prints the URL it was given.
pnp_run() {
  local name=$1 ip=$2
  if ! timeout 20 sipp -sf "$sipdir/pnp-$name.xml" -m 1 -i "$ip" -p 0 \
    -nostdin -timeout 15s -timeout_error -recv_timeout 5000 \
    -trace_logs -log_file "$WORK/pnp-$name.log" -trace_msg -message_file "$WORK/pnp-$name.msg" \
    "$SIP" >"$WORK/pnp-$name.out" 2>&1; then
    tail -5 "$WORK/pnp-$name.out" >&2; tail -30 "$WORK/pnp-$name.msg" >&2
    fail "sipp pnp-$name did not get its NOTIFY"
  fi
  sed -n 's/^url //p' "$WORK/pnp-$name.log" | tail -1
}

i=20
for name in yealink snom fanvil gigaset grandstream poly; do
  i=$((i + 1))
  want=$folder
  [ "$name" = snom ] && want="${folder}000413000102.xml"
  if [ "$name" = yealink ]; then
    t0=$(date +%s%N)
    url=$(pnp_run "$name" "127.0.0.$i")
    cfg=$(curl -sf -A "Yealink SIP-T46U 108.86.0.20 80:5e:c0:00:01:01" "${url}805ec0000101.cfg") || fail "config from $url"
    t1=$(date +%s%N)
    expect_contains "$cfg" "account.1.user_name = 731"
    echo "PnP on loopback: SUBSCRIBE sent to config fetched in $(( (t1 - t0) / 1000000 )) ms (SIPp and curl start-up included)"
  else
    url=$(pnp_run "$name" "127.0.0.$i")
  fi
  [ "$url" = "$want" ] || fail "$name: NOTIFY body '$url', want '$want'"
  echo "ok SIPp as $name: 200, then NOTIFY with $url"
done

# The unknown MACs are listed as discovered phones, with the make their OUI tells.
for _ in $(seq 50); do
  disc=$(api GET /api/v1/tenants/default/discovered-phones)
  jq -e '[.items[] | select(.mac=="000413000102" and .make=="snom")] | length == 1' <<<"$disc" >/dev/null && break
  sleep 0.1
done
jq -e '[.items[] | select(.mac=="000413000102" and .make=="snom")] | length == 1' <<<"$disc" >/dev/null ||
  fail "the Snom is not a discovered phone: $disc"
jq -e '[.items[] | select(.mac=="805ec0000101")] | length == 0' <<<"$disc" >/dev/null || fail "a known phone is listed as discovered"
echo "ok unknown MACs are discovered phones: $(jq -r '[.items[].mac] | join(" ")' <<<"$disc")"
