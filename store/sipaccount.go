package store

import (
	"fmt"
	"strings"
)

// SIPAccount is whatever a SIP user name authenticates as: an extension's account, or a
// flex phone's guest account.
type SIPAccount struct {
	Tenant   string
	Username string
	Password string // sealed; Store.OpenSecret opens it
	// Extension is the number for an extension account, "" for a guest account.
	Extension string
	UserID    string
	// GuestMAC is the flex phone of a guest account.
	GuestMAC string
}

// SIPAccount finds the account of a SIP user name: one keyed read for the index, one for
// the record.
func (tx *Tx) SIPAccount(username string) (SIPAccount, error) {
	if username == "" || len(username) > 64 {
		return SIPAccount{}, ErrNotFound
	}
	ref, err := tx.getRaw(sipUserKey(username))
	if err != nil {
		return SIPAccount{}, err
	}
	slug, rest, ok := strings.Cut(ref, "/")
	if !ok {
		return SIPAccount{}, fmt.Errorf("sip user index: %w", ErrCorrupt)
	}
	if mac, guest := strings.CutPrefix(rest, "@"); guest {
		p, err := tx.Phone(mac)
		if err != nil {
			return SIPAccount{}, err
		}
		return SIPAccount{Tenant: slug, Username: username, Password: p.GuestPassword, GuestMAC: mac}, nil
	}
	e, err := tx.Extension(slug, rest)
	if err != nil {
		return SIPAccount{}, err
	}
	return SIPAccount{Tenant: slug, Username: username, Password: e.SIPPassword, Extension: e.Number, UserID: e.UserID}, nil
}

// SIPAccount finds the account of a SIP user name.
func (s *Store) SIPAccount(username string) (a SIPAccount, err error) {
	err = s.View(func(tx *Tx) error { a, err = tx.SIPAccount(username); return err })
	return a, err
}

// OpenSecret opens any sealed secret of a record (SIP, guest, phonebook passwords).
func (s *Store) OpenSecret(sealed string) (string, error) { return s.secrets.Open(sealed) }
