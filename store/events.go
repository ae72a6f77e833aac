package store

import (
	"sync"

	"github.com/dialtone/dialtone/internal/crash"
)

// Kind names a kind of record in change events.
type Kind string

const (
	KindTenant     Kind = "tenant"
	KindDepartment Kind = "department"
	KindUser       Kind = "user"
	KindExtension  Kind = "extension"
	KindNumber     Kind = "number"
	KindPhone      Kind = "phone"
	KindDiscovered Kind = "discovered"
	KindFlex       Kind = "flex"
	KindBinding    Kind = "binding"
	KindTemplate   Kind = "template"
	KindFirmware   Kind = "firmware"
	KindSetting    Kind = "setting"
	KindDeviceCA   Kind = "device_ca"
	KindUpstream   Kind = "upstream"
)

// Op says what happened to a record.
type Op uint8

const (
	OpPut Op = iota + 1
	OpDelete
	// OpReload (Kind, Tenant and ID empty) tells a subscriber that it missed a change:
	// its callback panicked on one. It should load what it keeps from the store again.
	// Every subscriber gets it whatever kinds it asked for; it comes before the next
	// change, and again until the callback takes it without a panic.
	OpReload
)

// Change is one committed change to one record. Old and New hold the record before and
// after (nil when absent), as a value of the record's type (Tenant, User, Phone, …).
type Change struct {
	Kind   Kind
	Op     Op
	Tenant string
	ID     string // user id, department id, extension number, e164, MAC, …
	Old    any
	New    any
}

type subscription struct {
	kinds  map[Kind]bool
	fn     func(Change)
	missed bool // its callback panicked: owes an OpReload (only touched in publish's turn)
}

// Subscribe calls fn for every committed change of the given kinds (all kinds when none
// are given), synchronously after the commit and before the writer returns, in commit
// order: one change at a time, the changes of an earlier commit before those of a later
// one, so the last New a subscriber sees for a record is the stored one. fn must be quick
// and must not write to the store (the writer would wait for itself); hand slow work to
// a goroutine. A panic in fn is contained (internal/crash); fn then gets OpReload.
// The returned function ends the subscription.
func (s *Store) Subscribe(fn func(Change), kinds ...Kind) (cancel func()) {
	sub := &subscription{fn: fn}
	if len(kinds) > 0 {
		sub.kinds = make(map[Kind]bool, len(kinds))
		for _, k := range kinds {
			sub.kinds[k] = true
		}
	}
	s.subMu.Lock()
	s.subs = append(s.subs, sub)
	s.subMu.Unlock()
	return func() {
		s.subMu.Lock()
		defer s.subMu.Unlock()
		for i, x := range s.subs {
			if x == sub {
				s.subs = append(s.subs[:i:i], s.subs[i+1:]...)
				return
			}
		}
	}
}

// Emit records a change to publish when the transaction commits. Packages that add their
// own records to the store (bindings, flex sessions) use it too.
func (tx *Tx) Emit(c Change) { tx.changes = append(tx.changes, c) }

// publish runs in its commit's turn (publishOrder), so subscribers are called by one
// writer at a time.
func (s *Store) publish(changes []Change) {
	if len(changes) == 0 {
		return
	}
	s.subMu.RLock()
	subs := s.subs
	s.subMu.RUnlock()
	for _, c := range changes {
		for _, sub := range subs {
			if sub.kinds == nil || sub.kinds[c.Kind] {
				if sub.missed && s.deliver(sub, Change{Op: OpReload}) {
					sub.missed = false
				}
				if !s.deliver(sub, c) {
					sub.missed = true
				}
			}
		}
	}
	// A subscriber whose callback failed on this commit's last change reloads now, not
	// at the next change of its kinds (which may be long in coming).
	for _, sub := range subs {
		if sub.missed && s.deliver(sub, Change{Op: OpReload}) {
			sub.missed = false
		}
	}
}

// deliver calls a subscriber and reports whether it returned (false: it panicked).
func (s *Store) deliver(sub *subscription, c Change) (ok bool) {
	defer crash.Recover(s.log, "store", "change subscriber")
	sub.fn(c)
	return true
}

// publishOrder hands each commit that has changes a ticket in the order Badger commits
// them, and lets the tickets publish one at a time in that order. Two quick writes of one
// record so reach every subscriber oldest first, whichever writer returns first.
type publishOrder struct {
	commit sync.Mutex // held while Badger takes the commit timestamp: tickets follow it
	next   uint64     // the next ticket to hand out

	mu   sync.Mutex
	cond sync.Cond
	turn uint64 // the ticket whose changes go out now
}

// commitInOrder commits tx and, when the commit took, makes it durable as asked and
// publishes its changes in commit order. committed is false when Badger refused the
// commit (a conflict, to retry); err is then the commit's error.
func (s *Store) commitInOrder(tx *Tx, durable bool) (committed bool, err error) {
	o := &s.order
	done := make(chan error, 1)
	o.commit.Lock()
	// CommitWith takes the commit timestamp and queues the write before it returns, so the
	// ticket taken under the same lock orders publications as Badger orders commits.
	tx.txn.CommitWith(func(err error) { done <- err })
	ticket := o.next
	o.next++
	o.commit.Unlock()
	err = <-done
	var changes []Change
	if err == nil {
		committed = true
		err = s.syncIf(durable)
		changes = tx.changes
	}
	o.inTurn(ticket, func() { s.publish(changes) })
	return committed, err
}

// inTurn waits for ticket's turn, runs fn and passes the turn on (also when fn panics:
// publish contains subscribers' panics, but a stuck turn would stop every writer).
func (o *publishOrder) inTurn(ticket uint64, fn func()) {
	o.mu.Lock()
	if o.cond.L == nil {
		o.cond.L = &o.mu
	}
	for o.turn != ticket {
		o.cond.Wait()
	}
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.turn++
		o.cond.Broadcast()
		o.mu.Unlock()
	}()
	fn()
}
