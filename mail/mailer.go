package mail

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/dialtone/dialtone/store"
)

// Config is what New needs. Store is required; everything else has a default.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	// SMTP is smtp://[user:pass@]host[:port] (STARTTLS when the server offers it) or
	// smtps://… (implicit TLS). Empty: mail waits in the outbox.
	SMTP string
	// From is the sender of every mail (default dialtone@localhost).
	From string
	// BaseURL is where users open links: {BaseURL}/set-password?token=….
	BaseURL string
	// Overrides, when set, holds template files that win over the built-in ones by name.
	// Nil: {data}/templates/mail/ of the store's data directory, when it has one.
	Overrides fs.FS
	// TLS is the client configuration for STARTTLS and smtps (nil: system roots, the
	// server's host name). Tests give one that trusts their own certificate.
	TLS *tls.Config
	// DialTimeout bounds connecting (default 10s); StepTimeout every read or write of the
	// session (default 30s); SessionTimeout one whole session (default 5 min).
	DialTimeout, StepTimeout, SessionTimeout time.Duration
	// MinBackoff is the wait after the first failed attempt, doubled after each further
	// one up to MaxBackoff (defaults 30s and 1h).
	MinBackoff, MaxBackoff time.Duration
	// LinkValid is the life of a set-password link (default 72h).
	LinkValid time.Duration
	// Batch is how many mails one session sends at most (default 100).
	Batch int
}

// Mailer queues mail in the store and sends it. It satisfies admin.Outbox and
// admin.Welcomer (welcome and reset mails); Run is its service.
type Mailer struct {
	cfg       Config
	st        *store.Store
	log       *slog.Logger
	server    *smtpServer // nil: no SMTP configured
	from      string      // header From
	envelope  string      // MAIL FROM
	domain    string
	overrides fs.FS
	wake      chan struct{}
	// sent and failures count delivery attempts since start (Stats).
	sent, failures atomic.Uint64
}

