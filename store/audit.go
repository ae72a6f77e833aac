package store

import (
	"context"
	"fmt"
	"strings"
	"time"
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
	Action  string // only actions starting with this ("user." or "user.update")
	Since   time.Time
	Until   time.Time // only events in [Since, Until] (zero: open)
	// Match, when set, keeps only the events it accepts (a caller's scope).
	Match func(AuditEvent) bool
	// MaxScan, when set, bounds the events read for one answer, whatever the filters
	// leave out: past it, the walk stops and says where to resume (AuditLogResume).
	MaxScan int
}

// AuditLog lists a tenant's events, newest first. With filters it walks the log until
// it has Limit matches, or MaxScan events were read.
func (tx *Tx) AuditLog(slug string, q AuditQuery) ([]AuditEvent, error) {
	out, _, err := tx.AuditLogResume(slug, q)
	return out, err
}

// AuditLogResume is AuditLog that also tells, when q.MaxScan events were read before
// q.Limit matched, the id of the last one read: a cursor to go on from ("" when the log
// ended or the page filled up).
func (tx *Tx) AuditLogResume(slug string, q AuditQuery) (out []AuditEvent, resume string, err error) {
	prefix := "t/" + slug + "/audit/"
	o := badgerReverse(prefix)
	it := tx.txn.NewIterator(o)
	defer it.Close()
	seek := prefix + "\xff"
	if q.Cursor != "" {
		seek = prefix + q.Cursor
	}
	scanned := 0
	for it.Seek([]byte(seek)); it.ValidForPrefix([]byte(prefix)); it.Next() {
		key := string(it.Item().Key())
		id := strings.TrimPrefix(key, prefix)
		if q.Cursor != "" && id >= q.Cursor {
			continue
		}
		if q.MaxScan > 0 && scanned >= q.MaxScan {
			return out, resume, nil
		}
		scanned++
		resume = id
		var ev AuditEvent
		if err := it.Item().Value(func(b []byte) error { return decode(b, &ev) }); err != nil {
			return nil, "", err
		}
		if !q.Since.IsZero() && ev.Time.Before(q.Since) {
			break // newest first: the rest is older still
		}
		if q.Subject != "" && ev.Subject != q.Subject && ev.ActorID != q.Subject && ev.ViewAs != q.Subject {
			continue
		}
		if (q.Action != "" && !strings.HasPrefix(ev.Action, q.Action)) || (!q.Until.IsZero() && ev.Time.After(q.Until)) {
			continue
		}
		if q.Match != nil && !q.Match(ev) {
			continue
		}
		out = append(out, ev)
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
	}
	return out, "", nil
}

// SweepAudit deletes the audit events older than their tenant's retention
// (audit_retention_days, default 400) and answers how many went. Event ids are times, so a
// sweep reads only the keys it deletes and the first one it keeps.
func (s *Store) SweepAudit(now time.Time) (int, error) {
	return s.sweepOld(now, "audit", false,
		func(t Tenant, now time.Time) string {
			return fmt.Sprintf("%016x", now.Add(-t.AuditRetention()).UnixNano())
		},
		func(tx *Tx, slug, id string, _ []byte) error { return tx.del("t/" + slug + "/audit/" + id) })
}

// RunAuditSweep sweeps the audit log at start and then every SweepEvery until ctx is
// cancelled.
func (s *Store) RunAuditSweep(ctx context.Context) error {
	return s.runSweep(ctx, "audit retention sweep", s.SweepAudit)
}
