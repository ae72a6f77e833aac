package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// getJSON answers a GET's status and its JSON body.
func getJSON(t *testing.T, url string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: %d, body not JSON: %v", url, res.StatusCode, err)
	}
	return res.StatusCode, body
}

// /healthz and /readyz answer 200 {"status":"ok"} on the phones' port and on
// --metrics-addr while everything is up.
func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	for _, base := range []string{"http://" + e.m.Addrs["http"], "http://" + e.m.Addrs["metrics"]} {
		for _, p := range []string{"/healthz", "/readyz"} {
			code, body := getJSON(t, base+p)
			if code != 200 || body["status"] != "ok" {
				t.Errorf("GET %s%s: %d %v", base, p, code, body)
			}
		}
	}
}

// A store that takes no write makes /readyz answer 503 naming the store, through the
// real listeners, while /healthz stays 200: the process is alive, not ready.
func TestReadyzFailsOnReadOnlyStore(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	first := startMainOn(t, data, nil) // a bootstrapped store
	first.stop()
	err := <-first.done
	first.done <- err // for its cleanup
	first.m.Close()
	e := startMainOn(t, data, func(c *Config) {
		c.hooks = &testHooks{storeOptions: func(o *store.Options) { o.ReadOnly = true }}
	})
	for _, base := range []string{"http://" + e.m.Addrs["http"], "http://" + e.m.Addrs["metrics"]} {
		code, body := getJSON(t, base+"/readyz")
		checks, _ := body["checks"].(map[string]any)
		if code != 503 || body["status"] != "fail" || !strings.HasPrefix(checks["store"].(string), "read-only: ") {
			t.Errorf("GET %s/readyz on a read-only store: %d %v", base, code, body)
		}
		if code, body := getJSON(t, base+"/healthz"); code != 200 || body["status"] != "ok" {
			t.Errorf("GET %s/healthz: %d %v", base, code, body)
		}
	}
}

// /metrics is not on the phones' port unless --metrics-token is set, and then only
// with that bearer token; --metrics-addr serves it.
func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	if code, body := getJSON(t, e.url("/metrics")); code != 404 {
		t.Errorf("/metrics on --http without --metrics-token: %d %v", code, body)
	}
	if !strings.Contains(e.scrape(), "go_goroutines") {
		t.Error("no Go collector on --metrics-addr")
	}

	const token = "scraper token for this test"
	e = startMainOn(t, t.TempDir(), func(c *Config) { c.MetricsToken = token })
	for _, hdr := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", token}} {
		if code, body := getJSON(t, e.url("/metrics"), hdr...); code != 401 {
			t.Errorf("/metrics with %q: %d %v", hdr, code, body)
		}
	}
	req, _ := http.NewRequest("GET", e.url("/metrics"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(res.Body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.Contains(b.String(), "dialtone_http_requests_total") {
		t.Errorf("/metrics with the token: %d %s", res.StatusCode, b.String())
	}
}

// --metrics-addr is on loopback by default; ” (flag, environment) turns it off; the
// token comes from the environment like every secret.
func TestMetricsFlags(t *testing.T) {
	t.Parallel()
	c, err := parseServeConfig(nil, envMap(nil), io.Discard)
	if err != nil || c.MetricsAddr != "127.0.0.1:9464" || c.MetricsToken != "" {
		t.Errorf("defaults: %q %q %v", c.MetricsAddr, c.MetricsToken, err)
	}
	c, err = parseServeConfig(nil, envMap(map[string]string{"DIALTONE_METRICS_ADDR": "", "DIALTONE_METRICS_TOKEN": "s3cret"}), io.Discard)
	if err != nil || c.MetricsAddr != "" || c.MetricsToken != "s3cret" {
		t.Errorf("from the environment: %q %q %v", c.MetricsAddr, c.MetricsToken, err)
	}
	c, err = parseServeConfig([]string{"--metrics-addr", "[::1]:9100"}, envMap(nil), io.Discard)
	if err != nil || c.MetricsAddr != "[::1]:9100" {
		t.Errorf("flag: %q %v", c.MetricsAddr, err)
	}
}
