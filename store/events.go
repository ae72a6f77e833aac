package store

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
)

// Op says what happened to a record.
type Op uint8

const (
	OpPut Op = iota + 1
	OpDelete
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
	kinds map[Kind]bool
	fn    func(Change)
}

// Subscribe calls fn for every committed change of the given kinds (all kinds when none
// are given), synchronously after the commit and before the writer returns, in commit
// order. fn must be quick and must not write to the store; hand slow work to a goroutine.
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
				sub.fn(c)
			}
		}
	}
}
