package flex

import (
	"context"
	"time"

	"github.com/dialtone/dialtone/store"
)

// autoLogoutEvery is how often the loop looks for sessions past their end.
const autoLogoutEvery = 30 * time.Second

// Run logs out, at each tick, every session whose auto-logout time has come, until ctx is
// cancelled.
func (d *Desk) Run(ctx context.Context) error {
	t := time.NewTicker(autoLogoutEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if n, err := d.AutoLogout(ctx); err != nil {
				d.log.Error("auto-logout", "err", err)
			} else if n > 0 {
				d.log.Info("auto-logout", "sessions", n)
			}
		}
	}
}

// AutoLogout ends every session due by the Desk's clock and returns how many it ended.
// It reads only the due part of the store's auto-logout queue.
func (d *Desk) AutoLogout(ctx context.Context) (int, error) {
	n := 0
	for {
		var due []store.FlexSession
		err := d.st.View(func(tx *store.Tx) (err error) {
			due, err = tx.DueFlex(d.now(), 256)
			return err
		})
		if err != nil || len(due) == 0 {
			return n, err
		}
		for _, s := range due {
			err := d.st.Update(func(tx *store.Tx) error {
				cur, err := tx.Flex(s.Tenant, s.MAC)
				if err != nil || cur.UserID != s.UserID || !cur.Since.Equal(s.Since) {
					return nil // already gone or replaced by a newer login
				}
				if _, err := tx.EndFlex(s.Tenant, s.MAC); err != nil {
					return err
				}
				return d.audit(tx, s.Tenant, "flex.logout", s.MAC, s.UserID, Via{How: "auto"}, map[string]any{"until": s.Until})
			})
			if err != nil {
				return n, err
			}
			n++
		}
		if ctx.Err() != nil {
			return n, nil
		}
	}
}
