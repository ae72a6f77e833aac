package store

import (
	"fmt"
	"strings"
)

func auditKey(slug, id string) string { return "t/" + slug + "/audit/" + id }

// nextAuditID gives a time-ordered, strictly increasing id (nanoseconds, hex).
func (s *Store) nextAuditID() string {
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	n := s.now().UnixNano()
	if n <= s.lastSeq {
		n = s.lastSeq + 1
	}
	s.lastSeq = n
	return fmt.Sprintf("%016x", n)
}

// Audit appends an event to the tenant's audit log, in the transaction of the change it
// records (so the log never shows a change that did not happen, nor misses one).
func (tx *Tx) Audit(ev AuditEvent) error {
	if ev.Tenant == "" {
		return invalid("tenant", "audit event without tenant")
	}
	ev.ID = tx.s.nextAuditID()
	if ev.Time.IsZero() {
		ev.Time = tx.s.now().UTC()
	}
	return tx.put(auditKey(ev.Tenant, ev.ID), ev)
}

// AuditQuery selects audit events, newest first.
type AuditQuery struct {
	Cursor  string // an event id: list events older than it
	Limit   int
	Subject string // only events about this user id (as subject, actor or view-as target)
}

// AuditLog lists a tenant's events, newest first. With a Subject it walks the log until
// it has Limit matches (an admin view, not a hot path).
func (tx *Tx) AuditLog(slug string, q AuditQuery) ([]AuditEvent, error) {
	prefix := "t/" + slug + "/audit/"
	o := badgerReverse(prefix)
	it := tx.txn.NewIterator(o)
	defer it.Close()
	seek := prefix + "\xff"
	if q.Cursor != "" {
		seek = prefix + q.Cursor
	}
	var out []AuditEvent
	for it.Seek([]byte(seek)); it.ValidForPrefix([]byte(prefix)); it.Next() {
		key := string(it.Item().Key())
		if q.Cursor != "" && strings.TrimPrefix(key, prefix) >= q.Cursor {
			continue
		}
		var ev AuditEvent
		if err := it.Item().Value(func(b []byte) error { return decode(b, &ev) }); err != nil {
			return nil, err
		}
		if q.Subject != "" && ev.Subject != q.Subject && ev.ActorID != q.Subject && ev.ViewAs != q.Subject {
			continue
		}
		out = append(out, ev)
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
	}
	return out, nil
}
