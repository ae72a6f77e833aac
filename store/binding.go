package store

import (
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Binding is one registered contact of an address of record (RFC 3261 §10.3), as the
// registrar keeps it. Bindings are stored per AOR under t/{slug}/reg/{aor} with a TTL of
// the latest expiry, so a restart keeps phones registered and dead ones vanish alone.
type Binding struct {
	Tenant    string    `json:"tenant"`
	AOR       string    `json:"aor"` // user part of the To URI
	Contact   string    `json:"contact"`
	Instance  string    `json:"instance,omitempty"` // +sip.instance (RFC 5626)
	Expires   time.Time `json:"expires"`
	Source    string    `json:"source"` // ip:port the REGISTER came from
	Transport string    `json:"transport"`
	UserAgent string    `json:"user_agent,omitempty"`
	Username  string    `json:"sip_username"`
	Extension string    `json:"extension,omitempty"`
	UserID    string    `json:"user_id,omitempty"`
	MAC       string    `json:"mac,omitempty"` // the phone, when known
	CallID    string    `json:"call_id"`
	CSeq      uint32    `json:"cseq"`
	Updated   time.Time `json:"updated"`
}

// AORBindings are the bindings of one address of record; an empty list deletes them.
type AORBindings struct {
	Tenant   string
	AOR      string
	Bindings []Binding
}

func bindingKey(slug, aor string) string { return "t/" + slug + "/reg/" + aor }

// SaveBindings writes sets of bindings lazily (registrations are renewed by phones, a
// power cut may lose the last instant of them), in chunks small enough for one commit.
// It publishes no change events: the registrar is the live source of bindings.
func (s *Store) SaveBindings(sets []AORBindings) error {
	const chunk = 2000
	now := s.now()
	for len(sets) > 0 {
		n := min(chunk, len(sets))
		part := sets[:n]
		sets = sets[n:]
		err := s.UpdateLazy(func(tx *Tx) error {
			for _, set := range part {
				key := bindingKey(set.Tenant, set.AOR)
				var last time.Time
				for _, b := range set.Bindings {
					if b.Expires.After(last) {
						last = b.Expires
					}
				}
				ttl := last.Sub(now)
				if len(set.Bindings) == 0 || ttl <= 0 {
					if err := tx.del(key); err != nil {
						return err
					}
					continue
				}
				if err := tx.putTTL(key, set.Bindings, ttl+time.Second); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// EachBindings calls fn with the stored bindings of every AOR of a tenant (at start-up).
func (s *Store) EachBindings(slug string, fn func(AORBindings) bool) error {
	prefix := "t/" + slug + "/reg/"
	return s.View(func(tx *Tx) error {
		return tx.scan(prefix, "", false, func(key string, item *badger.Item) (bool, error) {
			var bs []Binding
			if err := item.Value(func(b []byte) error { return decode(b, &bs) }); err != nil {
				return false, err
			}
			return fn(AORBindings{Tenant: slug, AOR: key[len(prefix):], Bindings: bs}), nil
		})
	})
}
