package mail

import (
	"time"

	"github.com/dialtone/dialtone/store"
)

// Stats is the outbox as metrics see it.
type Stats struct {
	Sent, Failures uint64 // delivery attempts since start that the server took, and did not
	Queued         int    // mails waiting in every tenant's outbox
	// OldestDue is when the earliest queued attempt fell (or falls) due; zero when the
	// outbox is empty. A due time long past with mail queued is a stuck queue.
	OldestDue time.Time
}

// Stats reads the counts and the outbox (a keys-only scan of the due index).
func (m *Mailer) Stats() (Stats, error) {
	s := Stats{Sent: m.sent.Load(), Failures: m.failures.Load()}
	err := m.st.View(func(tx *store.Tx) error {
		var err error
		s.Queued, s.OldestDue, err = tx.MailQueued()
		return err
	})
	return s, err
}
