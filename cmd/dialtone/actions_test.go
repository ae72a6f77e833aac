package main

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// udpPhone is a desk phone on a plain UDP socket: it registers with the credentials of
// its config and answers every NOTIFY with 200, counting the Events it got.
type udpPhone struct {
	t      *testing.T
	c      *net.UDPConn
	srv    *net.UDPAddr
	mac    string
	mu     sync.Mutex
	events []string
	regs   chan *sip.Response
}

func newUDPPhone(t *testing.T, srvAddr, mac string) *udpPhone {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	srv, err := net.ResolveUDPAddr("udp", srvAddr)
	if err != nil {
		t.Fatal(err)
	}
	p := &udpPhone{t: t, c: c, srv: srv, mac: mac, regs: make(chan *sip.Response, 4)}
	go p.serve()
	return p
}

func (p *udpPhone) serve() {
	buf := make([]byte, 65536)
	for {
		n, from, err := p.c.ReadFromUDP(buf)
		if err != nil {
			return
		}
		m, err := sip.ParseMessage(buf[:n])
		if err != nil {
			continue
		}
		switch m := m.(type) {
		case *sip.Response:
			if m.StatusCode >= 200 {
				p.regs <- m
			}
		case *sip.Request:
			if m.Method == sip.NOTIFY {
				p.mu.Lock()
				if h := m.GetHeader("Event"); h != nil {
					p.events = append(p.events, h.Value())
				}
				p.mu.Unlock()
				p.c.WriteToUDP([]byte(sip.NewResponseFromRequest(m, 200, "OK", nil).String()), from)
			}
		}
	}
}

func (p *udpPhone) got(event string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.events {
		if e == event {
			n++
		}
	}
	return n
}

func (p *udpPhone) registerMsg(domain, user string, cseq int, auth string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d%s;rport\r\n", domain, p.c.LocalAddr(), cseq, p.mac)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\n", user, domain, p.mac, user, domain)
	fmt.Fprintf(&b, "Call-ID: reg-%s\r\nCSeq: %d REGISTER\r\nContact: <sip:%s@%s>\r\nExpires: 600\r\n", p.mac, cseq, user, p.c.LocalAddr())
	if auth != "" {
		b.WriteString("Authorization: " + auth + "\r\n")
	}
	b.WriteString("User-Agent: Yealink SIP-T46U 108.86.0.20 " + p.mac + "\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// register runs REGISTER, 401, REGISTER with the digest of user/pass.
func (p *udpPhone) register(domain, user, pass string) {
	p.t.Helper()
	read := func() *sip.Response {
		select {
		case r := <-p.regs:
			return r
		case <-time.After(5 * time.Second):
			p.t.Fatalf("%s: no answer to REGISTER", p.mac)
			return nil
		}
	}
	p.c.WriteToUDP(p.registerMsg(domain, user, 1, ""), p.srv)
	res := read()
	chal, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	if err != nil {
		p.t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + domain, Username: user, Password: pass})
	if err != nil {
		p.t.Fatal(err)
	}
	p.c.WriteToUDP(p.registerMsg(domain, user, 2, cred.String()), p.srv)
	if res := read(); res.StatusCode != 200 {
		p.t.Fatalf("%s: REGISTER %d", p.mac, res.StatusCode)
	}
}

type actionReport struct {
	ID     string
	Action string
	Rate   int
	Done   bool
	Counts map[string]int
	Phones []struct {
		MAC, State, Error string
	}
}

// TestPhoneActionsThroughAPI: POST …/phones/actions reboots a department's phones over
// real UDP with the make's reboot event, at the tenant's action_rate, and GET
// …/phones/actions/{id} shows each phone notified, then fetched once it asked for its
// config over HTTP; the phone outside the department is left alone, and the request is
// audited once with the count.
func TestPhoneActionsThroughAPI(t *testing.T) {
	e := startMain(t)
	var tenant struct {
		ProvisioningToken string `json:"provisioning_token"`
		SIPDomain         string `json:"sip_domain"`
		ActionRate        int    `json:"action_rate"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	if tenant.ActionRate != 20 {
		t.Fatalf("default action_rate %d", tenant.ActionRate)
	}
	e.call("PATCH", "/api/v1/tenants/default", map[string]any{"action_rate": 0}, 400, nil)
	e.call("PATCH", "/api/v1/tenants/default", map[string]any{"action_rate": 50}, 200, &tenant)
	var dept struct{ ID string }
	e.call("POST", "/api/v1/tenants/default/departments", map[string]any{"name": "Sales"}, 201, &dept)

	macs := []string{"805ec0000101", "805ec0000102", "805ec0000103"}
	phones := map[string]*udpPhone{}
	for i, mac := range macs {
		body := map[string]any{"first_name": "P", "last_name": fmt.Sprint(i), "extensions": []string{fmt.Sprint(301 + i)}}
		if i < 2 {
			body["department_id"] = dept.ID
		}
		var user struct{ ID string }
		e.call("POST", "/api/v1/tenants/default/users", body, 201, &user)
		e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": mac, "model": "T46U", "user_id": user.ID}, 201, nil)
		keys := yealinkKeys(e.fetch("/p/"+tenant.ProvisioningToken+"/"+mac+".cfg", "Yealink SIP-T46U 108.86.0.20 "+mac))
		p := newUDPPhone(t, e.m.Addrs["sip"], mac)
		p.register(tenant.SIPDomain, keys["account.1.auth_name"], keys["account.1.password"])
		phones[mac] = p
	}
	e.call("POST", "/api/v1/tenants/default/phones/actions", map[string]any{"action": "reboot", "model": "T46U", "all": true}, 400, nil)
	e.call("POST", "/api/v1/tenants/default/phones/actions", map[string]any{"action": "explode", "all": true}, 400, nil)
	var rep actionReport
	e.call("POST", "/api/v1/tenants/default/phones/actions", map[string]any{"action": "reboot", "department_id": dept.ID}, 202, &rep)
	if len(rep.Phones) != 2 || rep.Rate != 50 || rep.Counts["queued"] != 2 {
		t.Fatalf("started: %+v", rep)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !rep.Done {
		if time.Now().After(deadline) {
			t.Fatalf("action not done: %+v", rep)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
		e.call("GET", "/api/v1/tenants/default/phones/actions/"+rep.ID, nil, 200, &rep)
	}
	if rep.Counts["notified"] != 2 {
		t.Fatalf("done: %+v", rep)
	}
	for i, mac := range macs {
		want := 1
		if i == 2 {
			want = 0
		}
		if got := phones[mac].got("check-sync;reboot=true"); got != want {
			t.Errorf("%s got %d reboot NOTIFYs, want %d", mac, got, want)
		}
	}
	// The first phone comes back for its config.
	e.fetch("/p/"+tenant.ProvisioningToken+"/"+macs[0]+".cfg", "Yealink SIP-T46U 108.86.0.20 "+macs[0])
	e.call("GET", "/api/v1/tenants/default/phones/actions/"+rep.ID, nil, 200, &rep)
	states := map[string]string{}
	for _, p := range rep.Phones {
		states[p.MAC] = p.State
	}
	if states[macs[0]] != "fetched" || states[macs[1]] != "notified" {
		t.Fatalf("after the fetch: %v", states)
	}
	e.call("GET", "/api/v1/tenants/default/phones/actions/nope", nil, 404, nil)
	if got := e.auditActions("phone.reboot"); len(got) != 1 {
		t.Errorf("audit: %v", got)
	}
}
