package userimport

import (
	"fmt"
	"strings"

	"github.com/dialtone/dialtone/store"
)

// OnDuplicate says what a row that matches an existing person does. A row matches the
// user with its email, or, when it has no email, the user with its first and last name
// (case folded). Every match is a warning on the row, whatever the choice.
type OnDuplicate string

const (
	// DuplicateSkip leaves the existing person as is and imports nothing for the row:
	// importing the same file twice changes nothing. The default.
	DuplicateSkip OnDuplicate = "skip"
	// DuplicateUpdate sets the existing person's name, department, role, language,
	// timezone and mobile from the row's non-empty cells (and adds the row's phone);
	// extensions, DIDs, PIN and password stay.
	DuplicateUpdate OnDuplicate = "update"
	// DuplicateCreate creates another person all the same on a name match; an email
	// match is a row error (emails stay unique), as before duplicates were looked for.
	DuplicateCreate OnDuplicate = "create"
)

// ParseOnDuplicate accepts "", skip, update and create.
func ParseOnDuplicate(s string) (OnDuplicate, bool) {
	switch OnDuplicate(strings.ToLower(strings.TrimSpace(s))) {
	case "", DuplicateSkip:
		return DuplicateSkip, true
	case DuplicateUpdate:
		return DuplicateUpdate, true
	case DuplicateCreate:
		return DuplicateCreate, true
	}
	return "", false
}

// Duplicate is a row that matched an existing person, and what became of it.
type Duplicate struct {
	Line       int    `json:"line"`
	ExistingID string `json:"existing_id"`
	Name       string `json:"name"`
	Email      string `json:"email,omitempty"`
	MatchedBy  string `json:"matched_by"` // "email" or "name"
	Action     string `json:"action"`     // "skipped", "updated" or "created"
	// Role is the person's role after an update (their role before when unchanged).
	Role store.Role `json:"role,omitempty"`
}

func nameKey(first, last string) string {
	return strings.ToLower(strings.TrimSpace(first)) + "\x00" + strings.ToLower(strings.TrimSpace(last))
}

// people indexes the tenant's users by name, once per transaction, for name matches.
func (im *importer) people(tx *store.Tx) (map[string]store.User, error) {
	if im.byName != nil {
		return im.byName, nil
	}
	im.byName = map[string]store.User{}
	cursor := ""
	for {
		batch, err := tx.Users(im.slug, cursor, 1000)
		if err != nil {
			return nil, err
		}
		for _, u := range batch {
			k := nameKey(u.FirstName, u.LastName)
			if _, ok := im.byName[k]; !ok {
				im.byName[k] = u
			}
		}
		if len(batch) < 1000 {
			return im.byName, nil
		}
		cursor = batch[len(batch)-1].ID
	}
}

// match finds the existing person a row is about: by email, or by name for a row
// without email.
func (im *importer) match(tx *store.Tx, p plan) (store.User, string, bool, error) {
	if p.in.Email != "" {
		u, err := tx.UserByEmail(im.slug, p.in.Email)
		if ok, err := found(u, err); err != nil || !ok {
			return u, "", false, err
		}
		return u, "email", true, nil
	}
	idx, err := im.people(tx)
	if err != nil {
		return store.User{}, "", false, err
	}
	u, ok := idx[nameKey(p.in.FirstName, p.in.LastName)]
	return u, "name", ok, nil
}

// duplicate handles a row that matched u: skip it, update u, or (a name match with
// create) let the row go on to be created. done is true when the row is finished.
func (im *importer) duplicate(tx *store.Tx, p plan, u store.User, by string) (done bool, err error) {
	choice := im.opts.OnDuplicate
	if choice == "" {
		choice = DuplicateSkip
	}
	d := Duplicate{Line: p.line, ExistingID: u.ID, Name: u.DisplayName(), Email: u.Email, MatchedBy: by}
	warn := func(format string, args ...any) {
		col := colEmail
		if by == "name" {
			col = colLastName
		}
		im.warnings = append(im.warnings, Issue{Line: p.line, Column: im.sh.columnName(col), col: int(col),
			Message: fmt.Sprintf(format, args...)})
	}
	what := fmt.Sprintf("matches existing user %s (%s, id %s) by %s", u.DisplayName(), cmpOr(u.Email, "no email"), u.ID, by)
	switch {
	case choice == DuplicateCreate && by == "name":
		d.Action = "created"
		warn("%s: created another (on_duplicate=create)", what)
		im.dups = append(im.dups, d)
		return false, nil
	case choice == DuplicateUpdate:
		if err := im.update(tx, p, u); err != nil {
			return true, err
		}
		d.Action, d.Role = "updated", cmpOr(p.in.Role, u.Role)
		warn("%s: updated (on_duplicate=update)", what)
	case choice == DuplicateCreate: // an email match: emails are unique
		im.errors = append(im.errors, Issue{Line: p.line, Column: im.sh.columnName(colEmail), col: int(colEmail),
			Message: fmt.Sprintf("email %s is taken by an existing user (%s): on_duplicate=create cannot make a second user with one email", p.in.Email, u.DisplayName())})
		return true, nil
	default:
		warn("%s: skipped (on_duplicate=skip; update or create to change that)", what)
		d.Action = "skipped"
	}
	im.dups = append(im.dups, d)
	return true, nil
}

// update sets u's fields from the row's non-empty cells, and adds the row's phone.
func (im *importer) update(tx *store.Tx, p plan, u store.User) error {
	before := len(im.errors)
	next := u
	in := p.in
	for _, f := range []struct {
		dst *string
		v   string
	}{{&next.FirstName, in.FirstName}, {&next.LastName, in.LastName}, {&next.Language, in.Language},
		{&next.Timezone, in.Timezone}, {&next.Mobile, in.Mobile}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if in.Role != "" {
		if im.opts.AllowRole != nil {
			if err := im.opts.AllowRole(in.Role); err != nil {
				im.errors = append(im.errors, Issue{Line: p.line, Column: im.sh.columnName(colRole), col: int(colRole), Message: err.Error()})
			}
		}
		next.Role = in.Role
	}
	deptID, err := im.department(tx, p)
	if err != nil {
		return err
	}
	if deptID != "" {
		next.DepartmentID = deptID
	}
	if len(im.errors) > before {
		return nil
	}
	next.Departments = append([]string(nil), u.Departments...)
	if err := tx.SaveUser(u, next); err != nil {
		return im.rowError(p, err)
	}
	if p.mac != "" {
		if _, err := tx.CreatePhone(store.Phone{MAC: p.mac, Tenant: im.slug, Make: p.phoneMake, Model: p.model, UserID: u.ID}); err != nil {
			return im.rowError(p, err)
		}
	}
	im.updated = append(im.updated, u.ID)
	return nil
}

func cmpOr[T ~string](a, b T) T {
	if a != "" {
		return a
	}
	return b
}
