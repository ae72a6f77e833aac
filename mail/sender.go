package mail

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/store"
)

// maxIdle is the longest the sender sleeps without looking at the outbox (mail queued by
// another process, a clock that jumped).
const maxIdle = time.Minute

// Run sends queued mail until ctx is cancelled, then returns nil. Without SMTP
// configured it only waits: mail stays in the outbox.
func (m *Mailer) Run(ctx context.Context) error {
	if m.server == nil {
		m.log.Info("no SMTP server configured: mail waits in the outbox")
		<-ctx.Done()
		return nil
	}
	m.log.Info("sending mail", "server", m.server.String())
	failing := false
	for {
		err := m.safeRound(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && !failing:
			// Logged once per outage, not per round; attempts are in the outbox.
			m.log.Warn("SMTP server not taking mail; it waits in the outbox", "server", m.server.String(), "err", err)
			failing = true
		case err == nil && failing:
			m.log.Info("SMTP server takes mail again", "server", m.server.String())
			failing = false
		}
		timer := time.NewTimer(m.idle())
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-m.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// errPanicked stands for a round that panicked (logged and counted by internal/crash).
var errPanicked = errors.New("mail round ended by a panic")

// safeRound is round with a panic contained: the mail stays in the outbox for the next.
func (m *Mailer) safeRound(ctx context.Context) (err error) {
	defer crash.RecoverWith(m.log, "mail", "send round", func() { err = errPanicked })
	return m.round(ctx)
}

// idle is how long to sleep until the next attempt falls due.
func (m *Mailer) idle() time.Duration {
	var at time.Time
	var ok bool
	if err := m.st.View(func(tx *store.Tx) error {
		var err error
		at, ok, err = tx.NextMailDue()
		return err
	}); err != nil || !ok {
		return maxIdle
	}
	return min(max(at.Sub(m.st.Now()), 0), maxIdle)
}

// backoff is the wait after the n-th failed attempt: MinBackoff doubled per further
// failure up to MaxBackoff, with up to 10% jitter so a queue does not retry in lockstep.
func (m *Mailer) backoff(n int) time.Duration {
	d := m.cfg.MinBackoff
	for i := 1; i < n && d < m.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, m.cfg.MaxBackoff)
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// round sends what is due over one session. It returns the error that stopped the
// session, if any (each mail's own failure is recorded in the outbox).
func (m *Mailer) round(ctx context.Context) error {
	var due []store.OutMail
	if err := m.st.View(func(tx *store.Tx) error {
		var err error
		due, err = tx.DueMail(m.st.Now(), m.cfg.Batch)
		return err
	}); err != nil || len(due) == 0 {
		return err
	}
	ss, err := m.open(ctx)
	if err != nil {
		if ctx.Err() == nil {
			for _, om := range due {
				m.failed(om, err)
			}
		}
		return err
	}
	defer ss.close()
	var lastErr error
	for _, om := range due {
		broken, err := m.deliver(ss, om)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			m.failed(om, err)
			lastErr = err
		}
		if broken {
			return err
		}
	}
	return lastErr
}

// deliver makes the mail's one-time link (if its body has a place for one), hands the
// message over, and removes it from the outbox once the server took it.
func (m *Mailer) deliver(ss *session, om store.OutMail) (broken bool, err error) {
	body := om.Body
	if strings.Contains(body, linkMarker) {
		var token string
		err := m.st.Update(func(tx *store.Tx) error {
			var err error
			token, _, err = tx.CreatePasswordLink(om.Tenant, om.UserID, om.Kind, m.cfg.LinkValid)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			// The user is gone (the delete hook removes their mail; this is a race).
			return false, m.st.Update(func(tx *store.Tx) error { return tx.MailSent(om.Tenant, om.ID) })
		}
		if err != nil {
			return false, err
		}
		body = strings.ReplaceAll(body, linkMarker, m.cfg.BaseURL+"/set-password?token="+url.QueryEscape(token))
	}
	msg := m.message(om, body, time.Now())
	if broken, err := ss.send(m.envelope, om.To, msg); err != nil {
		return broken, err
	}
	if err := m.st.Update(func(tx *store.Tx) error { return tx.MailSent(om.Tenant, om.ID) }); err != nil {
		m.log.Error("mail sent but not taken out of the outbox", "tenant", om.Tenant, "id", om.ID, "err", err)
	}
	m.sent.Add(1)
	m.log.Info("mail sent", "tenant", om.Tenant, "id", om.ID, "kind", om.Kind, "attempts", om.Attempts+1)
	return false, nil
}

// failed records a failed attempt and schedules the next one.
func (m *Mailer) failed(om store.OutMail, cause error) {
	m.failures.Add(1)
	reason := cause.Error()
	if len(reason) > 300 {
		reason = reason[:300]
	}
	next := m.st.Now().Add(m.backoff(om.Attempts + 1))
	err := m.st.Update(func(tx *store.Tx) error {
		_, err := tx.MailFailed(om.Tenant, om.ID, reason, next)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		m.log.Error("mail attempt not recorded", "tenant", om.Tenant, "id", om.ID, "err", err)
	}
}
