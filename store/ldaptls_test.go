package store

import (
	"errors"
	"testing"
)

// A new tenant asks for TLS on people's LDAP binds, lets the phonebook account bind in
// clear and points phones at plain LDAP; the phonebook account can be held to TLS only
// once phones are pointed at LDAPS, or every phone's lookups would fail.
func TestLDAPTLSSettings(t *testing.T) {
	s := openTest(t)
	var tn Tenant
	err := s.Update(func(tx *Tx) error {
		var err error
		tn, err = tx.CreateTenant(NewTenant{Slug: "acme", Name: "Acme"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !tn.LDAPRequireTLS() || !tn.LDAPPhonebookCleartext() || tn.PhonebookLDAPS {
		t.Fatalf("defaults: require TLS %v, phonebook cleartext %v, phonebook ldaps %v", tn.LDAPRequireTLS(), tn.LDAPPhonebookCleartext(), tn.PhonebookLDAPS)
	}
	save := func(change func(*Tenant)) error {
		return s.Update(func(tx *Tx) error {
			prev, err := tx.Tenant("acme")
			if err != nil {
				return err
			}
			next := prev
			change(&next)
			return tx.SaveTenant(prev, next)
		})
	}
	err = save(func(n *Tenant) { n.LDAPPhonebookTLSOnly = true })
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "ldap_phonebook_cleartext" || !errors.Is(err, ErrInvalid) {
		t.Fatalf("phonebook TLS-only without phonebook_ldaps: %v", err)
	}
	if got, _ := s.Tenant("acme"); got.LDAPPhonebookTLSOnly {
		t.Fatal("refused change stored")
	}
	if err := save(func(n *Tenant) { n.PhonebookLDAPS, n.LDAPPhonebookTLSOnly, n.LDAPUserCleartext = true, true, true }); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Tenant("acme")
	if got.LDAPRequireTLS() || got.LDAPPhonebookCleartext() || !got.PhonebookLDAPS {
		t.Fatalf("saved: %+v", got)
	}
}
