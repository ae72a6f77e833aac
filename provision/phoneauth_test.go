package provision

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/ldapdir"
	"github.com/dialtone/dialtone/store"
)

// setTenant changes a tenant through the store, as the admin API does.
func setTenant(t testing.TB, st *store.Store, slug string, f func(*store.Tenant)) store.Tenant {
	t.Helper()
	var saved store.Tenant
	err := st.Update(func(tx *store.Tx) error {
		prev, err := tx.Tenant(slug)
		if err != nil {
			return err
		}
		next := prev
		f(&next)
		if err := tx.SaveTenant(prev, next); err != nil {
			return err
		}
		saved, err = tx.Tenant(slug)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

func addPhone(t testing.TB, st *store.Store, tenant, mac string) {
	t.Helper()
	if err := st.Update(func(tx *store.Tx) error {
		_, err := tx.CreatePhone(store.Phone{MAC: mac, Tenant: tenant, Model: "T46U"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// digestGet answers the server's challenge like a phone: it takes the challenge for
// alg from a first request, then asks again with user and password (RFC 7616 §3.4).
func digestGet(t *testing.T, url, alg, user, password string) (int, string) {
	t.Helper()
	auth, code, body := digestAnswer(t, url, alg, user, password)
	if auth == "" {
		return code, body
	}
	code, body, _ = get(t, url, yealinkUA, "Authorization", auth)
	return code, body
}

// digestAnswer fetches url and answers its challenge for alg: the Authorization value,
// or "" and the answer when the fetch was not challenged.
func digestAnswer(t *testing.T, url, alg, user, password string) (string, int, string) {
	t.Helper()
	return digestAnswerAs(t, url, yealinkUA, alg, user, password)
}

// digestAnswerAs is digestAnswer with the User-Agent ua.
func digestAnswerAs(t *testing.T, url, ua, alg, user, password string) (string, int, string) {
	t.Helper()
	code, body, hdr := get(t, url, ua)
	if code != 401 {
		return "", code, body
	}
	var chal string
	for _, c := range hdr.Values("WWW-Authenticate") {
		if strings.Contains(c, "algorithm="+alg+",") {
			chal = c
		}
	}
	if chal == "" {
		t.Fatalf("no %s challenge in %q", alg, hdr.Values("WWW-Authenticate"))
	}
	param := func(k string) string {
		_, v, _ := strings.Cut(chal, k+`="`)
		v, _, _ = strings.Cut(v, `"`)
		return v
	}
	realm, nonce := param("realm"), param("nonce")
	newHash := map[string]func() hash.Hash{"MD5": md5.New, "SHA-256": sha256.New}[alg]
	h := func(s string) string { x := newHash(); x.Write([]byte(s)); return hex.EncodeToString(x.Sum(nil)) }
	uri := url[strings.Index(url, "/p/"):]
	cb := make([]byte, 8)
	rand.Read(cb)
	cnonce := hex.EncodeToString(cb)
	resp := h(h(user+":"+realm+":"+password) + ":" + nonce + ":00000001:" + cnonce + ":auth:" + h("GET:"+uri))
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=%s, qop=auth, nc=00000001, cnonce="%s", response="%s"`,
		user, realm, nonce, uri, alg, cnonce, resp), code, body
}

// getFrom is get from another loopback address (127.0.0.0/8 is all loopback on Linux).
func getFrom(t *testing.T, src, url string, hdr ...string) int {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("User-Agent", yealinkUA)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A nonce answers only from the address it was sent to (internal/digest binds it): the
// right password over a nonce fetched by 127.0.0.1 is challenged again from 127.0.0.2,
// and the same answer from 127.0.0.1 is served.
func TestDigestNonceBoundToAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setTenant(t, e.st, "acme", func(t *store.Tenant) { t.ProvisioningAuth = store.ProvisioningDigest })
	url := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/" + yealinkMAC + ".cfg"
	_, body, _ := get(t, url, yealinkUA)
	kv, _ := parseYealink([]byte(body))
	user, pw := kv["static.auto_provision.server.username"], kv["static.auto_provision.server.password"]
	auth, code, _ := digestAnswer(t, url, "SHA-256", user, pw)
	if auth == "" {
		t.Fatalf("fetch without credentials after the first: %d, want 401", code)
	}
	if code := getFrom(t, "127.0.0.2", url, "Authorization", auth); code != 401 {
		t.Fatalf("answer from another address: %d, want 401", code)
	}
	if code := getFrom(t, "127.0.0.1", url, "Authorization", auth); code != 200 {
		t.Fatalf("answer from the address the nonce was sent to: %d, want 200", code)
	}
}

func TestDigestNeededAfterFirstFetch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setTenant(t, e.st, "acme", func(t *store.Tenant) { t.ProvisioningAuth = store.ProvisioningDigest })
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	url := base + yealinkMAC + ".cfg"

	// First fetch: the phone has never had credentials; it learns them.
	code, body, _ := get(t, url, yealinkUA)
	if code != 200 {
		t.Fatalf("first fetch: %d %s", code, body)
	}
	kv, _ := parseYealink([]byte(body))
	user, pw := kv["static.auto_provision.server.username"], kv["static.auto_provision.server.password"]
	if user != yealinkMAC || len(pw) < 16 {
		t.Fatalf("config carries provisioning credentials %q/%q", user, pw)
	}
	// Second fetch without credentials: a challenge for SHA-256 and MD5.
	code, _, hdr := get(t, url, yealinkUA)
	ch := hdr.Values("WWW-Authenticate")
	if code != 401 || len(ch) != 2 || !strings.Contains(ch[0], "algorithm=SHA-256") || !strings.Contains(ch[1], "algorithm=MD5") {
		t.Fatalf("second fetch: %d %q", code, ch)
	}
	for _, alg := range []string{"SHA-256", "MD5"} {
		if code, body := digestGet(t, url, alg, user, pw); code != 200 || !strings.Contains(body, "account.1.password") {
			t.Fatalf("%s with the phone's credentials: %d", alg, code)
		}
	}
	if code, _ := digestGet(t, url, "SHA-256", user, pw+"x"); code != 401 {
		t.Fatalf("wrong password: %d, want 401", code)
	}
	// TFTP cannot authenticate: refused now, saying why (not the https-only refusal).
	if _, _, err := tftpGet(t, e.tftpAddr, e.tenant.ProvisioningToken+"/"+yealinkMAC+".cfg", 0); err == nil ||
		!strings.Contains(err.Error(), "code: 2") || !strings.Contains(err.Error(), "phone's credentials") {
		t.Fatalf("TFTP after the first fetch: %v, want access violation", err)
	}
	// Common files stay open.
	if code, _, _ := get(t, base+"y000000000028.cfg", yealinkUA); code != 200 {
		t.Fatalf("common file: %d", code)
	}
}

// TestDigestCredentialsInEveryMake: under provisioning_auth digest, the first fetch of a
// phone's own file carries its credentials in its make's keys (Fanvil
// <ap><DefaultUsername>/<DefaultPassword>, Poly device.prov.user/password, Snom the
// userinfo of setting_server, Cisco [--uid --pwd] in Profile_Rule, Grandstream
// P1359/P1360); the next fetch is challenged, and the credentials read from the config
// answer the challenge.
func TestDigestCredentialsInEveryMake(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setTenant(t, e.st, "acme", func(t *store.Tenant) { t.ProvisioningAuth = store.ProvisioningDigest })
	attr := func(path string) func(xmlDoc) (string, string) {
		return func(d xmlDoc) (string, string) { return d[path+".user"], d[path+".password"] }
	}
	phones := []struct {
		mk, model, mac, ua, file string
		creds                    func(xmlDoc) (user, password string)
	}{
		{"fanvil", "X4U", "0c383e07e16c", "Fanvil X4U 2.12.10 0c383e07e16c", "0c383e07e16c.cfg", func(d xmlDoc) (string, string) {
			return d["sysConf/ap/DefaultUsername"], d["sysConf/ap/DefaultPassword"]
		}},
		{"poly", "VVX450", "0004f2010203", "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018", "0004f2010203-user.cfg", attr("polycomConfig/device@device.prov")},
		{"snom", "D785", "000413a1b2c3", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13 1.1.3-s)", "000413A1B2C3.xml", func(d xmlDoc) (string, string) {
			u, err := neturl.Parse(d["settings/phone-settings/setting_server"])
			if err != nil || u.User == nil {
				return "", ""
			}
			pw, _ := u.User.Password()
			return u.User.Username(), pw
		}},
		{"cisco", "8841", "00562b043615", "Cisco-CP8841-3PCC/11.3.7 (00562b043615)", "00562b043615.xml", func(d xmlDoc) (string, string) {
			var user, pw string
			fmt.Sscanf(d["flat-profile/Profile_Rule"], "[--uid %s --pwd %s", &user, &pw)
			pw, _, _ = strings.Cut(pw, "]")
			return user, pw
		}},
		{"grandstream", "GRP2614", "c074ad010203", "Grandstream Model HW GRP2614 SW 1.0.5.33 DevId c074ad010203", "cfgc074ad010203.xml", func(d xmlDoc) (string, string) {
			return d["gs_provision/config/P1359"], d["gs_provision/config/P1360"]
		}},
	}
	if err := e.st.Update(func(tx *store.Tx) error {
		for _, p := range phones {
			if _, err := tx.CreatePhone(store.Phone{MAC: p.mac, Tenant: "acme", Make: p.mk, Model: p.model, UserID: e.user.ID}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	for _, p := range phones {
		url := base + p.file
		code, body, _ := get(t, url, p.ua)
		doc, _, err := parseXML([]byte(body))
		if code != 200 || err != nil {
			t.Errorf("%s first fetch: %d %v\n%s", p.mk, code, err, body)
			continue
		}
		user, pw := p.creds(doc)
		if user != p.mac || len(pw) < 16 {
			t.Errorf("%s config carries provisioning credentials %q/%q", p.mk, user, pw)
			continue
		}
		auth, code, _ := digestAnswerAs(t, url, p.ua, "SHA-256", user, pw)
		if auth == "" {
			t.Errorf("%s second fetch without credentials: %d, want 401", p.mk, code)
			continue
		}
		if code, _, _ := get(t, url, p.ua, "Authorization", auth); code != 200 {
			t.Errorf("%s with the credentials from its config: %d, want 200", p.mk, code)
		}
	}
}

func TestDigestOtherPhonesCredentialsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setTenant(t, e.st, "acme", func(t *store.Tenant) { t.ProvisioningAuth = store.ProvisioningDigest })
	const other = "805ec0000002"
	addPhone(t, e.st, "acme", other)
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	creds := map[string]string{}
	for _, mac := range []string{yealinkMAC, other} {
		_, body, _ := get(t, base+mac+".cfg", yealinkUA)
		kv, _ := parseYealink([]byte(body))
		creds[mac] = kv["static.auto_provision.server.password"]
	}
	if creds[yealinkMAC] == "" || creds[yealinkMAC] == creds[other] {
		t.Fatalf("passwords not per phone: %q", creds)
	}
	url := base + yealinkMAC + ".cfg"
	if code, _ := digestGet(t, url, "SHA-256", other, creds[other]); code != 401 {
		t.Fatalf("another phone's credentials: %d, want 401", code)
	}
	if code, _ := digestGet(t, url, "SHA-256", yealinkMAC, creds[other]); code != 401 {
		t.Fatalf("this MAC with another phone's password: %d, want 401", code)
	}
	if code, _ := digestGet(t, url, "SHA-256", yealinkMAC, creds[yealinkMAC]); code != 200 {
		t.Fatalf("own credentials: %d", code)
	}
}

func TestDigestRotationKeepsPreviousUntilProven(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setTenant(t, e.st, "acme", func(t *store.Tenant) { t.ProvisioningAuth = store.ProvisioningDigest })
	url := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/" + yealinkMAC + ".cfg"
	_, body, _ := get(t, url, yealinkUA)
	kv, _ := parseYealink([]byte(body))
	old := kv["static.auto_provision.server.password"]
	if code, _ := digestGet(t, url, "MD5", yealinkMAC, old); code != 200 {
		t.Fatalf("proving: %d", code)
	}
	var fresh string
	if err := e.st.Update(func(tx *store.Tx) error {
		var err error
		_, fresh, err = tx.RotateProvisioningPassword("acme", yealinkMAC)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The phone still holds the old password: it fetches with it and learns the new.
	code, body := digestGet(t, url, "MD5", yealinkMAC, old)
	if kv, _ := parseYealink([]byte(body)); code != 200 || kv["static.auto_provision.server.password"] != fresh {
		t.Fatalf("old credentials after rotation: %d", code)
	}
	if code, _ := digestGet(t, url, "MD5", yealinkMAC, fresh); code != 200 {
		t.Fatalf("new credentials: %d", code)
	}
	if code, _ := digestGet(t, url, "MD5", yealinkMAC, old); code != 401 {
		t.Fatalf("old credentials once the new were proven: %d, want 401", code)
	}
	// No second open fetch after a rotation of a phone that proved its credentials.
	if code, _, _ := get(t, url, yealinkUA); code != 401 {
		t.Fatalf("open fetch after rotation: %d, want 401", code)
	}
}

func TestTokenRotationGrace(t *testing.T) {
	t.Parallel()
	clk := &testkit.Clock{}
	e := newEnvWith(t, func(c *Config) { c.Now = clk.Now })
	old := e.tenant.ProvisioningToken
	fetch := func(tok string) int {
		code, _, _ := get(t, e.httpURL+"/p/"+tok+"/"+yealinkMAC+".cfg", yealinkUA)
		return code
	}
	if fetch(old) != 200 { // also puts the old token into the provisioner's memory
		t.Fatal("before rotation")
	}
	var rotated store.Tenant
	if err := e.st.Update(func(tx *store.Tx) error {
		var err error
		rotated, err = tx.RotateProvisioningToken("acme", 24*time.Hour)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if rotated.ProvisioningToken == old || rotated.PreviousToken != old {
		t.Fatalf("rotation: %+v", rotated)
	}
	clk.Advance(23 * time.Hour)
	if c1, c2 := fetch(old), fetch(rotated.ProvisioningToken); c1 != 200 || c2 != 200 {
		t.Fatalf("within the grace: old %d, new %d", c1, c2)
	}
	clk.Advance(2 * time.Hour)
	if c1, c2 := fetch(old), fetch(rotated.ProvisioningToken); c1 != 404 || c2 != 200 {
		t.Fatalf("after the grace: old %d (want 404), new %d", c1, c2)
	}
	// grace 0: the token before is refused at once, and so is the one still in grace.
	var again store.Tenant
	if err := e.st.Update(func(tx *store.Tx) error {
		var err error
		again, err = tx.RotateProvisioningToken("acme", 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if c1, c2 := fetch(rotated.ProvisioningToken), fetch(again.ProvisioningToken); c1 != 404 || c2 != 200 {
		t.Fatalf("grace 0: previous %d (want 404), new %d", c1, c2)
	}
	for _, tok := range []string{old, rotated.ProvisioningToken} {
		if _, err := e.st.TenantByToken(tok); err == nil {
			t.Fatalf("store still finds a retired token")
		}
	}
}

func TestTFTPBareNamesSetting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, _, err := tftpGet(t, e.tftpAddr, "y000000000000.boot", 0); err == nil || !strings.Contains(err.Error(), "code: 1") {
		t.Fatalf("bare name by default: %v, want file not found", err)
	}
	setTenant(t, e.st, "default", func(t *store.Tenant) { t.TFTPBareNames = true })
	if b, _, err := tftpGet(t, e.tftpAddr, "y000000000000.boot", 0); err != nil || !strings.Contains(string(b), "tenant default") {
		t.Fatalf("bare name with tftp_bare_names: %v", err)
	}
	err := e.st.Update(func(tx *store.Tx) error {
		prev, _ := tx.Tenant("acme")
		next := prev
		next.TFTPBareNames = true
		return tx.SaveTenant(prev, next)
	})
	if err == nil {
		t.Fatal("tftp_bare_names accepted for a tenant other than default")
	}
}

func TestAdminPasswordPerPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const other = "805ec0000003"
	addPhone(t, e.st, "acme", other)
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	seen := map[string]bool{}
	for _, mac := range []string{yealinkMAC, other} {
		_, body, _ := get(t, base+mac+".cfg", yealinkUA)
		kv, _ := parseYealink([]byte(body))
		pw := kv["static.security.user_password"]
		if !strings.HasPrefix(pw, "admin:") || len(pw) < 20 || seen[pw] {
			t.Fatalf("%s: admin password %q not its own", mac, pw)
		}
		seen[pw] = true
		ph, _ := e.st.Phone(mac)
		tn, _ := e.st.Tenant("acme")
		if own, _ := e.st.PhoneAdminPassword(tn, ph); "admin:"+own != pw {
			t.Fatalf("%s: config and record differ", mac)
		}
	}
}

func TestPhonebookOnlyForKnownPhonesOrAccount(t *testing.T) {
	t.Parallel()
	dir := ldapdir.NewDirectory()
	e := newEnvWith(t, func(c *Config) { c.Phonebooks = dir })
	f, err := ldapdir.Follow(e.st, dir, e.st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	if err := e.st.Update(func(tx *store.Tx) error {
		if _, err := tx.CreateTenant(store.NewTenant{Slug: "other"}); err != nil {
			return err
		}
		if _, err := tx.CreatePhone(store.Phone{MAC: "805ec0000009", Tenant: "other"}); err != nil {
			return err
		}
		_, _, err := tx.CreateUser("acme", store.NewUser{FirstName: "Bea", LastName: "Mol", Role: store.RoleUser,
			Extensions: []string{"203"}, Mobile: "+31612345678"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/directory/"
	// The directory follows the store: wait until Bea is in it.
	var code int
	var body string
	testkit.Eventually(t, 3*time.Second, "Bea in the known phone's phonebook", func() bool {
		code, body, _ = get(t, base+yealinkMAC+"/yealink.xml", yealinkUA)
		return code == 200 && strings.Contains(body, "Bea Mol")
	})
	if strings.Contains(body, "+31612345678") {
		t.Fatal("mobile number shown without phonebook_mobile")
	}
	for name, url := range map[string]string{
		"unknown MAC":            base + "805ec0999999/yealink.xml",
		"another tenant's phone": base + "805ec0000009/yealink.xml",
		"no MAC, no credentials": base + "yealink.xml",
	} {
		if code, body, _ := get(t, url, yealinkUA); code == 200 || strings.Contains(body, "Bea") {
			t.Errorf("%s: %d", name, code)
		}
	}
	tn, _ := e.st.Tenant("acme")
	pb, _ := e.st.PhonebookPassword(tn)
	req, _ := http.NewRequest("GET", base+"yealink.xml", nil)
	req.SetBasicAuth("phonebook", pb+"x")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong phonebook password: %v %v", err, resp)
	}
	req.SetBasicAuth("phonebook", pb)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("phonebook account: %v %v", err, resp)
	}
	setTenant(t, e.st, "acme", func(t *store.Tenant) { t.PhonebookMobile = true })
	if _, body, _ := get(t, base+yealinkMAC+"/yealink.xml", yealinkUA); !strings.Contains(body, "+31612345678") {
		t.Fatalf("phonebook_mobile on: no mobile in\n%s", body)
	}
	// the phonebook account binds over TLS only: its password is not taken over plain HTTP
	setTenant(t, e.st, "acme", func(t *store.Tenant) { t.PhonebookLDAPS, t.LDAPPhonebookTLSOnly = true, true })
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Fatalf("phonebook account over plain HTTP with ldap_phonebook_cleartext off: %v %v", err, resp)
	}
}
