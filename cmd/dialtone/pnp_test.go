package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// pnpPhone is a phone's SIP socket on loopback: it sends a plug-and-play SUBSCRIBE and
// reads what comes back.
type pnpPhone struct {
	t *testing.T
	c *net.UDPConn
}

func newPnPPhone(t *testing.T, ip string) *pnpPhone {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &pnpPhone{t: t, c: c}
}

// subscribe writes the make's SUBSCRIBE: fromUser as the make writes its MAC, event
// the Event header as sent (vendor and model in it may be wrong), contact where the
// phone says it is.
func (p *pnpPhone) subscribe(to string, fromUser, event, ua, callID, contact string) {
	p.t.Helper()
	if contact == "" {
		contact = p.c.LocalAddr().String()
	}
	msg := "SUBSCRIBE sip:" + fromUser + "@224.0.1.75 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + p.c.LocalAddr().String() + ";branch=z9hG4bK-" + callID + ";rport\r\n" +
		"From: <sip:" + fromUser + "@224.0.1.75>;tag=" + callID + "\r\n" +
		"To: <sip:" + fromUser + "@224.0.1.75>\r\n" +
		"Call-ID: " + callID + "\r\nCSeq: 1 SUBSCRIBE\r\n" +
		"Contact: <sip:" + contact + ">\r\n" +
		"Event: " + event + "\r\nAccept: application/url\r\nExpires: 0\r\nMax-Forwards: 70\r\n" +
		"User-Agent: " + ua + "\r\nContent-Length: 0\r\n\r\n"
	addr, err := net.ResolveUDPAddr("udp4", to)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.c.WriteToUDP([]byte(msg), addr); err != nil {
		p.t.Fatal(err)
	}
}

type sipMsg struct {
	first, body string
	headers     map[string]string
	from        *net.UDPAddr
}

// read waits (with a deadline) for the next SIP message.
func (p *pnpPhone) read() sipMsg {
	p.t.Helper()
	buf := make([]byte, 8192)
	p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := p.c.ReadFromUDP(buf)
	if err != nil {
		p.t.Fatalf("waiting for a SIP message: %v", err)
	}
	head, body, _ := bytes.Cut(buf[:n], []byte("\r\n\r\n"))
	r := bufio.NewScanner(bytes.NewReader(head))
	r.Scan()
	m := sipMsg{first: r.Text(), body: string(body), headers: map[string]string{}, from: from}
	for r.Scan() {
		k, v, _ := strings.Cut(r.Text(), ":")
		m.headers[strings.ToLower(k)] = strings.TrimSpace(v)
	}
	return m
}

// answer sends 200 to a NOTIFY, as the phone does.
func (p *pnpPhone) answer(n sipMsg) {
	res := "SIP/2.0 200 OK\r\nVia: " + n.headers["via"] + "\r\nFrom: " + n.headers["from"] + "\r\nTo: " + n.headers["to"] +
		"\r\nCall-ID: " + n.headers["call-id"] + "\r\nCSeq: " + n.headers["cseq"] + "\r\nContent-Length: 0\r\n\r\n"
	p.c.WriteToUDP([]byte(res), n.from)
}

// pnp runs one SUBSCRIBE to 200 to NOTIFY exchange and answers the provisioning URL.
func (p *pnpPhone) pnp(to, fromUser, event, ua, callID string) string {
	p.t.Helper()
	p.subscribe(to, fromUser, event, ua, callID, "")
	ok := p.read()
	if !strings.HasPrefix(ok.first, "SIP/2.0 200") || ok.headers["call-id"] != callID || ok.headers["expires"] != "0" {
		p.t.Fatalf("SUBSCRIBE answered %q %v", ok.first, ok.headers)
	}
	n := p.read()
	if !strings.HasPrefix(n.first, "NOTIFY ") || n.headers["call-id"] != callID ||
		n.headers["content-type"] != "application/url" ||
		n.headers["subscription-state"] != "terminated;reason=timeout" ||
		!strings.HasPrefix(n.headers["event"], "ua-profile") ||
		!strings.Contains(n.headers["to"], "tag="+callID) {
		p.t.Fatalf("NOTIFY: %q %v", n.first, n.headers)
	}
	if l, _ := strconv.Atoi(n.headers["content-length"]); l != len(n.body) {
		p.t.Fatalf("NOTIFY Content-Length %d, body %q", l, n.body)
	}
	p.answer(n)
	return n.body
}

