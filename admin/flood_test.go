package admin

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fromSource is a client whose connections come from src (any 127/8 address is local).
func fromSource(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// loginFrom posts a login from src: status and Retry-After.
func (e *env) loginFrom(src, email, pw string) (int, string) {
	e.t.Helper()
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw)
	resp, err := fromSource(src).Post(e.base+"/api/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Errorf("login from %s: %v", src, err)
		return 0, ""
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// A burst of wrong logins from one source is struck before the hashes are spent: only
// LoginFailures of them are checked (401), the rest answer 429 without a hash, even
// when they all arrive before the first check ends.
func TestLoginBurstFromOneSource(t *testing.T) {
	e := newEnv(t)
	e.st.Secrets().SetPasswordGate(32, 30*time.Second) // room for the whole burst
	const burst = 20
	before := e.st.Secrets().PasswordHashes()
	codes := make([]int, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// a different unknown address each: no account's share of the gate refuses one
			codes[i], _ = e.loginFrom("127.0.0.1", fmt.Sprintf("nobody%d@example.net", i), "a wrong password")
		}()
	}
	wg.Wait()
	n := map[int]int{}
	for _, c := range codes {
		n[c]++
	}
	if n[401] != 10 || n[429] != burst-10 {
		t.Errorf("answers %v, want 10 × 401 (the limit) and %d × 429", n, burst-10)
	}
	if spent := e.st.Secrets().PasswordHashes() - before; spent != 10 {
		t.Errorf("%d hashes spent, want 10: a blocked attempt must not spend one", spent)
	}
}

// 40 wrong logins for one account at once, each from its own address: the account holds
// one slot of the password gate, so the excess is told 429 (busy, Retry-After) at once
// instead of each spending a 64 MiB hash; no more hashes run at once than the gate
// allows; and the right password from another address logs in.
func TestLoginFloodOneAccountManySources(t *testing.T) {
	e := newEnv(t)
	sec := e.st.Secrets()
	sec.SetPasswordGate(2, time.Second)
	gate := sec.PasswordGate()
	const flood = 40
	before := sec.PasswordHashes()
	type ans struct {
		code       int
		retryAfter string
		took       time.Duration
	}
	answers := make([]ans, flood)
	peak, stop := 0, make(chan struct{})
	var peakMu sync.Mutex
	go func() { // samples the slots in use while the flood runs
		for {
			select {
			case <-stop:
				return
			default:
			}
			peakMu.Lock()
			peak = max(peak, gate.InUse())
			peakMu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range flood {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			c, ra := e.loginFrom(fmt.Sprintf("127.1.0.%d", i+1), "admin@localhost", "not the password")
			answers[i] = ans{c, ra, time.Since(t0)}
		}()
	}
	close(start)
	wg.Wait()
	close(stop)
	n := map[int]int{}
	for i, a := range answers {
		n[a.code]++
		switch {
		case a.code == 429 && a.retryAfter == "":
			t.Errorf("login %d: 429 without Retry-After", i)
		case a.code != 401 && a.code != 429:
			t.Errorf("login %d: %d", i, a.code)
		case a.took > 5*time.Second:
			t.Errorf("login %d answered after %v", i, a.took)
		}
	}
	if n[429] == 0 {
		t.Errorf("answers %v: the flood was not refused", n)
	}
	if spent := sec.PasswordHashes() - before; spent != uint64(n[401]) {
		t.Errorf("%d hashes spent for %d checked logins: a refused login spent one", spent, n[401])
	}
	peakMu.Lock()
	if peak > gate.Size() {
		t.Errorf("%d hashes ran at once, the gate allows %d", peak, gate.Size())
	}
	peakMu.Unlock()
	// The right password from an address of its own, honouring Retry-After.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, _ := e.loginFrom("127.2.0.1", "admin@localhost", adminPassword)
		if c == 200 {
			break
		}
		if c != 429 || time.Now().After(deadline) {
			t.Fatalf("the right password: %d", c)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// While the password gate stays full, login, set-password and PATCH /me answer 429
// busy with Retry-After; busy answers are no strikes, so the source is not locked out
// by them and logs in once the gate frees.
func TestPasswordGateBusy(t *testing.T) {
	e := newEnv(t)
	tok := e.adminToken()
	sec := e.st.Secrets()
	sec.SetPasswordGate(1, 50*time.Millisecond)
	release, held := make(chan struct{}), make(chan struct{})
	go sec.PasswordGate().Do(context.Background(), func() { close(held); <-release })
	<-held
	for i := range 15 { // more than LoginFailures
		a := e.do("", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@localhost", "password": adminPassword})
		if a.status != 429 || a.errCode() != "busy" || a.header.Get("Retry-After") != "1" {
			t.Fatalf("login %d while busy: %d %s %q", i, a.status, a.body, a.header.Get("Retry-After"))
		}
	}
	a := e.do(tok, "PATCH", "/api/v1/me", map[string]string{"old_password": adminPassword, "password": "a new password for me"})
	if a.status != 429 || a.errCode() != "busy" || a.header.Get("Retry-After") == "" {
		t.Errorf("PATCH /me while busy: %d %s", a.status, a.body)
	}
	close(release)
	e.must(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@localhost", "password": adminPassword})
}
