package ldapdir

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// dialFrom opens an LDAP connection whose source is src (any 127/8 address is local).
func (f *fixture) dialFrom(t testing.TB, src string) *ldap.Conn {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", f.addr)
	check(t, err)
	c := ldap.NewConn(nc, false)
	c.Start()
	t.Cleanup(func() { c.Close() })
	return c
}

// While the password gate stays full a person's bind answers busy (51), not
// invalidCredentials; busy binds are no strikes, so the right password binds once the
// gate frees even after more busy answers than the throttle's limit.
func TestBindBusyWhenPasswordGateFull(t *testing.T) {
	f := newFixture(t, Options{})
	sec := f.st.Secrets()
	sec.SetPasswordGate(1, 50*time.Millisecond)
	release, held := make(chan struct{}), make(chan struct{})
	go sec.PasswordGate().Do(context.Background(), func() { close(held); <-release })
	<-held
	c := f.dial(t)
	for i := range bindFailMax + 3 {
		if err := c.Bind("anna@acme.test", userPassword); resultCode(err) != ldap.LDAPResultBusy {
			t.Fatalf("bind %d while the gate is full: %v, want busy", i, err)
		}
	}
	close(release)
	if err := c.Bind("anna@acme.test", userPassword); err != nil {
		t.Fatalf("bind once the gate is free: %v", err)
	}
}

// A burst of wrong binds from one source over many connections is struck before the
// passwords are checked: only bindFailMax are checked, the rest are refused unchecked.
func TestBindBurstStruckBeforeCheck(t *testing.T) {
	f := newFixture(t, Options{})
	f.st.Secrets().SetPasswordGate(32, 30*time.Second)
	before := f.st.Secrets().PasswordHashes()
	const burst = 20
	conns := make([]*ldap.Conn, burst)
	for i := range conns {
		conns[i] = f.dial(t)
	}
	var wg sync.WaitGroup
	var wrong atomic.Int32
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := conns[i].Bind(fmt.Sprintf("nobody%d@acme.test", i), "a wrong password"); resultCode(err) == ldap.LDAPResultInvalidCredentials {
				wrong.Add(1)
			}
		}()
	}
	wg.Wait()
	if wrong.Load() != burst {
		t.Errorf("%d of %d wrong binds answered invalidCredentials", wrong.Load(), burst)
	}
	if spent := f.st.Secrets().PasswordHashes() - before; spent != bindFailMax {
		t.Errorf("%d passwords checked for a burst of %d, want %d", spent, burst, bindFailMax)
	}
}

// One source holds at most ConnsPerSource connections; the next is closed at once and
// counted, another source is not affected, and a closed connection frees its slot.
func TestLDAPConnsPerSource(t *testing.T) {
	var refused atomic.Int32
	f := newFixture(t, Options{ConnsPerSource: 2, Refused: func(netip.Addr) { refused.Add(1) }})
	a := f.dialFrom(t, "127.3.0.1")
	f.dialFrom(t, "127.3.0.1")
	check(t, a.Bind(f.pbDN, f.pbPass))
	over := f.dialFrom(t, "127.3.0.1")
	if err := over.Bind(f.pbDN, f.pbPass); err == nil {
		t.Fatal("a third connection from one source was served")
	}
	if refused.Load() != 1 {
		t.Errorf("refused counted %d times, want 1", refused.Load())
	}
	check(t, f.dialFrom(t, "127.3.0.2").Bind(f.pbDN, f.pbPass))
	a.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := f.dialFrom(t, "127.3.0.1")
		if c.Bind(f.pbDN, f.pbPass) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection did not free its slot")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
