package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

func userKey(slug, id string) string     { return "t/" + slug + "/user/" + id }
func emailKey(slug, email string) string { return "t/" + slug + "/email/" + email }
func loginKey(email, slug string) string { return "idx/login/" + email + "/" + slug }

// NewUser is what a caller gives when creating a user. Empty PIN and Password are
// generated; nil Extensions takes the next free number of the tenant's range (an empty,
// non-nil slice means no extension).
type NewUser struct {
	FirstName, LastName, Email string
	Role                       Role
	DepartmentID               string
	Departments                []string
	Language, Timezone, Mobile string
	PIN, Password              string
	Extensions                 []string
	ExternalNumbers            []string
	ManagedTenants             []string
	ExtraPermissions           []Permission
}

// Generated holds the secrets made for a new user, to be shown once and never stored in
// clear.
type Generated struct {
	PIN      string `json:"pin,omitempty"`
	Password string `json:"password,omitempty"`
}

// CreateUser validates and creates a user with their extensions (each with a fresh random
// SIP account) and external numbers, all in this transaction.
func (tx *Tx) CreateUser(slug string, in NewUser) (User, Generated, error) {
	var gen Generated
	t, err := tx.Tenant(slug)
	if err != nil {
		return User{}, gen, err
	}
	now := tx.s.now().UTC()
	u := User{
		ID: NewID(), Tenant: slug, FirstName: in.FirstName, LastName: in.LastName,
		Email: in.Email, Role: in.Role, DepartmentID: in.DepartmentID,
		Departments: in.Departments, Language: in.Language, Timezone: in.Timezone,
		Mobile: in.Mobile, ExternalNumbers: in.ExternalNumbers, ManagedTenants: in.ManagedTenants,
		ExtraPermissions: in.ExtraPermissions, Created: now, Updated: now,
	}
	if u.Role == "" {
		u.Role = RoleUser
	}
	sec := tx.s.secrets
	pin, genPIN, err := NewPIN(t, in.PIN, in.Extensions)
	if err != nil {
		return User{}, gen, err
	}
	gen.PIN, u.PINHash = genPIN, sec.HashPIN(u.PINOwner(), pin)
	if in.Password == "" {
		gen.Password = GeneratePassword()
		u.PasswordHash = sec.HashGeneratedPassword(gen.Password)
	} else if err := CheckPasswordStrength(in.Password); err != nil {
		return User{}, gen, err
	} else {
		// A chosen password waits for the password gate like a login (it may be busy).
		h, err := sec.HashPassword(context.Background(), in.Password)
		if err != nil {
			return User{}, gen, err
		}
		u.PasswordHash = h
	}
	if in.Extensions == nil {
		n, err := tx.nextFreeExtension(slug)
		if err != nil {
			return User{}, gen, err
		}
		u.Extensions = []string{n}
	} else {
		u.Extensions = in.Extensions
	}
	if err := tx.SaveUser(User{}, u); err != nil {
		return User{}, gen, err
	}
	return u, gen, nil
}

// CheckPasswordStrength: 10 to 128 characters.
func CheckPasswordStrength(pw string) error {
	if len(pw) < 10 || len(pw) > 128 {
		return invalid("password", "10 to 128 characters")
	}
	return nil
}

// normalizeUser checks and canonicalises every field of u in place.
func (tx *Tx) normalizeUser(u *User) error {
	u.FirstName, u.LastName = strings.TrimSpace(u.FirstName), strings.TrimSpace(u.LastName)
	if !ValidName(u.FirstName) {
		return invalid("first_name", "1 to 100 printable characters")
	}
	if !ValidName(u.LastName) {
		return invalid("last_name", "1 to 100 printable characters")
	}
	if u.Email != "" {
		e, ok := NormalizeEmail(u.Email)
		if !ok {
			return invalid("email", "not an email address")
		}
		u.Email = e
	}
	if !u.Role.Valid() {
		return invalid("role", "unknown role %q", u.Role)
	}
	if u.Language != "" {
		lang, ok := NormalizeLanguage(u.Language)
		if !ok {
			return invalid("language", "unknown language %q", u.Language)
		}
		u.Language = lang
	}
	if u.Timezone != "" && !ValidTimezone(u.Timezone) {
		return invalid("timezone", "not an IANA time zone name")
	}
	if u.Mobile != "" {
		m, ok := NormalizeE164(u.Mobile)
		if !ok {
			return invalid("mobile", "not an E.164 number (+ and 8 to 15 digits)")
		}
		u.Mobile = m
	}
	if u.DepartmentID != "" {
		if _, err := tx.Department(u.Tenant, u.DepartmentID); err != nil {
			return invalid("department_id", "no such department")
		}
	}
	for _, d := range u.Departments {
		if _, err := tx.Department(u.Tenant, d); err != nil {
			return invalid("departments", "no such department %q", d)
		}
	}
	seen := map[string]bool{}
	for _, n := range u.Extensions {
		if !ValidExtension(n) {
			return invalid("extensions", "%q is not an extension (2 to 8 digits, not starting with 0)", n)
		}
		if seen[n] {
			return invalid("extensions", "%q given twice", n)
		}
		seen[n] = true
	}
	for i, n := range u.ExternalNumbers {
		e, ok := NormalizeE164(n)
		if !ok {
			return invalid("external_numbers", "%q is not an E.164 number", n)
		}
		if seen[e] {
			return invalid("external_numbers", "%q given twice", e)
		}
		seen[e] = true
		u.ExternalNumbers[i] = e
	}
	for _, t := range u.ManagedTenants {
		if _, err := tx.Tenant(t); err != nil {
			return invalid("managed_tenants", "no such tenant %q", t)
		}
	}
	for _, p := range u.ExtraPermissions {
		if !p.Valid() {
			return invalid("extra_permissions", "unknown permission %q", p)
		}
	}
	return nil
}

