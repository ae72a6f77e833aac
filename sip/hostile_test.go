package sip

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/emiago/sipgo/sip"
)

// TestGarbage: garbage, truncated, oversize and injected messages are dropped or get
// 400; the server keeps answering and leaves no goroutines behind.
func TestGarbage(t *testing.T) {
	e := newEnv(t)
	p := newPhone(t, e, e.user, e.pass, e.domain)
	before := runtime.NumGoroutine()
	good := p.registerMsg(e.user, "")
	inputs := [][]byte{
		[]byte("\x00\x01\x02garbage"),
		[]byte("REGISTER"),
		[]byte(good[:len(good)/2]),
		[]byte("\r\n\r\n"),
		[]byte(strings.Repeat("A", 60000)),
		[]byte(strings.Replace(good, "User-Agent: ", "User-Agent: x\rInjected: 1\r\nUA: ", 1)),
		[]byte(strings.Replace(good, "Call-ID:", "X: \x00\r\nCall-ID:", 1)),
		[]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKnone\r\n\r\n"),
		[]byte(strings.Replace(good, "CSeq: ", "CSeq: x", 1)),
		[]byte(strings.Replace(good, "To: ", "Tx: ", 1)),
	}
	for _, in := range inputs {
		if _, err := p.c.WriteToUDP(in, p.srv); err != nil {
			t.Fatal(err)
		}
		if res := p.read(150 * time.Millisecond); res != nil && res.StatusCode != 400 {
			t.Errorf("input %.30q answered %d", in, res.StatusCode)
		}
	}
	// Over TCP: an oversize header section closes the connection.
	c, err := net.Dial("tcp", e.tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("REGISTER sip:x SIP/2.0\r\nX: " + strings.Repeat("a", 20000) + "\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := c.Read(make([]byte, 100)); err == nil {
		t.Errorf("oversize TCP message answered (%d bytes)", n)
	}
	c.Close()
	if res := p.register(e.user); res == nil || res.StatusCode != 200 {
		t.Fatalf("server no longer answers: %v", res)
	}
	testkit.Eventually(t, 5*time.Second, fmt.Sprintf("goroutines back to at most %d + 2", before), func() bool {
		return runtime.NumGoroutine() <= before+2
	})
}

// TestFloodFromManyPorts: REGISTERs from many source ports keep no per-source state.
func TestFloodFromManyPorts(t *testing.T) {
	e := newEnv(t)
	p := newPhone(t, e, e.user, e.pass, e.domain)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	g0 := runtime.NumGoroutine()
	for i := range 2000 {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		msg := fmt.Sprintf("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d\r\nFrom: <sip:x@%s>;tag=1\r\nTo: <sip:x@%s>\r\nCall-ID: f%d\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
			e.domain, c.LocalAddr(), i, e.domain, e.domain, i)
		c.WriteToUDP([]byte(msg), e.udpAddr())
		c.Close()
	}
	// A registration sent after the flood is answered once the server has read past it.
	if res := p.register(e.user); res == nil || res.StatusCode != 200 {
		t.Fatalf("register after the flood: %v", res)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	if grown := int64(ms.HeapAlloc) - int64(before); grown > 4<<20 {
		t.Errorf("heap grew by %d bytes after 2000 sources", grown)
	}
	if g := runtime.NumGoroutine(); g > g0+2 {
		t.Errorf("goroutines %d -> %d", g0, g)
	}
}

func FuzzParseFlexCode(f *testing.F) {
	for _, s := range []string{"*55*201*1234", "*55201*1234", "*56", "*56#", "*55**", "*55*2a1*1", "*55*123456789*1", "*5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := ParseFlexCode(s)
		if !ok {
			return
		}
		if c.Logout {
			if c.Extension != "" || c.PIN != "" {
				t.Fatal("logout with data")
			}
			return
		}
		if !digits(c.Extension, maxExtensionDigits) || !digits(c.PIN, maxPINDigits) {
			t.Fatalf("%q gave %+v", s, c)
		}
		if !strings.Contains(s, c.Extension+"*"+c.PIN) {
			t.Fatalf("%q gave %+v", s, c)
		}
	})
}

func TestParseFlexCode(t *testing.T) {
	t.Parallel()
	cases := map[string]FlexCode{
		"*55*201*1234":  {Extension: "201", PIN: "1234"},
		"*55201*1234":   {Extension: "201", PIN: "1234"},
		"*55*201*1234#": {Extension: "201", PIN: "1234"},
		"*56":           {Logout: true},
	}
	for in, want := range cases {
		if got, ok := ParseFlexCode(in); !ok || got != want {
			t.Errorf("%q: %+v %v", in, got, ok)
		}
	}
	for _, bad := range []string{"*55*20a*1234", "*55*201*", "*55**1234", "*55*201*12345678901234", "*57", "201", "*55*123456789*1"} {
		if _, ok := ParseFlexCode(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzHandleMessage: whatever arrives, the handler neither panics nor answers with
// anything unparsable.
func FuzzHandleMessage(f *testing.F) {
	f.Add([]byte("REGISTER sip:a.example SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1;rport\r\nFrom: <sip:u@a.example>;tag=1\r\nTo: <sip:u@a.example>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nContact: *\r\nExpires: 0\r\nAuthorization: Digest username=\"u\", realm=\"a.example\", nonce=\"x\", uri=\"sip:a.example\", response=\"0\", qop=auth, nc=00000001, cnonce=\"c\"\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("INVITE sip:*55*201*1234@a.example SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK2\r\nFrom: <sip:u@a.example>;tag=1\r\nTo: <sip:*55*201*1234@a.example>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"))
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var bad atomic.Value
		in := &inbound{src: netip.MustParseAddrPort("127.0.0.1:5"), transport: "UDP",
			write: func(b []byte, _ netip.AddrPort) error {
				if _, err := sip.ParseMessage(b); err != nil {
					bad.Store(string(b))
				}
				return nil
			}}
		e.srv.handleMessage(data, in, &replyWriter{})
		if v := bad.Load(); v != nil {
			t.Fatalf("unparsable answer %q", v)
		}
	})
}
