package store

import (
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// DeletePreview is what DeleteUser would remove or free with a user, read without
// changing anything, so an admin sees it before confirming.
type DeletePreview struct {
	Extensions      []string `json:"extensions"`       // freed, with their SIP accounts
	ExternalNumbers []string `json:"external_numbers"` // freed
	Phones          []string `json:"phones"`           // MACs left without a user
	Photo           bool     `json:"photo"`
	Sessions        int      `json:"sessions"`    // API and console logins ended
	Bindings        int      `json:"bindings"`    // SIP registrations of the extensions
	FlexLogins      int      `json:"flex_logins"` // desk phones the user is logged in at
	Mails           int      `json:"mails"`       // queued mails and set-password links
}

// UserDeletePreview tells what deleting the user would take with them.
func (tx *Tx) UserDeletePreview(slug, id string) (DeletePreview, error) {
	u, err := tx.User(slug, id)
	if err != nil {
		return DeletePreview{}, err
	}
	p := DeletePreview{Extensions: u.Extensions, ExternalNumbers: u.ExternalNumbers, Photo: u.Photo}
	if p.Extensions == nil {
		p.Extensions = []string{}
	}
	if p.ExternalNumbers == nil {
		p.ExternalNumbers = []string{}
	}
	if p.Phones, err = tx.UserPhones(slug, id); err != nil {
		return p, err
	}
	if p.Phones == nil {
		p.Phones = []string{}
	}
	count := func(prefix string) (int, error) {
		n := 0
		err := tx.scan(prefix, "", true, func(string, *badger.Item) (bool, error) { n++; return true, nil })
		return n, err
	}
	if p.Sessions, err = count("t/" + slug + "/usersession/" + id + "/"); err != nil {
		return p, err
	}
	if p.FlexLogins, err = count(flexUserGuard(slug, id) + "/"); err != nil {
		return p, err
	}
	mails, err := count("t/" + slug + "/usermail/" + id + "/")
	if err != nil {
		return p, err
	}
	links, err := count("t/" + slug + "/userlink/" + id + "/")
	if err != nil {
		return p, err
	}
	p.Mails = mails + links
	// Bindings are stored per address of record; the registrar names the user in each.
	err = scanValues(tx, "t/"+slug+"/reg/", "", 0, func(bs []Binding) bool {
		for _, b := range bs {
			if b.UserID == id || (b.Extension != "" && slices.Contains(u.Extensions, b.Extension)) {
				p.Bindings++
			}
		}
		return true
	})
	return p, err
}
