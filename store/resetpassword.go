package store

import (
	"errors"
	"fmt"
	"strings"
)

// ResetPasswordByEmail is the operator's way back in (`dialtone reset-password`): the
// user with this email, in tenant (or, when tenant is "", in the one tenant that has
// it), gets a new generated password, every session of theirs ends, and the reset is
// audited with source (e.g. "cli"). The password is returned, to be shown once.
func (s *Store) ResetPasswordByEmail(tenant, email, source string) (User, string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return User{}, "", invalid("email", "an email is required")
	}
	password := GeneratePassword()
	hash := s.Secrets().HashGeneratedPassword(password)
	var saved User
	err := s.Update(func(tx *Tx) error {
		u, err := tx.userByEmailAnywhere(tenant, email)
		if err != nil {
			return err
		}
		if saved, err = tx.ReplacePassword(u, hash); err != nil {
			return err
		}
		return tx.Audit(AuditEvent{Tenant: u.Tenant, Source: source, Action: "user.reset_password",
			Object: "user/" + u.ID, Subject: u.ID,
			After: map[string]any{"secrets_changed": []string{"password"}, "delivery": "shown"}})
	})
	if err != nil {
		return User{}, "", err
	}
	return saved, password, nil
}

func (tx *Tx) userByEmailAnywhere(tenant, email string) (User, error) {
	if tenant != "" {
		if _, err := tx.Tenant(tenant); err != nil {
			return User{}, fmt.Errorf("tenant %q: %w", tenant, err)
		}
		u, err := tx.UserByEmail(tenant, email)
		if errors.Is(err, ErrNotFound) {
			return u, fmt.Errorf("no user with email %s in tenant %s: %w", email, tenant, ErrNotFound)
		}
		return u, err
	}
	var found []User
	cursor := ""
	for {
		ts, err := tx.Tenants(cursor, 500)
		if err != nil {
			return User{}, err
		}
		for _, t := range ts {
			u, err := tx.UserByEmail(t.Slug, email)
			switch {
			case err == nil:
				found = append(found, u)
			case !errors.Is(err, ErrNotFound):
				return User{}, err
			}
		}
		if len(ts) < 500 {
			break
		}
		cursor = ts[len(ts)-1].Slug
	}
	switch len(found) {
	case 0:
		return User{}, fmt.Errorf("no user with email %s: %w", email, ErrNotFound)
	case 1:
		return found[0], nil
	}
	var slugs []string
	for _, u := range found {
		slugs = append(slugs, u.Tenant)
	}
	return User{}, invalid("tenant", "%s is a user in tenants %s: name one with --tenant", email, strings.Join(slugs, ", "))
}