// Each make's SUBSCRIBE, sent to the SIP port, gets 200 then a NOTIFY with the URL its
// make loads: the tenant's folder (Grandstream's ending in "/"), Snom its own file. The
// make comes from the MAC's OUI, whatever the Event header claims.
func TestPnPPerMake(t *testing.T) {
	e := startMain(t)
	var tenant struct {
		Token string `json:"provisioning_token"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	var user struct{ ID string }
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Piet", "last_name": "Plug",
		"extensions": []string{"301"}}, 201, &user)
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "80:5e:c0:00:00:01", "model": "T46U", "user_id": user.ID}, 201, nil)
	folder := "http://" + e.m.Addrs["http"] + "/p/" + tenant.Token + "/"
	sipAddr := e.m.Addrs["sip"]
	cases := []struct{ name, user, event, ua, want string }{
		{"yealink", "MAC%3a805ec0000001", `ua-profile;profile-type="device";vendor="Yealink";model="T46U";version="108.86.0.20"`,
			"Yealink SIP-T46U 108.86.0.20", folder},
		// Event and User-Agent say Yealink; the OUI (00:04:13) says Snom.
		{"snom", "MAC%3a000413000002", `ua-profile;profile-type="device";vendor="Yealink";model="T46U"`,
			"Yealink SIP-T46U 108.86.0.20", folder + "000413000002.xml"},
		{"fanvil", "MAC=0c383e000003", `ua-profile;profile-type="device";vendor="Fanvil";model="X4U"`, "Fanvil X4U 2.12.1", folder},
		{"gigaset", "7c2f80000004", `ua-profile;profile-type="device";vendor="Gigaset";model="N870"`, "Gigaset N870 IP PRO", folder},
		{"grandstream", "MAC%3AC074AD000005", `ua-profile;profile-type="device";vendor="Grandstream";model="GRP2614"`,
			"Grandstream GRP2614 1.0.5.33", folder},
		{"poly", "MAC%3a0004f2000006", `ua-profile;profile-type="device";vendor="Polycom";model="VVX450"`,
			"PolycomVVX-VVX_450-UA/6.4.3.5018", folder},
	}
	for i, c := range cases {
		// One phone per address, as on a LAN: a source is answered a few times a minute.
		phone := newPnPPhone(t, fmt.Sprintf("127.0.1.%d", i+1))
		t.Run(c.name, func(t *testing.T) {
			phone.t = t
			if got := phone.pnp(sipAddr, c.user, c.event, c.ua, fmt.Sprintf("pnp-%s-%d", c.name, i)); got != c.want {
				t.Fatalf("URL %q, want %q", got, c.want)
			}
			if c.name == "grandstream" && !strings.HasSuffix(folder, "/") {
				t.Fatal("Grandstream needs a folder URL")
			}
		})
	}
	phone := newPnPPhone(t, "127.0.1.100")

	// Powered on to config fetched: SUBSCRIBE, 200, NOTIFY, then the file from the URL.
	start := time.Now()
	url := phone.pnp(sipAddr, "MAC%3a805ec0000001", "ua-profile", "Yealink SIP-T46U 108.86.0.20", "pnp-timed")
	cfg := e.fetch(strings.TrimPrefix(url, "http://"+e.m.Addrs["http"])+"805ec0000001.cfg", "Yealink SIP-T46U 108.86.0.20 80:5e:c0:00:00:01")
	took := time.Since(start)
	if yealinkKeys(cfg)["account.1.user_name"] != "301" {
		t.Fatalf("config after PnP: %s", cfg)
	}
	t.Logf("SUBSCRIBE sent to config fetched: %v", took)

	// The unknown MACs landed in discovered phones, with the make their OUI tells.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var page struct {
			Items []struct{ MAC, Make string }
		}
		e.call("GET", "/api/v1/tenants/default/discovered-phones", nil, 200, &page)
		got := map[string]string{}
		for _, d := range page.Items {
			got[d.MAC] = d.Make
		}
		if got["000413000002"] == "snom" && got["c074ad000005"] == "grandstream" && got["0004f2000006"] == "poly" {
			if _, known := got["805ec0000001"]; known {
				t.Fatal("a known phone listed as discovered")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("discovered phones: %v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Another event package, or no MAC to tell the phone by, is refused.
	phone.subscribe(sipAddr, "MAC%3a805ec0000001", "presence", "x", "pnp-presence", "")
	if m := phone.read(); !strings.HasPrefix(m.first, "SIP/2.0 489") {
		t.Fatalf("presence SUBSCRIBE: %q", m.first)
	}
	phone.subscribe(sipAddr, "anonymous", "ua-profile", "x", "pnp-nomac", "")
	if m := phone.read(); !strings.HasPrefix(m.first, "SIP/2.0 400") {
		t.Fatalf("SUBSCRIBE without a MAC: %q", m.first)
	}
}

// The source address picks the tenant by pnp_subnets; a subnet overlapping another
// tenant's is refused; the NOTIFY goes to the SUBSCRIBE's source, never to a Contact
// pointing elsewhere; a flood from one source gets a bounded number of NOTIFYs.
func TestPnPTenantsAndFlood(t *testing.T) {
	e := startMain(t)
	var def, east struct {
		Token string `json:"provisioning_token"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &def)
	e.call("POST", "/api/v1/tenants", map[string]any{"slug": "east", "name": "East"}, 201, nil)
	e.call("POST", "/api/v1/tenants", map[string]any{"slug": "west", "name": "West"}, 201, nil)
	e.call("PATCH", "/api/v1/tenants/east", map[string]any{"pnp_subnets": []string{"127.0.0.2/31"}}, 200, &east)
	var problem struct {
		Error struct{ Message, Field string }
	}
	e.call("PATCH", "/api/v1/tenants/west", map[string]any{"pnp_subnets": []string{"127.0.0.0/24"}}, 409, &problem)
	if problem.Error.Field != "pnp_subnets" || problem.Error.Message != "127.0.0.0/24 overlaps a subnet another tenant claims" {
		t.Fatalf("overlap refusal: %+v", problem)
	}
	e.call("PATCH", "/api/v1/tenants/west", map[string]any{"pnp_subnets": []string{"10.1.2.0/33"}}, 400, nil)
	var west struct {
		PnPSubnets []string `json:"pnp_subnets"`
	}
	e.call("PATCH", "/api/v1/tenants/west", map[string]any{"pnp_subnets": []string{"10.1.2.7/24", "127.0.0.4/32"}}, 200, &west)
	if strings.Join(west.PnPSubnets, " ") != "10.1.2.0/24 127.0.0.4/32" {
		t.Fatalf("west's subnets stored as %v", west.PnPSubnets)
	}

	sipAddr := e.m.Addrs["sip"]
	base := "http://" + e.m.Addrs["http"] + "/p/"
	for _, c := range []struct{ ip, token string }{{"127.0.0.1", def.Token}, {"127.0.0.3", east.Token}} {
		p := newPnPPhone(t, c.ip)
		if got := p.pnp(sipAddr, "MAC%3a805ec0000010", "ua-profile", "Yealink SIP-T46U", "pnp-"+c.ip); got != base+c.token+"/" {
			t.Fatalf("from %s: URL %q, want tenant token %s", c.ip, got, c.token)
		}
	}

	// A Contact that points at another socket does not move the NOTIFY.
	victim := newPnPPhone(t, "127.0.0.1")
	p := newPnPPhone(t, "127.0.0.5")
	p.subscribe(sipAddr, "MAC%3a805ec0000011", "ua-profile", "Yealink SIP-T46U", "pnp-contact", victim.c.LocalAddr().String())
	if m := p.read(); !strings.HasPrefix(m.first, "SIP/2.0 200") {
		t.Fatalf("SUBSCRIBE: %q", m.first)
	}
	if n := p.read(); !strings.HasPrefix(n.first, "NOTIFY sip:"+victim.c.LocalAddr().String()) {
		t.Fatalf("NOTIFY to the source: %q", n.first)
	} else {
		p.answer(n)
	}

	// A flood of SUBSCRIBEs from one source: four are answered in a minute, the rest
	// dropped. An OPTIONS after them marks the end (one reader answers in order).
	f := newPnPPhone(t, "127.0.0.6")
	for i := range 50 {
		f.subscribe(sipAddr, "MAC%3a805ec0000012", "ua-profile", "Yealink SIP-T46U", "pnp-flood-"+strconv.Itoa(i), "")
	}
	opts := "OPTIONS sip:" + sipAddr + " SIP/2.0\r\nVia: SIP/2.0/UDP " + f.c.LocalAddr().String() + ";branch=z9hG4bK-end\r\n" +
		"From: <sip:probe@127.0.0.6>;tag=1\r\nTo: <sip:" + sipAddr + ">\r\nCall-ID: pnp-flood-end\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	ua, _ := net.ResolveUDPAddr("udp4", sipAddr)
	f.c.WriteToUDP([]byte(opts), ua)
	oks, notifies := 0, 0
	for done := false; !done || notifies < oks; {
		m := f.read()
		switch {
		case m.headers["call-id"] == "pnp-flood-end":
			done = true
		case strings.HasPrefix(m.first, "SIP/2.0 200"):
			oks++
		case strings.HasPrefix(m.first, "NOTIFY "):
			notifies++
			f.answer(m)
		}
	}
	if oks != 4 || notifies != 4 {
		t.Fatalf("flood of 50 SUBSCRIBEs: %d answered, %d NOTIFYs; want 4 and 4", oks, notifies)
	}
}

