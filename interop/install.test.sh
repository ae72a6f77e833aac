# dialtone install: --dry-run changes nothing; --root stages binary, unit and data
# directory; systemd-analyze verify accepts the unit (pointed at the staged binary).
stage=$(mktemp -d "$WORK/install.XXXXXX")
out=$("$DIALTONE_BIN" install --dry-run --root "$stage")
expect_contains "$out" "would write $stage/etc/systemd/system/dialtone.service"
[ -z "$(ls -A "$stage")" ] || fail "--dry-run wrote: $(ls -A "$stage")"

"$DIALTONE_BIN" install --root "$stage" --prefix /opt/dialtone --data /srv/dialtone >/dev/null
unit=$stage/etc/systemd/system/dialtone.service
[ -x "$stage/opt/dialtone/bin/dialtone" ] || fail "binary not staged"
[ "$(stat -c %a "$stage/srv/dialtone")" = 750 ] || fail "data directory mode $(stat -c %a "$stage/srv/dialtone")"
"$stage/opt/dialtone/bin/dialtone" --version | grep -q '^dialtone ' || fail "staged binary does not run"
for want in 'ExecStart=/opt/dialtone/bin/dialtone serve --data /srv/dialtone' 'ReadWritePaths=/srv/dialtone' \
  'User=dialtone' 'AmbientCapabilities=CAP_NET_BIND_SERVICE' 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' \
  'NoNewPrivileges=true' 'ProtectSystem=strict' 'Restart=on-failure' 'ExecReload=/bin/kill -HUP $MAINPID'; do
  grep -qxF "$want" "$unit" || fail "unit lacks: $want"
done

if command -v systemd-analyze >/dev/null; then
  sed "s|^ExecStart=/opt/dialtone/bin/dialtone|ExecStart=$stage/opt/dialtone/bin/dialtone|" "$unit" > "$stage/dialtone.service"
  systemd-analyze verify "$stage/dialtone.service" || fail "systemd-analyze verify refused the unit"
  echo "systemd-analyze verify: unit accepted"
else
  echo "SKIP systemd-analyze verify: systemd-analyze is not installed here"
fi
