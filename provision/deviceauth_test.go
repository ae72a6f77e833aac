package provision

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/tlscert"
	"github.com/dialtone/dialtone/store"
)

// vendorCA is a throwaway "vendor CA" standing in for Yealink's or Poly's: it signs
// device certificates that name a MAC, as factory certificates do.
type vendorCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64 = 100

func nextSerial() *big.Int { serial++; return big.NewInt(serial) }

func newVendorCA(t *testing.T, name string, parent *vendorCA) *vendorCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: name, Organization: []string{"Vendor"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	signer, signKey := tpl, key
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &vendorCA{cert: c, key: key}
}

func (ca *vendorCA) pem() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

// device is a device certificate signed by ca (self-signed when ca is nil) with the
// given subject CN and DNS names; chain are further certificates the phone sends.
func device(t *testing.T, ca *vendorCA, cn string, dns []string, notAfter time.Time, chain ...*vendorCA) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: nextSerial(), Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	parent, signKey := tpl, key
	if ca != nil {
		parent, signKey = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, parent, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.cert.Raw)
	}
	return c
}

func inAYear() time.Time { return time.Now().Add(365 * 24 * time.Hour) }

// tlsEnv is env plus the provisioning handler served over TLS the way the HTTPS
// listener serves it: the appliance's certificate, a client certificate asked for
// and never required.
type tlsEnv struct {
	*env
	httpsURL string
	roots    *x509.CertPool
}

