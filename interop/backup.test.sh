# Backup and restore with the built binary: an encrypted online backup of the running serve
# (firmware and a template override included), a damaged copy refused before anything is
# written, and a second serve on the restored directory serving the same firmware to curl.
head -c 3000000 /dev/urandom >"$WORK/fw.rom"
curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/octet-stream' \
  --data-binary @"$WORK/fw.rom" \
  "http://$HTTP/api/v1/tenants/default/firmware?name=T46U-108.86.0.91.rom&model=T46U&version=108.86.0.91" >/dev/null \
  || fail "firmware upload"
ptoken=$(api GET /api/v1/tenants/default | jq -r .provisioning_token)
api GET /api/v1/tenants/default/templates/yealink-phone.tmpl >"$WORK/tmpl"
printf '\n## interop override\n' >>"$WORK/tmpl"
curl -sf -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' --data-binary @"$WORK/tmpl" \
  "http://$HTTP/api/v1/tenants/default/templates/yealink-phone.tmpl" || fail "template override"

# Without a passphrase or --plaintext nothing is written.
if "$DIALTONE_BIN" backup "$WORK/clear.bak" --data "$WORK/data" 2>"$WORK/err"; then fail "backup in clear without --plaintext"; fi
expect_contains "$(cat "$WORK/err")" "--passphrase-file"
[ ! -e "$WORK/clear.bak" ] || fail "refused backup left a file"

echo 'interop backup passphrase' >"$WORK/pass"
out=$("$DIALTONE_BIN" backup "$WORK/office.bak" --data "$WORK/data" --passphrase-file "$WORK/pass") || fail "backup: $out"
expect_contains "$out" "backup written"
if grep -qF "$(cat "$WORK/data/dialtone.key")" "$WORK/office.bak"; then fail "master key in clear in the backup"; fi
"$DIALTONE_BIN" verify-backup "$WORK/office.bak" --passphrase-file "$WORK/pass" || fail "verify-backup"

# Cut by one byte, one byte flipped: refused, nothing restored.
cp "$WORK/office.bak" "$WORK/cut.bak"; truncate -s -1 "$WORK/cut.bak"
cp "$WORK/office.bak" "$WORK/flip.bak"
printf '\x00' | dd of="$WORK/flip.bak" bs=1 seek=100000 conv=notrunc status=none
for bad in cut flip; do
  if "$DIALTONE_BIN" verify-backup "$WORK/$bad.bak" --passphrase-file "$WORK/pass" 2>/dev/null; then fail "$bad: verified"; fi
  if "$DIALTONE_BIN" restore "$WORK/$bad.bak" --data "$WORK/r-$bad" --passphrase-file "$WORK/pass" 2>/dev/null; then fail "$bad: restored"; fi
  [ -z "$(ls -A "$WORK/r-$bad" 2>/dev/null)" ] || fail "$bad: restore wrote $(ls "$WORK/r-$bad")"
done
if "$DIALTONE_BIN" restore "$WORK/office.bak" --data "$WORK/r-nopass" 2>"$WORK/err"; then fail "restored without the passphrase"; fi
expect_contains "$(cat "$WORK/err")" "encrypted"

"$DIALTONE_BIN" restore "$WORK/office.bak" --data "$WORK/restored" --passphrase-file "$WORK/pass" || fail "restore"
cmp "$WORK/tmpl" "$WORK/restored/templates/yealink-phone.tmpl" || fail "template override not restored"

# A second serve on the restored directory serves the firmware byte for byte.
"$DIALTONE_BIN" serve --data "$WORK/restored" --http 127.0.0.1:0 --https '' --tftp '' --sip '' --sips '' --ldap '' --ldaps '' \
  --metrics-addr 127.0.0.1:0 --public-host 127.0.0.1 >/dev/null 2>"$WORK/restored.log" &
restored_pid=$!
trap 'kill $restored_pid 2>/dev/null || true' EXIT
rhttp=""
for _ in $(seq 100); do
  rhttp=$(grep "msg=listening svc=http " "$WORK/restored.log" 2>/dev/null | head -1 | sed -E 's/.* addr=([^ ]+).*/\1/')
  [ -n "$rhttp" ] && curl -sf "http://$rhttp/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf -A "Yealink SIP-T46U 108.86.0.20" -o "$WORK/fw.got" "http://$rhttp/p/$ptoken/fw/T46U-108.86.0.91.rom" || fail "restored serve: firmware fetch"
cmp "$WORK/fw.rom" "$WORK/fw.got" || fail "restored firmware differs"
kill $restored_pid; wait $restored_pid 2>/dev/null || true
echo "ok backup: $(stat -c %s "$WORK/office.bak") bytes, encrypted, restored and served"
