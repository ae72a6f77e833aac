package ratelimit

import (
	"context"
	"errors"
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
}

// NewGate lets n operations run at once; a caller waits at most patience for a slot.
func NewGate(n int, patience time.Duration) *Gate {
	if n < 1 {
		n = 1
	}
	return &Gate{slots: make(chan struct{}, n), patience: patience}
}

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
			return ErrBusy
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-g.slots }()
	f()
	return nil
}
