package admin

import (
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

// heldMail is a mailer whose reset mails wait until the test lets them go.
type heldMail struct {
	fakeMail
	asked   chan string
	release chan struct{}
}

func (h *heldMail) QueueReset(tenant, id string) error {
	h.asked <- tenant + "/" + id
	<-h.release
	return h.fakeMail.QueueReset(tenant, id)
}

// TestForgotPasswordAnswersBeforeMailing: the answer to a forgot-password ask for an
// address with an account does not wait for its mail to be queued and audited (store
// writes an unknown address never costs), so its timing tells nothing; the mail and
// its audit event follow.
func TestForgotPasswordAnswersBeforeMailing(t *testing.T) {
	t.Parallel()
	hm := &heldMail{asked: make(chan string, 4), release: make(chan struct{})}
	e := newEnv(t, func(c *Config) { c.Welcome = hm })
	u := e.user("default", store.RoleUser, "", func(n *store.NewUser) { n.Email = "fay@example.com" })
	answered := make(chan int, 1)
	go func() {
		answered <- e.do("", "POST", "/api/v1/auth/forgot-password", map[string]string{"email": "fay@example.com"}).status
	}()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	select {
	case code := <-answered:
		if code != 202 {
			t.Fatalf("answer %d, want 202", code)
		}
	case <-deadline.C:
		close(hm.release)
		t.Fatal("the answer waited for the reset mail to be queued")
	}
	if got := <-hm.asked; got != "default/"+u.ID {
		t.Fatalf("reset mail for %s, want default/%s", got, u.ID)
	}
	close(hm.release)
	waitUntil := time.Now().Add(10 * time.Second)
	for {
		n := 0
		for _, ev := range e.auditEvents("default") {
			if ev.Action == "auth.forgot_password" && ev.Subject == u.ID && ev.Source != "" {
				n++
			}
		}
		if n == 1 && len(hm.queued()) == 1 {
			break
		}
		if time.Now().After(waitUntil) {
			t.Fatalf("after the mail went: %d audit events, queued %v", n, hm.queued())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
