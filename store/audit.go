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
		if !q.Since.IsZero() && ev.Time.Before(q.Since) {
			break // newest first: the rest is older still
		}
		if q.Subject != "" && ev.Subject != q.Subject && ev.ActorID != q.Subject && ev.ViewAs != q.Subject {
			continue
		}
		if (q.Action != "" && !strings.HasPrefix(ev.Action, q.Action)) || (!q.Until.IsZero() && ev.Time.After(q.Until)) {
			continue
		}
		out = append(out, ev)
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
	}
	return out, nil
}

// auditSweepBatch bounds one sweep transaction (Badger's transaction size limit).
const auditSweepBatch = 1000

// SweepAudit deletes the audit events older than their tenant's retention
// (audit_retention_days, default 400) and answers how many went. Event ids are times, so a
// sweep reads only the keys it deletes and the first one it keeps.
func (s *Store) SweepAudit(now time.Time) (int, error) {
	tenants, err := s.Tenants()
	if err != nil {
		return 0, err
	}
	total := 0
	for _, t := range tenants {
		cutoff := fmt.Sprintf("%016x", now.Add(-t.AuditRetention()).UnixNano())
		for {
			n := 0
			err := s.Update(func(tx *Tx) error {
				n = 0
				prefix := "t/" + t.Slug + "/audit/"
				var old []string
				err := tx.scan(prefix, "", true, func(key string, _ *badgerItem) (bool, error) {
					if strings.TrimPrefix(key, prefix) >= cutoff {
						return false, nil
					}
					old = append(old, key)
					return len(old) < auditSweepBatch, nil
				})
				if err != nil {
					return err
				}
				for _, k := range old {
					if err := tx.del(k); err != nil {
						return err
					}
				}
				n = len(old)
				return nil
			})
			if err != nil {
				return total, err
			}
			total += n
			if n < auditSweepBatch {
				break
			}
		}
	}
	return total, nil
}

// AuditSweepEvery is how often RunAuditSweep sweeps.
const AuditSweepEvery = time.Hour

// RunAuditSweep sweeps the audit log at start and then every AuditSweepEvery until ctx
// is cancelled, so the log cannot grow without end (guessing PINs or passwords writes to it).
func (s *Store) RunAuditSweep(ctx context.Context) error {
	t := time.NewTicker(AuditSweepEvery)
	defer t.Stop()
	for {
		if n, err := s.SweepAudit(s.now()); err != nil {
			s.log.Error("audit retention sweep", "err", err)
		} else if n > 0 {
			s.log.Info("audit retention sweep", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
