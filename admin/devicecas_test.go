package admin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

// testCert makes a certificate PEM: a CA when ca, valid from notBefore to notAfter.
func testCert(t *testing.T, cn string, ca bool, notBefore, notAfter time.Time) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter, BasicConstraintsValid: true, IsCA: ca}
	if ca {
		tpl.KeyUsage = x509.KeyUsageCertSign
	} else {
		tpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestDeviceCAUpload: vendor CAs are uploaded as PEM, listed with subject, fingerprint
// and expiry, removed by id, audited; garbage, a phone's own certificate, an expired
// CA, a private key and a cut-off block are refused with a message saying which.
func TestDeviceCAUpload(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SecureBaseURL = "https://pbx.example.net:8443" })
	tok := e.adminToken()
	now := time.Now()
	root := testCert(t, "Yealink Root CA", true, now.Add(-time.Hour), now.Add(24*time.Hour*365))
	second := testCert(t, "Poly Device CA", true, now.Add(-time.Hour), now.Add(24*time.Hour*365))
	path := "/api/v1/tenants/default/trust/device-cas"

	for _, c := range []struct{ name, body, msg string }{
		{"garbage", "this is not a certificate", "no PEM certificate found"},
		{"empty", "", "no PEM certificate found"},
		{"not DER", "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n", "certificate 1 does not parse"},
		{"leaf", testCert(t, "001565aabbcc", false, now.Add(-time.Hour), now.Add(time.Hour)), "not a CA certificate"},
		{"expired", testCert(t, "Old CA", true, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), "expired on"},
		{"key", root + "-----BEGIN EC PRIVATE KEY-----\naGVsbG8=\n-----END EC PRIVATE KEY-----\n", "private key"},
		{"cut off", root + strings.TrimSuffix(second, "-----END CERTIFICATE-----\n"), "cut off"},
	} {
		a := e.do(tok, "POST", path, c.body, "Content-Type", "application/x-pem-file")
		if a.status != 400 || a.errField() != "pem" || !strings.Contains(a.errMessage(), c.msg) {
			t.Errorf("%s: %d %s, want 400 on pem saying %q", c.name, a.status, a.body, c.msg)
		}
	}
	if got := e.must(200, tok, "GET", path, nil); !strings.Contains(string(got.body), `"items":[]`) {
		t.Fatalf("a refused upload stored something: %s", got.body)
	}

	a := e.must(201, tok, "POST", path, "subject=CN = Yealink Root CA\n"+root+second)
	var added page[deviceCAView]
	if err := json.Unmarshal(a.body, &added); err != nil || len(added.Items) != 2 {
		t.Fatalf("%v %s", err, a.body)
	}
	c := added.Items[0]
	if c.Subject != "CN=Yealink Root CA" || len(c.SHA256) != 64 || c.ID != c.SHA256[:16] || c.NotAfter.Before(now) {
		t.Errorf("listed as %+v", c)
	}
	if a := e.do(tok, "POST", path, root); a.status != 409 {
		t.Errorf("the same CA again: %d %s", a.status, a.body)
	}
	var list page[deviceCAView]
	json.Unmarshal(e.must(200, tok, "GET", path, nil).body, &list)
	if len(list.Items) != 2 {
		t.Fatalf("listed %d", len(list.Items))
	}

	// device_auth: a known mode only; prefer and require need a CA, which then cannot
	// all be removed.
	if a := e.do(tok, "PATCH", "/api/v1/tenants/default", map[string]any{"device_auth": "always"}); a.status != 400 || a.errField() != "device_auth" {
		t.Errorf("device_auth always: %d %s", a.status, a.body)
	}
	if v := e.must(200, tok, "PATCH", "/api/v1/tenants/default", map[string]any{"device_auth": "require"}).json(t); v["device_auth"] != "require" {
		t.Errorf("device_auth answered %v", v["device_auth"])
	}
	e.must(204, tok, "DELETE", path+"/"+list.Items[0].ID, nil)
	if a := e.do(tok, "DELETE", path+"/"+list.Items[1].ID, nil); a.status != 409 {
		t.Errorf("the last CA under require: %d %s", a.status, a.body)
	}
	e.must(404, tok, "DELETE", path+"/"+list.Items[0].ID, nil)
	e.must(200, tok, "PATCH", "/api/v1/tenants/default", map[string]any{"device_auth": "off"})
	e.must(204, tok, "DELETE", path+"/"+list.Items[1].ID, nil)
	if a := e.do(tok, "PATCH", "/api/v1/tenants/default", map[string]any{"device_auth": "prefer"}); a.status != 400 || !strings.Contains(a.errMessage(), "upload one") {
		t.Errorf("prefer without a CA: %d %s", a.status, a.body)
	}

	var acts []string
	for _, ev := range e.auditEvents("default") {
		acts = append(acts, ev.Action)
	}
	if s := strings.Join(acts, " "); strings.Count(s, "device_ca.add") != 2 || strings.Count(s, "device_ca.delete") != 2 {
		t.Errorf("audit: %s", s)
	}
}

// TestDeviceCAPermissions: adding and removing a CA needs tenant.settings; listing
// needs it or phones.manage; another tenant's CAs are out of reach.
// TestDeviceAuthNeedsHTTPS: without an HTTPS listener device_auth stays off (422).
func TestDeviceAuthNeedsHTTPS(t *testing.T) {
	e := newEnv(t)
	tok := e.adminToken()
	now := time.Now()
	e.must(201, tok, "POST", "/api/v1/tenants/default/trust/device-cas", testCert(t, "Vendor CA", true, now.Add(-time.Hour), now.Add(time.Hour)))
	if a := e.do(tok, "PATCH", "/api/v1/tenants/default", map[string]any{"device_auth": "require"}); a.status != 422 || a.errField() != "device_auth" {
		t.Errorf("require without HTTPS: %d %s", a.status, a.body)
	}
	e.must(200, tok, "PATCH", "/api/v1/tenants/default", map[string]any{"device_auth": "off"})
}

func TestDeviceCAPermissions(t *testing.T) {
	e := newEnv(t)
	e.tenant("beta")
	now := time.Now()
	ca := testCert(t, "Vendor CA", true, now.Add(-time.Hour), now.Add(time.Hour*24))
	manager := e.session(e.user("default", store.RoleManager, ""))
	phones := e.session(e.user("default", store.RoleUser, "", func(u *store.NewUser) {
		u.ExtraPermissions = []store.Permission{store.PermPhonesManage}
	}))
	path := "/api/v1/tenants/default/trust/device-cas"
	e.must(403, manager, "GET", path, nil)
	e.must(403, manager, "POST", path, ca)
	e.must(403, phones, "POST", path, ca)
	e.must(200, phones, "GET", path, nil)
	tok := e.adminToken()
	e.must(201, tok, "POST", path, ca)
	e.must(404, tok, "GET", "/api/v1/tenants/beta/trust/device-cas", nil)
}