// SaveUser writes next (prev is the stored record, or the zero User for a new one) and
// brings every index into line: email, login, extensions with their SIP accounts,
// external numbers. Uniqueness is checked here, in the same transaction.
func (tx *Tx) SaveUser(prev, next User) error {
	isNew := prev.ID == ""
	if !isNew && (next.ID != prev.ID || next.Tenant != prev.Tenant) {
		return invalid("id", "a user's id and tenant cannot change")
	}
	if err := tx.normalizeUser(&next); err != nil {
		return err
	}
	slug := next.Tenant
	if !isNew {
		next.Updated = tx.s.now().UTC()
	}
	// Email and login indexes.
	if next.Email != prev.Email {
		if next.Email != "" {
			if ok, err := tx.exists(emailKey(slug, next.Email)); err != nil || ok {
				return errors.Join(err, conflict("email", "%q is taken in this tenant", next.Email))
			}
			if err := tx.putRaw(emailKey(slug, next.Email), next.ID); err != nil {
				return err
			}
			if err := tx.putRaw(loginKey(next.Email, slug), next.ID); err != nil {
				return err
			}
		}
		if prev.Email != "" {
			if err := tx.del(emailKey(slug, prev.Email)); err != nil {
				return err
			}
			if err := tx.del(loginKey(prev.Email, slug)); err != nil {
				return err
			}
		}
	}
	// Extensions: new ones get a SIP account, removed ones are deleted with theirs.
	for _, n := range next.Extensions {
		if slices.Contains(prev.Extensions, n) {
			continue
		}
		if err := tx.createExtension(slug, n, next.ID); err != nil {
			return err
		}
	}
	for _, n := range prev.Extensions {
		if !slices.Contains(next.Extensions, n) {
			if err := tx.deleteExtension(slug, n); err != nil {
				return err
			}
		}
	}
	if err := tx.endFlexOnExtensionLoss(prev, next); err != nil {
		return err
	}
	// External numbers.
	for _, n := range next.ExternalNumbers {
		if slices.Contains(prev.ExternalNumbers, n) {
			continue
		}
		if err := tx.createNumber(slug, n, next.ID); err != nil {
			return err
		}
	}
	for _, n := range prev.ExternalNumbers {
		if !slices.Contains(next.ExternalNumbers, n) {
			if err := tx.deleteNumber(slug, n); err != nil {
				return err
			}
		}
	}
	if err := tx.put(userKey(slug, next.ID), next); err != nil {
		return err
	}
	c := Change{Kind: KindUser, Op: OpPut, Tenant: slug, ID: next.ID, New: next}
	if !isNew {
		c.Old = prev
	}
	tx.Emit(c)
	return nil
}

// User reads one user.
func (tx *Tx) User(slug, id string) (User, error) {
	var u User
	if id == "" {
		return u, fmt.Errorf("user: %w", ErrNotFound)
	}
	if err := tx.get(userKey(slug, id), &u); err != nil {
		return u, fmt.Errorf("user %q: %w", id, err)
	}
	return u, nil
}

// UserByEmail finds a user of a tenant by email.
func (tx *Tx) UserByEmail(slug, email string) (User, error) {
	e, ok := NormalizeEmail(email)
	if !ok {
		return User{}, ErrNotFound
	}
	id, err := tx.getRaw(emailKey(slug, e))
	if err != nil {
		return User{}, err
	}
	return tx.User(slug, id)
}

