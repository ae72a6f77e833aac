package mail

import (
	"time"

	"github.com/dialtone/dialtone/store"
)

// Stats is the delivery attempts since start as metrics see them: no store read.
type Stats struct {
	Sent, Failures uint64 // attempts the server took, and did not
}

// Stats gives the delivery counts.
func (m *Mailer) Stats() Stats {
	return Stats{Sent: m.sent.Load(), Failures: m.failures.Load()}
}

// Queue reads the outbox (a keys-only scan of the due index): how many mails wait in
// every tenant's outbox, and when the earliest queued attempt fell (or falls) due, zero
// when the outbox is empty. A due time long past with mail queued is a stuck queue.
func (m *Mailer) Queue() (queued int, oldestDue time.Time, err error) {
	err = m.st.View(func(tx *store.Tx) error {
		queued, oldestDue, err = tx.MailQueued()
		return err
	})
	return queued, oldestDue, err
}
