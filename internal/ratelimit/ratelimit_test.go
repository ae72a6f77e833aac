package ratelimit

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
)

func TestSourceGroupsIPv6By64(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"},
		{"fe80::1%eth0", "fe80::"},
	}
	for _, c := range cases {
		if got := Source(netip.MustParseAddr(c.in)); got != netip.MustParseAddr(c.want) {
			t.Errorf("Source(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	if Source(netip.MustParseAddr("2001:db8:1:2::1")) == Source(netip.MustParseAddr("2001:db8:1:3::1")) {
		t.Fatal("two /64s share a key")
	}
}

func TestStrikesBlockAtLimitAndExpire(t *testing.T) {
	t.Parallel()
	clk := &testkit.Clock{}
	s := NewStrikes[string](Policy{Limit: 3, Window: time.Minute, Block: 10 * time.Minute, MaxKeys: 10}, clk.Now)
	for range 2 {
		if s.Strike("a") {
			t.Fatal("blocked before the limit")
		}
	}
	if b, _ := s.Blocked("a"); b {
		t.Fatal("blocked after two strikes")
	}
	if !s.Strike("a") {
		t.Fatal("third strike did not start a block")
	}
	if b, until := s.Blocked("a"); !b || until.Before(clk.Now().Add(9*time.Minute)) {
		t.Fatalf("Blocked = %v until %v", b, until)
	}
	if s.Strike("a") {
		t.Fatal("a strike while blocked started a second block")
	}
	if b, _ := s.Blocked("b"); b {
		t.Fatal("another key is blocked")
	}
	clk.Advance(10 * time.Minute)
	if b, _ := s.Blocked("a"); b {
		t.Fatal("block outlived its time")
	}
}

func TestStrikesWindowRestarts(t *testing.T) {
	t.Parallel()
	clk := &testkit.Clock{}
	s := NewStrikes[string](Policy{Limit: 3, Window: time.Minute, Block: time.Hour, MaxKeys: 10}, clk.Now)
	s.Strike("a")
	s.Strike("a")
	clk.Advance(time.Minute)
	if s.Strike("a") {
		t.Fatal("strikes of an ended window still counted")
	}
}

func TestStrikesClearLiftsBlock(t *testing.T) {
	t.Parallel()
	s := NewStrikes[string](Policy{Limit: 1, Window: time.Minute, Block: time.Hour, MaxKeys: 10}, nil)
	s.Strike("a")
	s.Clear("a")
	if b, _ := s.Blocked("a"); b {
		t.Fatal("Clear left the block")
	}
}

func TestStrikeDistinctCountsNewTagsOnly(t *testing.T) {
	t.Parallel()
	s := NewStrikes[string](Policy{Limit: 3, Window: time.Minute, Block: time.Hour, MaxKeys: 10}, nil)
	for range 10 {
		if b, _ := s.StrikeDistinct("a", 1); b {
			t.Fatal("the same tag again and again blocked")
		}
	}
	s.StrikeDistinct("a", 2)
	b, started := s.StrikeDistinct("a", 3)
	if !b || !started {
		t.Fatalf("third distinct tag: blocked=%v started=%v", b, started)
	}
	if b, started := s.StrikeDistinct("a", 4); !b || started {
		t.Fatalf("while blocked: blocked=%v started=%v", b, started)
	}
}

func TestStrikesFullTableStaysBoundedAndKeepsBlocks(t *testing.T) {
	t.Parallel()
	clk := &testkit.Clock{}
	s := NewStrikes[int](Policy{Limit: 2, Window: time.Minute, Block: time.Hour, MaxKeys: 100}, clk.Now)
	s.Strike(-1)
	s.Strike(-1) // blocked
	for i := range 100_000 {
		s.Strike(i)
		if i%1000 == 0 {
			clk.Advance(time.Millisecond)
		}
	}
	if n := s.Len(); n > 100 {
		t.Fatalf("table grew to %d keys, cap 100", n)
	}
	if b, _ := s.Blocked(-1); !b {
		t.Fatal("a flood of new keys evicted a blocked one")
	}
}

func TestStrikesSweepFreesSpentEntries(t *testing.T) {
	t.Parallel()
	clk := &testkit.Clock{}
	s := NewStrikes[int](Policy{Limit: 5, Window: time.Minute, Block: time.Hour, MaxKeys: 10}, clk.Now)
	for i := range 10 {
		s.Strike(i)
	}
	clk.Advance(2 * time.Minute)
	s.Strike(100)
	if n := s.Len(); n != 1 {
		t.Fatalf("after the windows ended and a new key came, %d keys tracked, want 1", n)
	}
}

func TestConnsCapPerSource(t *testing.T) {
	t.Parallel()
	c := NewConns(2)
	a := netip.MustParseAddr("192.0.2.1")
	a6 := netip.MustParseAddr("2001:db8::1")
	a6b := netip.MustParseAddr("2001:db8::2") // same /64
	for range 2 {
		if !c.Acquire(a) {
			t.Fatal("refused below the cap")
		}
	}
	if c.Acquire(a) {
		t.Fatal("third connection allowed with a cap of 2")
	}
	if !c.Acquire(a6) || !c.Acquire(a6b) || c.Acquire(a6) {
		t.Fatal("an IPv6 /64 is not one source")
	}
	c.Release(a)
	if !c.Acquire(a) {
		t.Fatal("a released slot was not given back")
	}
	c.Release(a)
	c.Release(a)
	if n := c.Open(a); n != 0 {
		t.Fatalf("Open = %d after releasing all", n)
	}
	if len(c.m) != 1 {
		t.Fatalf("a source with no connection is still tracked: %v", c.m)
	}
}

func TestGateBoundsConcurrencyAndRefusesAfterPatience(t *testing.T) {
	t.Parallel()
	g := NewGate(2, 50*time.Millisecond)
	var running, peak atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = g.Do(context.Background(), func() {
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				<-release
				running.Add(-1)
			})
		}()
	}
	testkit.Eventually(t, 5*time.Second, "the two operations to start", func() bool { return running.Load() >= 2 })
	ran := false
	if err := g.Do(context.Background(), func() { ran = true }); !errors.Is(err, ErrBusy) || ran {
		t.Fatalf("full gate: err=%v ran=%v", err, ran)
	}
	close(release)
	wg.Wait()
	if peak.Load() != 2 {
		t.Fatalf("peak concurrency %d, want 2", peak.Load())
	}
	if err := g.Do(context.Background(), func() { ran = true }); err != nil || !ran {
		t.Fatalf("free gate: err=%v ran=%v", err, ran)
	}
}

// Blocks started are counted under the policy's name, once per block (not per strike
// against a blocked key), from 0 when the Strikes is made.
func TestBlocksStartedCountedByName(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	s := NewStrikes[string](Policy{Limit: 2, Window: time.Minute, Block: time.Minute, MaxKeys: 10, Name: "test-blocks"},
		func() time.Time { return now })
	if n, ok := BlocksStarted()["test-blocks"]; !ok || n != 0 {
		t.Fatalf("before any block: %v %v", n, ok)
	}
	for range 5 {
		s.Strike("a")
	}
	s.Attempt("b")
	s.Attempt("b")
	if n := BlocksStarted()["test-blocks"]; n != 2 {
		t.Errorf("%v blocks counted, want 2", n)
	}
	if _, ok := BlocksStarted()[""]; ok {
		t.Error("an unnamed policy is counted")
	}
}
