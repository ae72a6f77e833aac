package sip

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestOwnRequestRetransmitted: a check-sync NOTIFY whose first datagram is lost is
// retransmitted over UDP with the same branch and CSeq (RFC 3261 §17.1.2.2, Timer E);
// only an answer with its branch and CSeq method ends it (§17.1.3), a provisional one
// does not.
func TestOwnRequestRetransmitted(t *testing.T) {
	t.Parallel()
	e, p := registeredPhone(t)
	errc := make(chan error, 1)
	go func() { errc <- e.srv.Resync(context.Background(), "001565aabbcc") }()
	first, _ := p.readRequest(3 * time.Second)
	if first == nil || first.Method != sip.NOTIFY {
		t.Fatalf("no NOTIFY: %v", first)
	}
	// Lost: not answered. The retransmission comes within T1 (500 ms).
	again, from := p.readRequest(2 * time.Second)
	if again == nil {
		t.Fatal("the NOTIFY was not retransmitted")
	}
	b1, _ := first.Via().Params.Get("branch")
	b2, _ := again.Via().Params.Get("branch")
	if b1 != b2 || first.CSeq().SeqNo != again.CSeq().SeqNo {
		t.Fatalf("retransmission is another request: branch %s/%s, CSeq %d/%d", b1, b2, first.CSeq().SeqNo, again.CSeq().SeqNo)
	}
	// Answers that are not this transaction's: another branch, another method.
	other := again.Clone()
	other.Via().Params.Add("branch", b1+"x")
	p.respond(other, from, 500, "Not Yours")
	other = again.Clone()
	other.CSeq().MethodName = sip.REGISTER
	p.respond(other, from, 500, "Not Yours")
	p.respond(again, from, 100, "Trying")
	p.respond(again, from, 200, "OK")
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Resync: %v (an answer of another transaction was taken)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Resync did not return after the 200")
	}
}

// TestOwnRequestBounded: a request with a cap on its sends is written that many times
// at most, and given up at its own time, though Timer E would send it again.
func TestOwnRequestBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var h *hop
	for deadline := time.Now().Add(5 * time.Second); ; { // the server's socket is served
		if h, err = e.srv.hopTo("UDP", silent.LocalAddr().(*net.UDPAddr).AddrPort()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	msg := []byte("NOTIFY sip:" + silent.LocalAddr().String() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + e.udpAddr().String() + ";branch=z9hG4bK" + randHex(10) + ";rport\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:dialtone@example.com>;tag=1\r\nTo: <sip:phone@example.com>\r\n" +
		"Call-ID: bounded@dialtone\r\nCSeq: 1 NOTIFY\r\nEvent: ua-profile\r\n" +
		"Subscription-State: terminated\r\nContent-Length: 0\r\n\r\n")
	// Timer E would send at 0, 0.5 s and 1.5 s before the 2 s give-up; two are allowed.
	start := time.Now()
	_, err = e.srv.request(context.Background(), msg, h, txBound{sends: 2, giveUp: 2 * time.Second})
	if !errors.Is(err, errNoAnswer) {
		t.Fatalf("err %v, want no answer", err)
	}
	if took := time.Since(start); took < 2*time.Second || took > 10*time.Second {
		t.Fatalf("given up after %s, want 2 s", took)
	}
	n := 0
	buf := make([]byte, 2048)
	silent.SetReadDeadline(time.Now().Add(200 * time.Millisecond)) // already delivered: loopback
	for {
		if _, _, err := silent.ReadFromUDPAddrPort(buf); err != nil {
			break
		}
		n++
	}
	if n != 2 {
		t.Fatalf("sent %d times, want 2", n)
	}
}
