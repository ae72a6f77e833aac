package flex

import (
	"errors"
	"sync/atomic"
)

// counts are what the desk counts for metrics, from committed logins only.
type counts struct {
	ok, wrongPIN, locked, locks atomic.Uint64
}

func (c *counts) done(outcome error, locks int) {
	switch {
	case outcome == nil:
		c.ok.Add(1)
	case errors.Is(outcome, ErrLocked):
		c.locked.Add(1)
	default:
		c.wrongPIN.Add(1)
	}
	c.locks.Add(uint64(locks))
}

// Stats is what the desk counts since it was made.
type Stats struct {
	// Logins by outcome: ok, wrong_pin (a wrong or unknown extension or PIN), locked
	// (refused: the source or the extension is locked).
	Logins map[string]uint64
	// LocksStarted counts locks begun by a wrong PIN, of a source or an extension.
	LocksStarted uint64
}

// Stats reads the counts.
func (d *Desk) Stats() Stats {
	return Stats{Logins: map[string]uint64{"ok": d.counts.ok.Load(), "wrong_pin": d.counts.wrongPIN.Load(),
		"locked": d.counts.locked.Load()}, LocksStarted: d.counts.locks.Load()}
}