// The same SUBSCRIBE sent to the multicast group 224.0.1.75 on loopback (the SIP socket
// bound to all addresses, --pnp-interfaces lo; the phone's socket with
// IP_MULTICAST_IF lo and IP_MULTICAST_LOOP) is answered likewise.
func TestPnPMulticast(t *testing.T) {
	e := startMainOn(t, t.TempDir(), func(c *Config) { c.SIP = ":0"; c.PnPInterfaces = "lo" })
	var tenant struct {
		Token string `json:"provisioning_token"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	_, port, _ := net.SplitHostPort(e.m.Addrs["sip"])
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	phone := newPnPPhone(t, "127.0.0.1")
	pc := ipv4.NewPacketConn(phone.c)
	if err := pc.SetMulticastInterface(lo); err != nil {
		t.Fatal(err)
	}
	if err := pc.SetMulticastLoopback(true); err != nil {
		t.Fatal(err)
	}
	want := "http://" + e.m.Addrs["http"] + "/p/" + tenant.Token + "/"
	if got := phone.pnp("224.0.1.75:"+port, "MAC%3a805ec0000020", `ua-profile;profile-type="device"`, "Yealink SIP-T46U", "pnp-mcast"); got != want {
		t.Fatalf("URL over multicast %q, want %q", got, want)
	}
}

// Joining the group can fail (no such interface, or none multicast-capable): the start
// goes on and SUBSCRIBEs sent to the SIP port are answered. --pnp=false refuses them.
func TestPnPJoinFailsOrOff(t *testing.T) {
	e := startMainOn(t, t.TempDir(), func(c *Config) { c.SIP = ":0"; c.PnPInterfaces = "no-such-if0" })
	_, port, _ := net.SplitHostPort(e.m.Addrs["sip"])
	phone := newPnPPhone(t, "127.0.0.1")
	if got := phone.pnp("127.0.0.1:"+port, "MAC%3a805ec0000030", "ua-profile", "Yealink SIP-T46U", "pnp-nojoin"); !strings.Contains(got, "/p/") {
		t.Fatalf("URL %q", got)
	}

	off := startMainOn(t, t.TempDir(), func(c *Config) { c.PnP = "false" })
	phone.subscribe(off.m.Addrs["sip"], "MAC%3a805ec0000031", "ua-profile", "Yealink SIP-T46U", "pnp-off", "")
	if m := phone.read(); !strings.HasPrefix(m.first, "SIP/2.0 489") {
		t.Fatalf("--pnp=false: %q", m.first)
	}
	m, err := NewMain(Config{Data: t.TempDir(), SIP: "127.0.0.1:0", PnP: "maybe", PublicHost: "127.0.0.1", LogLevel: "warn"},
		slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err == nil || !strings.Contains(err.Error(), `--pnp "maybe"`) {
		t.Fatalf("--pnp maybe: %v", err)
	}
	if m != nil {
		m.Close()
	}
}
