package main

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// provisionedLine is line 1 of the config a phone of the user fetches: the AOR it
// registers (user_name, the extension), its auth name and password.
func (e *e2e) provisionedLine(mac, userID string) (aor, auth, pass, domain string) {
	e.t.Helper()
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": mac, "model": "T46U", "user_id": userID}, 201, nil)
	var tenant struct {
		ProvisioningToken string `json:"provisioning_token"`
		SIPDomain         string `json:"sip_domain"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	keys := yealinkKeys(e.fetch("/p/"+tenant.ProvisioningToken+"/"+mac+".cfg", yealinkUA))
	return keys["account.1.user_name"], keys["account.1.auth_name"], keys["account.1.password"], tenant.SIPDomain
}

// sipDo sends req over a sipgo client, answering one challenge with the credentials.
func sipDo(t *testing.T, req *sip.Request, user, pass string) *sip.Response {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", req.Method, err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		if res, err = cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: pass}); err != nil {
			t.Fatalf("%s with credentials: %v", req.Method, err)
		}
	}
	return res
}

// TestCallRingsTheLineAsProvisioned: a phone registers the line its config gives — the
// extension as its AOR (user_name 201), the SIP account as auth name — and a call to
// 201 rings it. (Before, the proxy looked for bindings under the SIP account's name
// only, and every provisioned phone was 480 Temporarily Unavailable.)
func TestCallRingsTheLineAsProvisioned(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	var anna, bob struct{ ID string }
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Anna", "last_name": "Ring",
		"email": "anna@ring.test", "extensions": []string{"201"}}, 201, &anna)
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Bob", "last_name": "Ring",
		"email": "bob@ring.test", "extensions": []string{"202"}}, 201, &bob)
	aor, auth, pass, domain := e.provisionedLine("805ec0000201", anna.ID)
	if aor != "201" || auth == "" || auth == aor {
		t.Fatalf("line 1 of Anna's config: user_name %q auth_name %q", aor, auth)
	}
	bobAOR, bobAuth, bobPass, _ := e.provisionedLine("805ec0000202", bob.ID)
	sipAddr := e.m.Addrs["sip"]

	// Anna's phone: a UDP socket registered as the config says.
	phone, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	port := phone.LocalAddr().(*net.UDPAddr).Port
	reg := sip.NewRequest(sip.REGISTER, sip.Uri{Host: domain})
	reg.SetDestination(sipAddr)
	reg.AppendHeader(&sip.ToHeader{Address: sip.Uri{User: aor, Host: domain}})
	reg.AppendHeader(&sip.FromHeader{Address: sip.Uri{User: aor, Host: domain}, Params: sip.HeaderParams{{K: "tag", V: "r1"}}})
	reg.AppendHeader(&sip.ContactHeader{Address: sip.Uri{User: aor, Host: "127.0.0.1", Port: port}})
	reg.AppendHeader(sip.NewHeader("Expires", "600"))
	if res := sipDo(t, reg, auth, pass); res.StatusCode != 200 {
		t.Fatalf("REGISTER %s as %s: %d %s", aor, auth, res.StatusCode, res.Reason)
	}

	// Bob calls 201; Anna's phone gets the INVITE and answers busy.
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 8192)
		phone.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			n, from, err := phone.ReadFrom(buf)
			if err != nil {
				got <- ""
				return
			}
			msg, err := sip.ParseMessage(buf[:n])
			req, ok := msg.(*sip.Request)
			if err != nil || !ok || req.Method != sip.INVITE {
				continue
			}
			res := sip.NewResponseFromRequest(req, 486, "Busy Here", nil)
			res.To().Params.Add("tag", "anna")
			phone.WriteTo([]byte(res.String()), from)
			got <- req.Recipient.String()
			return
		}
	}()
	inv := sip.NewRequest(sip.INVITE, sip.Uri{User: "201", Host: domain})
	inv.SetDestination(sipAddr)
	inv.AppendHeader(&sip.ToHeader{Address: sip.Uri{User: "201", Host: domain}})
	inv.AppendHeader(&sip.FromHeader{Address: sip.Uri{User: bobAOR, Host: domain}, Params: sip.HeaderParams{{K: "tag", V: "c1"}}})
	inv.AppendHeader(&sip.ContactHeader{Address: sip.Uri{User: bobAOR, Host: "127.0.0.1", Port: 5098}})
	res := sipDo(t, inv, bobAuth, bobPass)
	if ruri := <-got; !strings.Contains(ruri, "127.0.0.1") {
		t.Fatalf("Anna's phone got no INVITE; Bob's call was answered %d %s", res.StatusCode, res.Reason)
	}
	if res.StatusCode != 486 {
		t.Fatalf("Bob's call: %d %s, want the phone's 486", res.StatusCode, res.Reason)
	}
}

// TestFlexLogoutDropsTheUsersBindingsAtThePhone: after *56 the phone that was logged in
// no longer rings for the user, even before it re-provisions (or if it never does):
// the bindings of the user's lines registered from that phone (by its MAC) are removed
// with the session, after the check-sync NOTIFY has gone to them (the phone's only
// registration here). Before, they rang there until they expired. The same user logging
// in again at the phone keeps them.
func TestFlexLogoutDropsTheUsersBindingsAtThePhone(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Anna", "last_name": "Desk",
		"email": "anna@desk.test", "extensions": []string{"301"}, "pin": "482916"}, 201, nil)
	const mac = "805ec0000301"
	p := e.newFlexPhone(mac)
	if got := p.dial("*55*301*482916"); got != "603 Logged in 301" {
		t.Fatalf("login: %q", got)
	}
	var tenant struct {
		ProvisioningToken string `json:"provisioning_token"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	ua := "Yealink SIP-T46U 108.86.0.20 80:5e:c0:00:03:01"
	keys := yealinkKeys(e.fetch("/p/"+tenant.ProvisioningToken+"/"+mac+".cfg", ua))
	aor, auth, pass := keys["account.1.user_name"], keys["account.1.auth_name"], keys["account.1.password"]
	if aor != "301" || auth == p.user {
		t.Fatalf("after login line 1 is %q (%q)", aor, auth)
	}
	reg := sip.NewRequest(sip.REGISTER, sip.Uri{Host: p.domain})
	reg.SetDestination(p.addr)
	reg.AppendHeader(&sip.ToHeader{Address: sip.Uri{User: aor, Host: p.domain}})
	reg.AppendHeader(&sip.FromHeader{Address: sip.Uri{User: aor, Host: p.domain}, Params: sip.HeaderParams{{K: "tag", V: "r1"}}})
	// The phone's line 301 (its only registration: the guest line dials, unregistered)
	// answers the check-sync NOTIFY, which comes to the address it registered from.
	notified := make(chan string, 8)
	sua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sua.Close() })
	srv, err := sipgo.NewServer(sua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		if ev := req.GetHeader("Event"); ev != nil {
			notified <- ev.Value()
		}
	})
	cli, err := sipgo.NewClient(sua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	reg.AppendHeader(&sip.ContactHeader{Address: sip.Uri{User: aor, Host: "192.168.1.50", Port: 5060}}) // behind NAT
	reg.AppendHeader(sip.NewHeader("Expires", "600"))
	reg.AppendHeader(sip.NewHeader("User-Agent", ua))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := cli.Do(ctx, reg)
	if err == nil && res.StatusCode == 401 {
		res, err = cli.DoDigestAuth(ctx, reg, res, sipgo.DigestAuth{Username: auth, Password: pass})
	}
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("REGISTER of 301 at the flex phone: %v %v", res, err)
	}
	macsOf := func() []string {
		var regs struct {
			Items []struct {
				SIPUsername string `json:"sip_username"`
				MAC         string `json:"mac"`
			}
		}
		e.call("GET", "/api/v1/tenants/default/registrations", nil, 200, &regs)
		var out []string
		for _, b := range regs.Items {
			if b.SIPUsername == auth {
				out = append(out, b.MAC)
			}
		}
		return out
	}
	if got := macsOf(); !slices.Equal(got, []string{mac}) {
		t.Fatalf("301's bindings after the REGISTER: %v", got)
	}
	// Anna logs in again at the same phone (her session renewed): her line stays.
	if got := p.dial("*55*301*482916"); got != "603 Logged in 301" {
		t.Fatalf("login again: %q", got)
	}
	if got := macsOf(); !slices.Equal(got, []string{mac}) {
		t.Fatalf("301's bindings after Anna logged in again at the same phone: %v", got)
	}
	for len(notified) > 0 {
		<-notified
	}
	if got := p.dial("*56"); got != "603 Logged out" {
		t.Fatalf("logout: %q", got)
	}
	select {
	case ev := <-notified:
		if !strings.HasPrefix(ev, "check-sync") {
			t.Fatalf("after *56 the phone got NOTIFY Event: %s", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("after *56 no check-sync NOTIFY reached the phone's line 301")
	}
	deadline := time.Now().Add(5 * time.Second)
	for got := macsOf(); len(got) != 0; got = macsOf() {
		if time.Now().After(deadline) {
			t.Fatalf("301 still registered at the flex phone after *56: %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
