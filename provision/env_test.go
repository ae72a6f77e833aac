package provision

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

// env is a real store with tenant acme (one user with two extensions, a Yealink
// phone) and the provisioner serving HTTP and TFTP on 127.0.0.1:0.
type env struct {
	st       *store.Store
	p        *Provisioner
	tenant   store.Tenant
	user     store.User
	httpURL  string // http://127.0.0.1:port
	tftpAddr string
	dataDir  string
}

const (
	yealinkMAC = "805ec0aabbcc"
	yealinkUA  = "Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:cc"
)

func newEnv(t testing.TB) *env { t.Helper(); return newEnvWith(t, nil) }

// newEnvWith is newEnv with the provisioner's Config adjusted by set (a clock, a
// phonebook) before it serves.
func newEnvWith(t testing.TB, set func(*Config)) *env {
	t.Helper()
	st, err := store.Open(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, dataDir: t.TempDir()}
	err = st.Update(func(tx *store.Tx) error {
		if _, err := tx.CreateTenant(store.NewTenant{Slug: "default", Name: "Default"}); err != nil {
			return err
		}
		if e.tenant, err = tx.CreateTenant(store.NewTenant{Slug: "acme", Name: "Acme", SIPDomain: "acme.example",
			Language: "de", Timezone: "Europe/Berlin"}); err != nil {
			return err
		}
		if e.user, _, err = tx.CreateUser("acme", store.NewUser{FirstName: "Anna", LastName: "Smit", Role: store.RoleUser,
			Language: "nl", Extensions: []string{"201", "202"}}); err != nil {
			return err
		}
		_, err = tx.CreatePhone(store.Phone{MAC: yealinkMAC, Tenant: "acme", Model: "T46U", UserID: e.user.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.httpURL = "http://" + ln.Addr().String()
	cfg := Config{Store: st, BaseURL: e.httpURL, PublicHost: "pbx.example", DataDir: e.dataDir,
		LogEvery: 50 * time.Millisecond}
	if set != nil {
		set(&cfg)
	}
	e.p, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	e.tftpAddr = udp.LocalAddr().String()
	done := make(chan struct{}, 2)
	go func() { e.p.ServeHTTP(ctx, ln); done <- struct{}{} }()
	go func() { e.p.ServeTFTP(ctx, udp); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		udp.Close()
		e.p.Close()
	})
	return e
}

// flushed waits until the fetch log has written what was queued.
func (e *env) flushed(t testing.TB, cond func(tx *store.Tx) bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		ok := false
		e.st.View(func(tx *store.Tx) error { ok = cond(tx); return nil })
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("fetch log never showed the expected record")
}

func (e *env) addFirmware(t testing.TB, name string, data []byte) {
	t.Helper()
	dir := filepath.Join(e.dataDir, "firmware", "acme")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	err := e.st.Update(func(tx *store.Tx) error {
		if err := tx.SaveFirmware(store.Firmware{Tenant: "acme", Name: name, Size: int64(len(data)), Make: "yealink", Model: "T46U"}); err != nil {
			return err
		}
		return tx.SaveModelProfile(store.ModelProfile{Tenant: "acme", Make: "yealink", Model: "T46U", Firmware: name})
	})
	if err != nil {
		t.Fatal(err)
	}
}