func newTLSEnv(t *testing.T) *tlsEnv {
	t.Helper()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	m, err := tlscert.New(ctx, tlscert.Options{Dir: t.TempDir(), PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		e.p.ServeHTTP(ctx, tls.NewListener(tcp, m.ServerConfig(tlscert.RequestClientCert())))
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(m.CAPEM())
	return &tlsEnv{env: e, httpsURL: "https://" + tcp.Addr().String(), roots: roots}
}

// fetch GETs path over HTTPS, presenting cert when it is not nil; the client checks
// the server against the appliance's CA.
func (e *tlsEnv) fetch(t *testing.T, path string, cert *tls.Certificate) (int, string) {
	t.Helper()
	cfg := &tls.Config{RootCAs: e.roots}
	if cert != nil {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get(e.httpsURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *env) trustCA(t *testing.T, slug string, pemData []byte, mode string) {
	t.Helper()
	err := e.st.Update(func(tx *store.Tx) error {
		if _, err := tx.AddDeviceCAs(slug, pemData); err != nil {
			return err
		}
		prev, err := tx.Tenant(slug)
		if err != nil {
			return err
		}
		next := prev
		next.DeviceAuth = mode
		return tx.SaveTenant(prev, next)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// logSays waits until the tenant's provisioning log has an entry for file with the
// status, device outcome and a reason containing why.
func (e *env) logSays(t *testing.T, slug, file string, status int, device, why string) {
	t.Helper()
	e.flushed(t, func(tx *store.Tx) bool {
		log, _ := tx.ProvisionLog(slug, 0, 200)
		for _, l := range log {
			if l.File == file && l.Status == status && l.Device == device && strings.Contains(l.Reason, why) {
				return true
			}
		}
		return false
	})
}

const otherMAC = "805ec0ddeeff"

func (e *env) addPhone(t *testing.T, slug, mac string) {
	t.Helper()
	if err := e.st.Update(func(tx *store.Tx) error {
		_, err := tx.CreatePhone(store.Phone{MAC: mac, Tenant: slug, Model: "T46U", UserID: e.user.ID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestDeviceAuthRequire: under require each phone fetches its own file with its
// device certificate and not the other's; a self-signed certificate, none at all,
// plain HTTP and TFTP are refused with 403 (TFTP: access violation) and a log entry
// saying why; common files stay open.
func TestDeviceAuthRequire(t *testing.T) {
	e := newTLSEnv(t)
	e.addPhone(t, "acme", otherMAC)
	ca := newVendorCA(t, "Vendor Device CA", nil)
	e.trustCA(t, "acme", ca.pem(), store.DeviceAuthRequire)
	a := device(t, ca, yealinkMAC, nil, inAYear())                                         // Yealink style: CN=mac
	b := device(t, ca, "SEP805EC0DDEEFF", []string{"80-5e-c0-dd-ee-ff.phones"}, inAYear()) // Cisco style
	base := "/p/" + e.tenant.ProvisioningToken + "/"
	ext, _ := e.st.Extension("acme", "201")
	pw, _ := e.st.SIPPassword(ext)

	code, body := e.fetch(t, base+yealinkMAC+".cfg", &a)
	if code != 200 || !strings.Contains(body, pw) {
		t.Fatalf("phone A, own file: %d\n%s", code, body)
	}
	e.logSays(t, "acme", yealinkMAC+".cfg", 200, "verified", "CN="+yealinkMAC)
	if code, _ := e.fetch(t, base+otherMAC+".cfg", &b); code != 200 {
		t.Fatalf("phone B, own file: %d", code)
	}
	// A's file is cached now: the cached answer is checked alike.
	for _, c := range []struct {
		name string
		cert *tls.Certificate
		file string
		why  string
	}{
		{"B asks for A's file", &b, yealinkMAC + ".cfg", "names MAC " + otherMAC + ", not " + yealinkMAC},
		{"A asks for B's file", &a, otherMAC + ".cfg", "names MAC " + yealinkMAC + ", not " + otherMAC},
		{"self-signed", ptr(device(t, nil, yealinkMAC, nil, inAYear())), yealinkMAC + ".cfg", "not issued by a vendor CA"},
		{"expired", ptr(device(t, ca, yealinkMAC, nil, time.Now().Add(-time.Hour))), yealinkMAC + ".cfg", "expired"},
		{"no certificate", nil, yealinkMAC + ".cfg", "the client sent none"},
	} {
		code, body := e.fetch(t, base+c.file, c.cert)
		if code != 403 || strings.Contains(body, pw) || !strings.Contains(body, "device certificate") {
			t.Errorf("%s: %d %q, want 403 naming the device certificate", c.name, code, body)
			continue
		}
		e.logSays(t, "acme", c.file, 403, "refused", c.why)
	}
	if code, body, _ := get(t, e.httpURL+base+yealinkMAC+".cfg", yealinkUA); code != 403 || strings.Contains(body, pw) {
		t.Errorf("plain HTTP: %d, want 403", code)
	}
	e.logSays(t, "acme", yealinkMAC+".cfg", 403, "refused", "plain HTTP")
	_, _, err := tftpGet(t, e.tftpAddr, e.tenant.ProvisioningToken+"/"+otherMAC+".cfg", 0)
	if err == nil || !strings.Contains(err.Error(), "code: 2") {
		t.Errorf("TFTP: %v, want access violation (2)", err)
	}
	e.logSays(t, "acme", otherMAC+".cfg", 403, "refused", "TFTP")
	// Common files and firmware are never gated.
	e.addFirmware(t, "T46U-108.bin", []byte("firmware bytes"))
	for _, f := range []string{"y000000000108.cfg", "fw/T46U-108.bin"} {
		if code, _ := e.fetch(t, base+f, nil); code != 200 {
			t.Errorf("%s without a certificate: %d", f, code)
		}
		if code, _, _ := get(t, e.httpURL+base+f, yealinkUA); code != 200 {
			t.Errorf("%s over plain HTTP: %d", f, code)
		}
	}
	// Back to off: plain HTTP is served again (the tenant change drops the cache).
	setDeviceAuth(t, e.env, "acme", store.DeviceAuthOff)
	if code, _, _ := get(t, e.httpURL+base+yealinkMAC+".cfg", yealinkUA); code != 200 {
		t.Errorf("device_auth off, plain HTTP: %d", code)
	}
}

func ptr[T any](v T) *T { return &v }

func setDeviceAuth(t *testing.T, e *env, slug, mode string) {
	t.Helper()
	if err := e.st.Update(func(tx *store.Tx) error {
		prev, err := tx.Tenant(slug)
		if err != nil {
			return err
		}
		next := prev
		next.DeviceAuth = mode
		return tx.SaveTenant(prev, next)
	}); err != nil {
		t.Fatal(err)
	}
}

// TestDeviceAuthPrefer: a phone without a certificate (or over TFTP) is served and
// logged as missing; a valid one is logged verified; a wrong one is refused.
func TestDeviceAuthPrefer(t *testing.T) {
	e := newTLSEnv(t)
	e.addPhone(t, "acme", otherMAC)
	ca := newVendorCA(t, "Vendor Device CA", nil)
	e.trustCA(t, "acme", ca.pem(), store.DeviceAuthPrefer)
	a := device(t, ca, "", []string{"80:5e:c0:aa:bb:cc"}, inAYear()) // MAC in the SAN only
	base := "/p/" + e.tenant.ProvisioningToken + "/"

	if code, _ := e.fetch(t, base+yealinkMAC+".cfg", nil); code != 200 {
		t.Fatalf("no certificate under prefer: %d", code)
	}
	e.logSays(t, "acme", yealinkMAC+".cfg", 200, "missing", "the client sent none")
	if code, _ := e.fetch(t, base+yealinkMAC+".cfg", &a); code != 200 {
		t.Fatalf("own certificate: %d", code)
	}
	e.logSays(t, "acme", yealinkMAC+".cfg", 200, "verified", "issued by CN=Vendor Device CA")
	if code, _ := e.fetch(t, base+otherMAC+".cfg", &a); code != 403 {
		t.Errorf("another phone's certificate under prefer: %d, want 403", code)
	}
	e.logSays(t, "acme", otherMAC+".cfg", 403, "refused", "not "+otherMAC)
	if code, _ := e.fetch(t, base+yealinkMAC+".cfg", ptr(device(t, nil, yealinkMAC, nil, inAYear()))); code != 403 {
		t.Errorf("self-signed under prefer: %d, want 403", code)
	}
	if _, _, err := tftpGet(t, e.tftpAddr, e.tenant.ProvisioningToken+"/"+otherMAC+".cfg", 0); err != nil {
		t.Errorf("TFTP under prefer: %v", err)
	}
	e.logSays(t, "acme", otherMAC+".cfg", 200, "missing", "TFTP")
}

// TestDeviceAuthChainAndTenants: a device certificate sent with the vendor's issuing
// CA chains to the uploaded root; tenant acme's vendor CA does not admit a device for
// tenant beta, which trusts another.
func TestDeviceAuthChainAndTenants(t *testing.T) {
	e := newTLSEnv(t)
	var beta store.Tenant
	err := e.st.Update(func(tx *store.Tx) (err error) {
		beta, err = tx.CreateTenant(store.NewTenant{Slug: "beta", SIPDomain: "beta.example"})
		if err != nil {
			return err
		}
		_, err = tx.CreatePhone(store.Phone{MAC: otherMAC, Tenant: "beta", Model: "T46U"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	root := newVendorCA(t, "Vendor Root", nil)
	issuing := newVendorCA(t, "Vendor Issuing CA", root)
	e.trustCA(t, "acme", root.pem(), store.DeviceAuthRequire)
	betaCA := newVendorCA(t, "Beta's Vendor", nil)
	e.trustCA(t, "beta", betaCA.pem(), store.DeviceAuthRequire)

	a := device(t, issuing, "Yealink "+strings.ToUpper(yealinkMAC), nil, inAYear(), issuing)
	if code, _ := e.fetch(t, "/p/"+e.tenant.ProvisioningToken+"/"+yealinkMAC+".cfg", &a); code != 200 {
		t.Fatalf("leaf + issuing CA against the root: %d", code)
	}
	acmeSigned := device(t, issuing, otherMAC, nil, inAYear(), issuing)
	if code, _ := e.fetch(t, "/p/"+beta.ProvisioningToken+"/"+otherMAC+".cfg", &acmeSigned); code != 403 {
		t.Errorf("acme's vendor CA for beta's phone: %d, want 403", code)
	}
	e.logSays(t, "beta", otherMAC+".cfg", 403, "refused", "not issued by a vendor CA this tenant trusts")
	betaSigned := device(t, betaCA, otherMAC, nil, inAYear())
	if code, _ := e.fetch(t, "/p/"+beta.ProvisioningToken+"/"+otherMAC+".cfg", &betaSigned); code != 200 {
		t.Errorf("beta's vendor CA for beta's phone: %d", code)
	}
	// A CA removed (another stays) is no longer trusted from the next fetch on.
	second := newVendorCA(t, "Second", nil)
	var rootID string
	err = e.st.Update(func(tx *store.Tx) error {
		if _, err := tx.AddDeviceCAs("acme", second.pem()); err != nil {
			return err
		}
		cas, _ := tx.DeviceCAs("acme")
		for _, c := range cas {
			if strings.Contains(c.Subject, "Vendor Root") {
				rootID = c.ID
			}
		}
		_, err := tx.DeleteDeviceCA("acme", rootID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := e.fetch(t, "/p/"+e.tenant.ProvisioningToken+"/"+yealinkMAC+".cfg", &a); code != 403 {
		t.Errorf("after the root was removed: %d, want 403", code)
	}
}

func TestCertMACs(t *testing.T) {
	for in, want := range map[string]string{
		"001565aabbcc":             "001565aabbcc",
		"SEP001565AABBCC":          "001565aabbcc",
		"CP-8841-SEP001565AABBCC":  "001565aabbcc",
		"00:15:65:AA:BB:CC":        "001565aabbcc",
		"0004f2-aa-bb-cc":          "",
		"00-04-f2-aa-bb-cc":        "0004f2aabbcc",
		"0004.f2aa.bbcc":           "0004f2aabbcc",
		"Polycom 0004F2AABBCC Inc": "0004f2aabbcc",
		"0123456789abcdef":         "", // a serial number, not a MAC
		"000000000000":             "",
		"snom":                     "",
	} {
		got := strings.Join(macsIn(in), ",")
		if got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// Device certificates (device_auth) and per-phone Digest credentials together: the
// certificate is checked first, so a fetch refused for it does not use up the phone's
// one fetch without credentials; with its certificate the phone gets that fetch, and
// after it needs both.
func TestDeviceAuthBeforeDigest(t *testing.T) {
	e := newTLSEnv(t)
	ca := newVendorCA(t, "Vendor Device CA", nil)
	e.trustCA(t, "acme", ca.pem(), store.DeviceAuthRequire)
	setTenant(t, e.st, "acme", func(t *store.Tenant) { t.ProvisioningAuth = store.ProvisioningDigest })
	a := device(t, ca, yealinkMAC, nil, inAYear())
	file := "/p/" + e.tenant.ProvisioningToken + "/" + yealinkMAC + ".cfg"

	if code, _ := e.fetch(t, file, nil); code != 403 {
		t.Fatalf("no device certificate: %d, want 403", code)
	}
	if ph, err := e.st.Phone(yealinkMAC); err != nil || !ph.ProvisioningIssued.IsZero() {
		t.Fatalf("a refused fetch handed out the credentials: %v %v", ph.ProvisioningIssued, err)
	}
	code, body := e.fetch(t, file, &a)
	kv, _ := parseYealink([]byte(body))
	if code != 200 || kv["static.auto_provision.server.username"] != yealinkMAC || kv["static.auto_provision.server.password"] == "" {
		t.Fatalf("first fetch with the device certificate: %d\n%s", code, body)
	}
	if code, _ := e.fetch(t, file, &a); code != 401 {
		t.Fatalf("second fetch with the certificate and no Digest credentials: %d, want 401", code)
	}
}