// New checks the configuration and builds the mailer.
func New(cfg Config) (*Mailer, error) {
	if cfg.Store == nil {
		return nil, errors.New("mail: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.DialTimeout, 10*time.Second)
	def(&cfg.StepTimeout, 30*time.Second)
	def(&cfg.SessionTimeout, 5*time.Minute)
	def(&cfg.MinBackoff, 30*time.Second)
	def(&cfg.MaxBackoff, time.Hour)
	def(&cfg.LinkValid, 72*time.Hour)
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.From == "" {
		cfg.From = "dialtone@localhost"
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail-from %q: not an address", cfg.From)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	m := &Mailer{cfg: cfg, st: cfg.Store, log: cfg.Logger, from: from.String(),
		wake: make(chan struct{}, 1), overrides: cfg.Overrides}
	m.envelope = from.Address
	m.domain = "localhost"
	if _, d, ok := strings.Cut(from.Address, "@"); ok && d != "" {
		m.domain = d
	}
	if cfg.SMTP != "" {
		if m.server, err = parseSMTP(cfg.SMTP); err != nil {
			return nil, err
		}
	}
	if m.overrides == nil && cfg.Store.Dir() != "" {
		dir := filepath.Join(cfg.Store.Dir(), "templates", "mail")
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("mail templates: %w", err)
		}
		m.overrides = os.DirFS(dir)
	}
	return m, nil
}

// poke wakes the sender without waiting.
func (m *Mailer) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// QueueWelcome queues the welcome mail of a user with an email: their login name, the
// tenant's name, their extensions and (made when sent) a one-time link to set their
// password, in their language. It never waits for SMTP.
func (m *Mailer) QueueWelcome(tenant, userID string) error {
	return m.queue(tenant, userID, KindWelcome)
}

// QueueReset queues the reset mail of a user with an email, after an admin reset their
// password: their login name and (made when sent) a one-time link to choose a new one,
// the same 72-hour single-use link as the welcome mail's, in their language. It never
// waits for SMTP.
func (m *Mailer) QueueReset(tenant, userID string) error {
	return m.queue(tenant, userID, KindReset)
}

// The kinds of mail, each with its templates ({kind}.{lang}.txt); the kind is also the
// purpose of the link the mail carries.
const (
	KindWelcome = "welcome"
	KindReset   = "reset"
)

// queue renders a mail of kind for a user and puts it in the outbox.
func (m *Mailer) queue(tenant, userID, kind string) error {
	return m.queueAll(tenant, []string{userID}, kind)[userID]
}

// QueueWelcomes queues the welcome mails of many users at once (a CSV import's): all
// rendered in one read of the store, written mailBatch to a transaction instead of one
// transaction each. It answers, per user whose mail was not queued, why; the others
// are queued whatever happened to them.
func (m *Mailer) QueueWelcomes(tenant string, userIDs []string) map[string]error {
	return m.queueAll(tenant, userIDs, KindWelcome)
}

// mailBatch bounds the mails written in one transaction (a few KiB each: far below
// BadgerDB's limit on a transaction's size).
const mailBatch = 500

func (m *Mailer) queueAll(tenant string, userIDs []string, kind string) map[string]error {
	failed := map[string]error{}
	mails := make([]store.OutMail, 0, len(userIDs))
	// Templates and the language each is in (English when the asked one has none), by
	// the language asked for: loaded once per import, not once per user.
	templates, langOf := map[string]*template.Template{}, map[string]string{}
	err := m.st.View(func(tx *store.Tx) error {
		t, err := tx.Tenant(tenant)
		if err != nil {
			return err
		}
		for _, id := range userIDs {
			om, err := m.compose(tx, t, id, kind, templates, langOf)
			if err != nil {
				failed[id] = err
				continue
			}
			mails = append(mails, om)
		}
		return nil
	})
	if err != nil {
		for _, id := range userIDs {
			failed[id] = err
		}
		return failed
	}
	for len(mails) > 0 {
		chunk := mails[:min(len(mails), mailBatch)]
		mails = mails[len(chunk):]
		if err := m.write(chunk); err != nil {
			// One mail the store refuses must not cost the others theirs: one by one.
			for i := range chunk {
				if err := m.write(chunk[i : i+1]); err != nil {
					failed[chunk[i].UserID] = err
				}
			}
		}
	}
	if len(failed) < len(userIDs) {
		m.poke()
	}
	return failed
}

// write puts mails in the outbox in one transaction, all or none. Lazily durable: a
// CSV import queues thousands and must not wait for a disk sync each; a power cut in
// that instant loses mail an admin can resend, never a user.
func (m *Mailer) write(mails []store.OutMail) error {
	err := m.st.UpdateLazy(func(tx *store.Tx) error {
		for i := range mails {
			om, err := tx.QueueMail(mails[i])
			if err != nil {
				return err
			}
			mails[i] = om
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, om := range mails {
		m.log.Debug("mail queued", "tenant", om.Tenant, "user", om.UserID, "kind", om.Kind, "id", om.ID)
	}
	return nil
}

// compose renders one user's mail of kind. Templates are loaded once per language
// (templates and langOf carry them from one user to the next).
func (m *Mailer) compose(tx *store.Tx, t store.Tenant, userID, kind string, templates map[string]*template.Template, langOf map[string]string) (store.OutMail, error) {
	u, err := tx.User(t.Slug, userID)
	if err != nil {
		return store.OutMail{}, err
	}
	if u.Email == "" {
		return store.OutMail{}, fmt.Errorf("user %s has no email: %w", userID, store.ErrInvalid)
	}
	want := chooseLanguage(tx, u, t)
	tmpl, ok := templates[want]
	if !ok {
		var lang string
		if tmpl, lang, err = m.loadTemplate(kind, want); err != nil {
			return store.OutMail{}, err
		}
		templates[want], langOf[want] = tmpl, lang
	}
	name := t.Name
	if name == "" {
		name = t.Slug
	}
	subject, body, err := render(tmpl, welcomeData{
		FirstName: u.FirstName, LastName: u.LastName, Name: u.DisplayName(), Login: u.Email,
		Tenant: name, TenantSlug: t.Slug, Extensions: u.Extensions, Link: linkMarker,
		ValidHours: int(m.cfg.LinkValid / time.Hour),
	})
	if err != nil {
		return store.OutMail{}, err
	}
	return store.OutMail{Tenant: t.Slug, UserID: u.ID, Kind: kind, Language: langOf[want],
		To: u.Email, Subject: subject, Body: body}, nil
}

// Outbox lists a tenant's mail not yet handed to an SMTP server, oldest first. Bodies
// show where the link will go, never a token.
func (m *Mailer) Outbox(tenant, cursor string, limit int) (any, string, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var items []store.OutMail
	err := m.st.View(func(tx *store.Tx) error {
		var err error
		items, err = tx.Outbox(tenant, cursor, limit+1)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = items[limit-1].ID
	}
	for i := range items {
		items[i].Body = strings.ReplaceAll(items[i].Body, linkMarker, linkShown)
	}
	if items == nil {
		items = []store.OutMail{}
	}
	return items, next, nil
}