// UsersByLogin finds every user, across tenants, who logs in with this email.
func (tx *Tx) UsersByLogin(email string) ([]User, error) {
	e, ok := NormalizeEmail(email)
	if !ok {
		return nil, nil
	}
	prefix := "idx/login/" + e + "/"
	var pairs [][2]string
	err := tx.scan(prefix, "", false, func(key string, item *badger.Item) (bool, error) {
		id, err := item.ValueCopy(nil)
		pairs = append(pairs, [2]string{strings.TrimPrefix(key, prefix), string(id)})
		return len(pairs) < 64, err
	})
	if err != nil {
		return nil, err
	}
	out := make([]User, 0, len(pairs))
	for _, p := range pairs {
		u, err := tx.User(p[0], p[1])
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// Users lists a tenant's users in id order after cursor, at most limit (0: all).
func (tx *Tx) Users(slug, cursor string, limit int) ([]User, error) {
	var out []User
	err := scanValues(tx, "t/"+slug+"/user/", cursor, limit, func(u User) bool { out = append(out, u); return true })
	return out, err
}

// EachUser calls fn for every user of a tenant (loading a cache at start, not per request).
func (tx *Tx) EachUser(slug string, fn func(User) bool) error {
	return scanValues(tx, "t/"+slug+"/user/", "", 0, fn)
}

// userDeleteHooks let store files that keep per-user records (bindings, flex sessions,
// photos) remove them in the deleting transaction.
var userDeleteHooks []func(tx *Tx, u User) error

// DeleteUser removes a user and every reference to them: extensions with their SIP
// accounts, external numbers, email and login indexes, phone assignments, sessions, and
// whatever the delete hooks own.
func (tx *Tx) DeleteUser(slug, id string) (User, error) {
	u, err := tx.User(slug, id)
	if err != nil {
		return u, err
	}
	for _, n := range u.Extensions {
		if err := tx.deleteExtension(slug, n); err != nil {
			return u, err
		}
	}
	for _, n := range u.ExternalNumbers {
		if err := tx.deleteNumber(slug, n); err != nil {
			return u, err
		}
	}
	if u.Email != "" {
		if err := tx.del(emailKey(slug, u.Email)); err != nil {
			return u, err
		}
		if err := tx.del(loginKey(u.Email, slug)); err != nil {
			return u, err
		}
	}
	macs, err := tx.UserPhones(slug, id)
	if err != nil {
		return u, err
	}
	for _, mac := range macs {
		p, err := tx.Phone(mac)
		if err != nil {
			return u, err
		}
		next := p
		next.UserID = ""
		if err := tx.SavePhone(p, next); err != nil {
			return u, err
		}
	}
	if err := tx.deleteUserSessions(slug, id); err != nil {
		return u, err
	}
	for _, h := range userDeleteHooks {
		if err := h(tx, u); err != nil {
			return u, err
		}
	}
	if err := tx.del(userKey(slug, id)); err != nil {
		return u, err
	}
	tx.Emit(Change{Kind: KindUser, Op: OpDelete, Tenant: slug, ID: id, Old: u})
	return u, nil
}

// OtherSystemOwner tells whether the tenant has a system_owner besides the user id
// (admin operation: the last one can be neither deleted nor demoted). The walk stops
// at the first one found.
func (tx *Tx) OtherSystemOwner(slug, id string) (bool, error) {
	found := false
	err := tx.EachUser(slug, func(u User) bool {
		found = u.Role == RoleSystemOwner && u.ID != id
		return !found
	})
	return found, err
}

// User reads one user.
func (s *Store) User(slug, id string) (u User, err error) {
	err = s.View(func(tx *Tx) error { u, err = tx.User(slug, id); return err })
	return u, err
}

// UserBrief is the part of a user record a list sorts and searches by.
type UserBrief struct {
	ID              string   `json:"id"`
	FirstName       string   `json:"first_name"`
	LastName        string   `json:"last_name"`
	Email           string   `json:"email,omitempty"`
	Role            Role     `json:"role"`
	DepartmentID    string   `json:"department_id,omitempty"`
	Mobile          string   `json:"mobile,omitempty"`
	Extensions      []string `json:"extensions,omitempty"`
	ExternalNumbers []string `json:"external_numbers,omitempty"`
}

// EachUserBrief calls fn with the brief of every user of a tenant (a search over all of
// them decodes only these fields).
func (tx *Tx) EachUserBrief(slug string, fn func(UserBrief) bool) error {
	return scanValues(tx, "t/"+slug+"/user/", "", 0, fn)
}
