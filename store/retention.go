package store

import (
	"context"
	"strings"
	"time"
)

// sweepBatch bounds one sweep transaction (Badger's transaction size limit).
const sweepBatch = 1000

// SweepEvery is how often the retention sweeps (RunAuditSweep, RunCallSweep) run.
const SweepEvery = time.Hour

// sweepOld deletes, tenant by tenant, the records of a section (keys
// t/{slug}/{section}/{id}, ids sorting by time) whose id sorts before the tenant's
// cutoff, sweepBatch a transaction; drop deletes one record and whatever indexes it
// (given its value when withValue). It answers how many records went.
func (s *Store) sweepOld(now time.Time, section string, withValue bool,
	cutoff func(t Tenant, now time.Time) string,
	drop func(tx *Tx, slug, id string, value []byte) error) (int, error) {
	tenants, err := s.Tenants()
	if err != nil {
		return 0, err
	}
	type record struct {
		id    string
		value []byte
	}
	total := 0
	for _, t := range tenants {
		prefix := "t/" + t.Slug + "/" + section + "/"
		before := cutoff(t, now)
		for {
			n := 0
			err := s.Update(func(tx *Tx) error {
				var old []record
				err := tx.scan(prefix, "", !withValue, func(key string, item *badgerItem) (bool, error) {
					id := strings.TrimPrefix(key, prefix)
					if id >= before {
						return false, nil
					}
					r := record{id: id}
					if withValue {
						v, err := item.ValueCopy(nil)
						if err != nil {
							return false, err
						}
						r.value = v
					}
					old = append(old, r)
					return len(old) < sweepBatch, nil
				})
				if err != nil {
					return err
				}
				for _, r := range old {
					if err := drop(tx, t.Slug, r.id, r.value); err != nil {
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
			if n < sweepBatch {
				break
			}
		}
	}
	return total, nil
}

// runSweep runs sweep at start and then every SweepEvery until ctx is cancelled,
// logging what it deleted (as what) and any failure.
func (s *Store) runSweep(ctx context.Context, what string, sweep func(now time.Time) (int, error)) error {
	t := time.NewTicker(SweepEvery)
	defer t.Stop()
	for {
		if n, err := sweep(s.now()); err != nil {
			s.log.Error(what, "err", err)
		} else if n > 0 {
			s.log.Info(what, "deleted", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
