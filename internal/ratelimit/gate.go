package ratelimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ErrBusy: the gate stayed full for longer than its patience. HTTP answers it with 429
// and Retry-After, LDAP with busy, so a flood is told no at once instead of queueing
// without end.
var ErrBusy = errors.New("busy: too many requests of this kind at once, try again shortly")

// Gate bounds how many expensive operations run at once.
type Gate struct {
	slots    chan struct{}
	patience time.Duration

	mu   sync.Mutex
	keys map[string]struct{} // keys with a call in the gate (DoFor)

	busy atomic.Uint64 // calls answered ErrBusy (Busy)
}

// NewGate lets n operations run at once; a caller waits at most patience for a slot.
func NewGate(n int, patience time.Duration) *Gate {
	if n < 1 {
		n = 1
	}
	return &Gate{slots: make(chan struct{}, n), patience: patience, keys: make(map[string]struct{})}
}

// Size is how many operations may run at once.
func (g *Gate) Size() int { return cap(g.slots) }

// Patience is how long Do waits for a slot; a refusal may name it as Retry-After.
func (g *Gate) Patience() time.Duration { return g.patience }

// Do runs f when a slot is free, or answers ErrBusy (or ctx's error) without running it.
func (g *Gate) Do(ctx context.Context, f func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		t := time.NewTimer(g.patience)
		defer t.Stop()
		select {
		case g.slots <- struct{}{}:
		case <-t.C:
			g.busy.Add(1)
			return ErrBusy
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-g.slots }()
	f()
	return nil
}

// DoFor is Do on behalf of key (an account): a key has at most one call in the gate,
// running or waiting, and a second call for it while the first is there is refused
// ErrBusy at once. So a flood aimed at one key holds at most one of the gate's slots,
// whatever number of sources it comes from, and answers its excess without waiting.
// An empty key is plain Do.
func (g *Gate) DoFor(ctx context.Context, key string, f func()) error {
	if key == "" {
		return g.Do(ctx, f)
	}
	g.mu.Lock()
	if _, busy := g.keys[key]; busy {
		g.mu.Unlock()
		g.busy.Add(1)
		return ErrBusy
	}
	g.keys[key] = struct{}{}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.keys, key)
		g.mu.Unlock()
	}()
	return g.Do(ctx, f)
}

// Busy is how many calls were answered ErrBusy.
func (g *Gate) Busy() uint64 { return g.busy.Load() }

// InUse is how many operations run now.
func (g *Gate) InUse() int { return len(g.slots) }
