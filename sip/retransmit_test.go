package sip

import (
	"strings"
	"testing"
)

// TestRetransmissions: over UDP a retransmitted REGISTER gets what its original got.
func TestRetransmissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := newPhone(t, e, e.user, e.pass, e.domain)

	t.Run("first REGISTER: the same challenge", func(t *testing.T) {
		msg := p.registerMsg(e.user, "")
		r1, r2 := p.send(msg), p.send(msg)
		if r1 == nil || r2 == nil || r1.StatusCode != 401 || r2.StatusCode != 401 {
			t.Fatalf("answers %v, %v", r1, r2)
		}
		if a, b := r1.GetHeader("WWW-Authenticate").Value(), r2.GetHeader("WWW-Authenticate").Value(); a != b {
			t.Fatalf("challenges differ:\n%s\n%s", a, b)
		}
		// A new transaction (new branch, CSeq) gets a new nonce.
		r3 := p.send(p.registerMsg(e.user, ""))
		if r3 == nil || r3.GetHeader("WWW-Authenticate").Value() == r1.GetHeader("WWW-Authenticate").Value() {
			t.Fatalf("a new REGISTER got the old nonce")
		}
	})

	t.Run("accepted REGISTER after a newer one replaced its binding", func(t *testing.T) {
		res := p.send(p.registerMsg(e.user, ""))
		old := p.registerMsg(e.user, p.authorization(res, "REGISTER", "sip:"+e.domain, "", 1))
		if res = p.send(old); res == nil || res.StatusCode != 200 {
			t.Fatalf("register: %v", res)
		}
		// The phone registers again with a new Call-ID: the binding is replaced.
		p.callID = randHex(8) + "@phone"
		if res = p.register(e.user); res == nil || res.StatusCode != 200 {
			t.Fatalf("second register: %v", res)
		}
		bs := e.srv.Registrations("acme")
		if len(bs) != 1 || bs[0].CallID != p.callID {
			t.Fatalf("bindings %+v", bs)
		}
		// A late retransmission of the first: 200 with the bindings as they are, no change.
		if res = p.send(old); res == nil || res.StatusCode != 200 {
			t.Fatalf("late retransmission answered %v", res)
		}
		if bs := e.srv.Registrations("acme"); len(bs) != 1 || bs[0].CallID != p.callID {
			t.Fatalf("a retransmission changed the bindings: %+v", bs)
		}
		// The same credentials on a new request are still a replay.
		replay := strings.Replace(old, "CSeq: ", "CSeq: 9", 1)
		if res = p.send(replay); res == nil || res.StatusCode == 200 {
			t.Fatalf("replay answered %v", res)
		}
	})
}

// TestRefreshKeepsStoreCovering: a refresh that changes only the expiry need not be
// written at once, but what the store holds still registers the phone after a restart;
// a REGISTER from a new address is written.
func TestRefreshKeepsStoreCovering(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := newPhone(t, e, e.user, e.pass, e.domain)
	if res := p.register(e.user); res == nil || res.StatusCode != 200 {
		t.Fatalf("register: %v", res)
	}
	if res := p.register(e.user); res == nil || res.StatusCode != 200 {
		t.Fatalf("refresh: %v", res)
	}
	// The same device from another address (its instance is the binding's key).
	moved := newPhone(t, e, e.user, e.pass, e.domain)
	if res := moved.register(e.user); res == nil || res.StatusCode != 200 {
		t.Fatalf("register from a new address: %v", res)
	}
	srv := e.restarted(t)
	bs := srv.Registrations("acme")
	if len(bs) != 1 || bs[0].Source != moved.addr() {
		t.Fatalf("after restart: %+v (want one binding from %s)", bs, moved.addr())
	}
}
