package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Mail waiting for an SMTP server, and one-time links (set your password):
//
//	t/{slug}/mail/{id}                       OutMail  (until an SMTP server took it)
//	maildue/{next-attempt-unixnano-hex}/{slug}/{id}  -> ""  (the send queue, in time order)
//	t/{slug}/usermail/{user-id}/{id}         -> ""   (a user's queued mail, for delete)
//	link/{sha256(token)}                     PasswordLink (TTL: validity + LinkGrace)
//	t/{slug}/userlink/{user-id}/{sha256}     -> ""   (same TTL; a user's links, for delete)
//
// A link's token is never stored: only its hash. Mail bodies are stored without the link
// (the sender makes the link when it hands the mail over), so the outbox never holds a
// usable token nor any password.

// OutMail is one mail not yet handed to an SMTP server.
type OutMail struct {
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant"`
	UserID      string    `json:"user_id,omitempty"`
	Kind        string    `json:"kind"` // "welcome", "reset"
	Language    string    `json:"language,omitempty"`
	To          string    `json:"to"`
	Subject     string    `json:"subject"`
	Body        string    `json:"body"`
	Created     time.Time `json:"created"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

// PasswordLink is a one-time link that lets a user set their password.
type PasswordLink struct {
	TokenHash string    `json:"-"`
	Tenant    string    `json:"tenant"`
	UserID    string    `json:"user_id"`
	Purpose   string    `json:"purpose"` // "welcome", "reset"
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	Used      time.Time `json:"used,omitzero"`
}

// LinkGrace is how long a used or expired link is remembered, so that it is answered
// "gone" rather than "unknown".
const LinkGrace = 7 * 24 * time.Hour

// ErrLinkGone: the link was used, has expired, or never existed (410 at the API).
var ErrLinkGone = errors.New("this link was used or has expired")

func mailKey(slug, id string) string          { return "t/" + slug + "/mail/" + id }
func userMailKey(slug, uid, id string) string { return "t/" + slug + "/usermail/" + uid + "/" + id }
func mailDueKey(m OutMail) string {
	return fmt.Sprintf("maildue/%016x/%s/%s", m.NextAttempt.UnixNano(), m.Tenant, m.ID)
}
func linkKey(hash string) string             { return "link/" + hash }
func userLinkKey(slug, uid, h string) string { return "t/" + slug + "/userlink/" + uid + "/" + h }

func init() {
	userDeleteHooks = append(userDeleteHooks, func(tx *Tx, u User) error {
		if err := tx.deleteUserMail(u.Tenant, u.ID); err != nil {
			return err
		}
		return tx.deleteUserLinks(u.Tenant, u.ID)
	})
}

// QueueMail puts a mail in the outbox, due at once (or at m.NextAttempt when set).
func (tx *Tx) QueueMail(m OutMail) (OutMail, error) {
	if _, err := tx.Tenant(m.Tenant); err != nil {
		return m, err
	}
	to, ok := NormalizeEmail(m.To)
	if !ok {
		return m, invalid("to", "not an email address")
	}
	m.To = to
	if strings.ContainsAny(m.Subject, "\r\n") {
		return m, invalid("subject", "one line")
	}
	m.ID = tx.s.nextAuditID()
	m.Created = tx.s.now().UTC()
	if m.NextAttempt.IsZero() {
		m.NextAttempt = m.Created
	}
	if err := tx.putMail(m); err != nil {
		return m, err
	}
	if m.UserID != "" {
		if err := tx.putRaw(userMailKey(m.Tenant, m.UserID, m.ID), ""); err != nil {
			return m, err
		}
	}
	return m, nil
}

func (tx *Tx) putMail(m OutMail) error {
	if err := tx.put(mailKey(m.Tenant, m.ID), m); err != nil {
		return err
	}
	return tx.putRaw(mailDueKey(m), "")
}

// OutMail reads one queued mail.
func (tx *Tx) OutMail(slug, id string) (OutMail, error) {
	var m OutMail
	if err := tx.get(mailKey(slug, id), &m); err != nil {
		return m, fmt.Errorf("mail %q: %w", id, err)
	}
	return m, nil
}

// Outbox lists a tenant's queued mail, oldest first, after cursor, at most limit.
func (tx *Tx) Outbox(slug, cursor string, limit int) ([]OutMail, error) {
	var out []OutMail
	err := scanValues(tx, "t/"+slug+"/mail/", cursor, limit, func(m OutMail) bool { out = append(out, m); return true })
	return out, err
}

// DueMail gives up to limit mails whose next attempt is at or before now, earliest first.
func (tx *Tx) DueMail(now time.Time, limit int) ([]OutMail, error) {
	var refs [][2]string
	err := tx.scan("maildue/", "", true, func(key string, _ *badgerItem) (bool, error) {
		at, slug, id, ok := parseMailDue(key)
		if !ok {
			return true, nil
		}
		if at > now.UnixNano() {
			return false, nil
		}
		refs = append(refs, [2]string{slug, id})
		return limit <= 0 || len(refs) < limit, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]OutMail, 0, len(refs))
	for _, r := range refs {
		m, err := tx.OutMail(r[0], r[1])
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// NextMailDue gives the time of the earliest queued attempt; ok is false when the outbox
// of every tenant is empty.
func (tx *Tx) NextMailDue() (at time.Time, ok bool, err error) {
	err = tx.scan("maildue/", "", true, func(key string, _ *badgerItem) (bool, error) {
		n, _, _, good := parseMailDue(key)
		if good {
			at, ok = time.Unix(0, n), true
		}
		return !good, nil
	})
	return at, ok, err
}

func parseMailDue(key string) (at int64, slug, id string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(key, "maildue/"), "/")
	if len(parts) != 3 {
		return 0, "", "", false
	}
	n, err := strconv.ParseInt(parts[0], 16, 64)
	return n, parts[1], parts[2], err == nil
}

// MailFailed records a failed attempt and when to try again.
func (tx *Tx) MailFailed(slug, id, reason string, next time.Time) (OutMail, error) {
	m, err := tx.OutMail(slug, id)
	if err != nil {
		return m, err
	}
	if err := tx.del(mailDueKey(m)); err != nil {
		return m, err
	}
	m.Attempts++
	m.LastAttempt = tx.s.now().UTC()
	m.LastError = reason
	m.NextAttempt = next.UTC()
	return m, tx.putMail(m)
}

// MailSent removes a mail that an SMTP server took.
func (tx *Tx) MailSent(slug, id string) error {
	m, err := tx.OutMail(slug, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return tx.deleteMail(m)
}

func (tx *Tx) deleteMail(m OutMail) error {
	keys := []string{mailKey(m.Tenant, m.ID), mailDueKey(m)}
	if m.UserID != "" {
		keys = append(keys, userMailKey(m.Tenant, m.UserID, m.ID))
	}
	for _, k := range keys {
		if err := tx.del(k); err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) deleteUserMail(slug, uid string) error {
	prefix := "t/" + slug + "/usermail/" + uid + "/"
	var ids []string
	if err := tx.scan(prefix, "", true, func(key string, _ *badgerItem) (bool, error) {
		ids = append(ids, strings.TrimPrefix(key, prefix))
		return true, nil
	}); err != nil {
		return err
	}
	for _, id := range ids {
		m, err := tx.OutMail(slug, id)
		switch {
		case errors.Is(err, ErrNotFound):
			if err := tx.del(prefix + id); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := tx.deleteMail(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreatePasswordLink makes a one-time link for a user, valid for valid, and returns its
// token (stored only as a hash). The user's earlier links stop working: there is one
// live link per user.
func (tx *Tx) CreatePasswordLink(slug, uid, purpose string, valid time.Duration) (string, PasswordLink, error) {
	if _, err := tx.User(slug, uid); err != nil {
		return "", PasswordLink{}, err
	}
	if err := tx.deleteUserLinks(slug, uid); err != nil {
		return "", PasswordLink{}, err
	}
	token := NewToken()
	now := tx.s.now().UTC()
	l := PasswordLink{TokenHash: TokenHash(token), Tenant: slug, UserID: uid, Purpose: purpose,
		Created: now, Expires: now.Add(valid)}
	ttl := valid + LinkGrace
	if err := tx.putTTL(linkKey(l.TokenHash), l, ttl); err != nil {
		return "", l, err
	}
	if err := tx.putTTL(userLinkKey(slug, uid, l.TokenHash), "", ttl); err != nil {
		return "", l, err
	}
	return token, l, nil
}

// PasswordLink finds a live link by its token: ErrLinkGone when it was used, has
// expired or is unknown.
func (tx *Tx) PasswordLink(token string) (PasswordLink, error) {
	var l PasswordLink
	if token == "" || len(token) > 256 {
		return l, ErrLinkGone
	}
	h := TokenHash(token)
	if err := tx.get(linkKey(h), &l); errors.Is(err, ErrNotFound) {
		return l, ErrLinkGone
	} else if err != nil {
		return l, err
	}
	l.TokenHash = h
	if !l.Used.IsZero() || !tx.s.now().Before(l.Expires) {
		return l, ErrLinkGone
	}
	return l, nil
}

// UsePasswordLink spends a live link (single use) and returns it.
func (tx *Tx) UsePasswordLink(token string) (PasswordLink, error) {
	l, err := tx.PasswordLink(token)
	if err != nil {
		return l, err
	}
	now := tx.s.now().UTC()
	l.Used = now
	ttl := l.Expires.Add(LinkGrace).Sub(now)
	if err := tx.putTTL(linkKey(l.TokenHash), l, ttl); err != nil {
		return l, err
	}
	return l, nil
}

func (tx *Tx) deleteUserLinks(slug, uid string) error {
	prefix := "t/" + slug + "/userlink/" + uid + "/"
	var hashes []string
	if err := tx.scan(prefix, "", true, func(key string, _ *badgerItem) (bool, error) {
		hashes = append(hashes, strings.TrimPrefix(key, prefix))
		return true, nil
	}); err != nil {
		return err
	}
	for _, h := range hashes {
		if err := tx.del(linkKey(h)); err != nil {
			return err
		}
		if err := tx.del(prefix + h); err != nil {
			return err
		}
	}
	return nil
}

// Keys calls fn with every key under prefix ("" for all) and its raw value, in key
// order, until fn returns false. It is for audits and tests (a deleted user must leave
// nothing behind), never for a request path.
func (s *Store) Keys(prefix string, fn func(key string, value []byte) bool) error {
	return s.View(func(tx *Tx) error {
		return tx.scan(prefix, "", false, func(key string, item *badgerItem) (bool, error) {
			v, err := item.ValueCopy(nil)
			if err != nil {
				return false, err
			}
			return fn(key, v), nil
		})
	})
}

// MailQueued counts the mails waiting in every tenant's outbox and gives the earliest
// due time among them (zero when there are none), reading keys only.
func (tx *Tx) MailQueued() (n int, oldest time.Time, err error) {
	err = tx.scan("maildue/", "", true, func(key string, _ *badgerItem) (bool, error) {
		if at, _, _, ok := parseMailDue(key); ok {
			if n == 0 {
				oldest = time.Unix(0, at)
			}
			n++
		}
		return true, nil
	})
	return n, oldest, err
}
