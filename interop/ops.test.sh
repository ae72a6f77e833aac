# Operations: Prometheus' own promtool loads the alert rules (and runs their unit tests),
# checks every dashboard query parses as PromQL, and lints the running binary's /metrics
# on --metrics-addr; /metrics is not served on the phones' port without a token.
ops=$(cd "$(dirname "${BASH_SOURCE[0]}")/../docs/ops" && pwd)
command -v promtool >/dev/null || fail "promtool not installed (apt package prometheus)"

promtool check rules "$ops/alerts.yml"
( cd "$ops" && promtool test rules alerts.test.yml )

# Every dashboard query as a recording rule: promtool parses each expression.
jq -r '[.panels[] | .targets[]? | .expr] | to_entries[] |
  "      - record: dashboard:query_\(.key)\n        expr: \(.value | @json)"' "$ops/grafana-dashboard.json" \
  | { echo "groups:"; echo "  - name: dashboard"; echo "    rules:"; cat; } >"$WORK/dashboard-rules.yml"
promtool check rules "$WORK/dashboard-rules.yml"

# Some traffic, so the per-route series exist; then the scrape passes promtool's lint.
curl -s -o /dev/null "http://$HTTP/p/nosuchtoken/001565000001.cfg"
curl -s -o /dev/null "http://$HTTP/api/v1/tenants/default/users"
curl -sf "http://$METRICS/metrics" >"$WORK/metrics.txt" || fail "no /metrics on --metrics-addr $METRICS"
promtool check metrics <"$WORK/metrics.txt" || fail "promtool check metrics: $(promtool check metrics <"$WORK/metrics.txt" 2>&1 | head)"
expect_contains "$(cat "$WORK/metrics.txt")" 'dialtone_http_requests_total{code="404",route="/p/{token}/{file}"}'
expect_contains "$(cat "$WORK/metrics.txt")" 'go_goroutines'
grep -q nosuchtoken "$WORK/metrics.txt" && fail "a raw path in /metrics"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/metrics")
[ "$code" = 404 ] || fail "/metrics on the phones' port without --metrics-token: $code, want 404"
[ "$(curl -sf "http://$METRICS/readyz" | jq -r .status)" = ok ] || fail "readyz: $(curl -s "http://$METRICS/readyz")"
[ "$(curl -sf "http://$HTTP/healthz" | jq -r .status)" = ok ] || fail "healthz on --http"
