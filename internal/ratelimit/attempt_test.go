package ratelimit

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

func TestAttemptStrikesBeforeTheCheck(t *testing.T) {
	s := NewStrikes[string](Policy{Limit: 3, Window: time.Minute, Block: time.Hour, MaxKeys: 10}, nil)
	for i := range 2 {
		if ok, started := s.Attempt("a"); !ok || started {
			t.Fatalf("attempt %d: allowed %v started %v", i, ok, started)
		}
	}
	if ok, started := s.Attempt("a"); !ok || !started {
		t.Fatalf("third attempt: allowed %v started %v; want allowed, starting the block", ok, started)
	}
	if ok, _ := s.Attempt("a"); ok {
		t.Fatal("an attempt past the limit was allowed")
	}
	s.Clear("a") // the right secret
	if ok, _ := s.Attempt("a"); !ok {
		t.Fatal("not allowed after Clear")
	}
}

func TestRefundGivesBackAStrike(t *testing.T) {
	s := NewStrikes[string](Policy{Limit: 2, Window: time.Minute, Block: time.Hour, MaxKeys: 10}, nil)
	for range 5 { // attempts refused as busy: each refunded, none counts
		s.Attempt("a")
		s.Refund("a")
	}
	if ok, started := s.Attempt("a"); !ok || started {
		t.Fatalf("after refunds: allowed %v started %v", ok, started)
	}
	if _, started := s.Attempt("a"); !started {
		t.Fatal("second counted attempt did not block")
	}
	s.Refund("a") // a block in force stays
	if b, _ := s.Blocked("a"); !b {
		t.Fatal("Refund lifted a block")
	}
}

func TestGateDoForOneCallPerKey(t *testing.T) {
	g := NewGate(4, time.Second)
	release, held := make(chan struct{}), make(chan struct{})
	go g.DoFor(context.Background(), "acct", func() { close(held); <-release })
	<-held
	start := time.Now()
	if err := g.DoFor(context.Background(), "acct", func() { t.Error("ran a second call for a key in the gate") }); !errors.Is(err, ErrBusy) {
		t.Fatalf("second call for the key: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("refused after %v, want at once", d)
	}
	if g.Busy() != 1 {
		t.Errorf("Busy %d, want 1", g.Busy())
	}
	ran := false
	if err := g.DoFor(context.Background(), "other", func() { ran = true }); err != nil || !ran {
		t.Fatalf("another key: %v ran %v", err, ran)
	}
	if g.InUse() != 1 {
		t.Errorf("InUse %d, want 1", g.InUse())
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for g.DoFor(context.Background(), "acct", func() {}) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the key was not freed")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestListenerCapsPerSource(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var refused atomic.Int32
	ln := Listener(raw, 1, func(a netip.Addr) bool { return a == netip.MustParseAddr("127.6.0.9") },
		func(netip.Addr) { refused.Add(1) })
	defer ln.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func(src string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err := d.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial("127.6.0.1")
	first := <-accepted
	over := dial("127.6.0.1")
	over.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := over.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("over-cap connection: %v, want closed", err)
	}
	if refused.Load() != 1 {
		t.Errorf("refused %d", refused.Load())
	}
	dial("127.6.0.9") // exempt
	dial("127.6.0.9")
	<-accepted
	<-accepted
	first.Close()
	first.Close() // a second Close gives nothing back twice
	dial("127.6.0.1")
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("a closed connection did not free its slot")
	}
	dial("127.6.0.1") // over the cap again: the double Close gave back one slot only
	deadline := time.Now().Add(5 * time.Second)
	for refused.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("slot given back twice: refused %d", refused.Load())
		}
		time.Sleep(time.Millisecond)
	}
}
