package admin

import (
	"errors"

	"github.com/dialtone/dialtone/store"
)

// userNames puts the display names of users beside their ids in list answers (phones,
// extensions, external numbers), so a table of a page of items needs that one request,
// not one more per user. The names are what the phonebook shows, so a caller sees them only with
// directory.read; a request reads each user once.
type userNames struct {
	tx    *store.Tx
	sc    *scope
	users map[string]namedUser
}

type namedUser struct {
	name string
	exts []string
}

func newUserNames(tx *store.Tx, sc *scope) *userNames {
	return &userNames{tx: tx, sc: sc, users: map[string]namedUser{}}
}

// of is the display name of user id of the scope's tenant ("" for no id, a user since
// deleted, or a caller without directory.read).
func (n *userNames) of(id string) (string, error) {
	name, _, err := n.withExtensions(id)
	return name, err
}

// withExtensions is the display name and the extensions of user id, as of says.
func (n *userNames) withExtensions(id string) (string, []string, error) {
	if id == "" || !n.sc.can(store.PermDirectoryRead) {
		return "", nil, nil
	}
	if u, ok := n.users[id]; ok {
		return u.name, u.exts, nil
	}
	u, err := n.tx.User(n.sc.tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	nu := namedUser{name: u.DisplayName(), exts: u.Extensions}
	n.users[id] = nu
	return nu.name, nu.exts, nil
}

// phone fills in the names of a phone's user and of whoever is flex-logged-in at it.
func (n *userNames) phone(v *phoneView) (err error) {
	if v.UserName, err = n.of(v.UserID); err != nil {
		return err
	}
	if v.LoggedIn != nil {
		v.LoggedIn.UserName, err = n.of(v.LoggedIn.UserID)
	}
	return err
}
