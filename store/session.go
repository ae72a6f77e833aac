package store

import (
	"fmt"
	"strings"
	"time"
)

func sessionKey(hash string) string { return "session/" + hash }
func userSessionKey(slug, uid, hash string) string {
	return "t/" + slug + "/usersession/" + uid + "/" + hash
}

// CreateSession stores a session for ttl and returns its bearer token; only the token's
// hash is stored.
func (tx *Tx) CreateSession(sess Session, ttl time.Duration) (string, error) {
	token := NewToken()
	sess.TokenHash = TokenHash(token)
	sess.Created = tx.s.now().UTC()
	sess.Expires = sess.Created.Add(ttl)
	if err := tx.putTTL(sessionKey(sess.TokenHash), sess, ttl); err != nil {
		return "", err
	}
	// Index by the user the session acts as and, for view-as, by the actor too, so that
	// deleting either ends it.
	if err := tx.putTTL(userSessionKey(sess.Tenant, sess.UserID, sess.TokenHash), "", ttl); err != nil {
		return "", err
	}
	if sess.ActorID != "" {
		if err := tx.putTTL(userSessionKey(sess.ActorTenant, sess.ActorID, sess.TokenHash), "", ttl); err != nil {
			return "", err
		}
	}
	return token, nil
}

// Session finds a live session by bearer token.
func (tx *Tx) Session(token string) (Session, error) {
	var s Session
	if token == "" || len(token) > 256 {
		return s, ErrNotFound
	}
	h := TokenHash(token)
	if err := tx.get(sessionKey(h), &s); err != nil {
		return s, err
	}
	if !tx.s.now().Before(s.Expires) {
		return Session{}, ErrNotFound
	}
	s.TokenHash = h
	return s, nil
}

// DeleteSession ends a session.
func (tx *Tx) DeleteSession(token string) error {
	s, err := tx.Session(token)
	if err != nil {
		return err
	}
	return tx.deleteSessionByHash(s)
}

func (tx *Tx) deleteSessionByHash(s Session) error {
	keys := []string{sessionKey(s.TokenHash), userSessionKey(s.Tenant, s.UserID, s.TokenHash)}
	if s.ActorID != "" {
		keys = append(keys, userSessionKey(s.ActorTenant, s.ActorID, s.TokenHash))
	}
	for _, k := range keys {
		if err := tx.del(k); err != nil {
			return err
		}
	}
	return nil
}

// deleteUserSessions ends every session of a user (as themselves, as the target of a
// view-as, or as its actor).
func (tx *Tx) deleteUserSessions(slug, uid string) error {
	prefix := "t/" + slug + "/usersession/" + uid + "/"
	var hashes []string
	err := tx.scan(prefix, "", true, func(key string, _ *badgerItem) (bool, error) {
		hashes = append(hashes, strings.TrimPrefix(key, prefix))
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, h := range hashes {
		var s Session
		switch err := tx.get(sessionKey(h), &s); err {
		case nil:
			s.TokenHash = h
			if err := tx.deleteSessionByHash(s); err != nil {
				return err
			}
		case ErrNotFound:
			if err := tx.del(prefix + h); err != nil {
				return err
			}
		default:
			return fmt.Errorf("session: %w", err)
		}
	}
	return nil
}

// EndUserSessions ends every API session of a user (after a password reset, a role
// change to none).
func (tx *Tx) EndUserSessions(slug, uid string) error { return tx.deleteUserSessions(slug, uid) }

// ReplacePassword gives u a new password hash and ends every session of u, so that whoever
// held the old password is logged out (a reset, a set-password link).
func (tx *Tx) ReplacePassword(u User, hash string) (User, error) {
	next := u
	next.PasswordHash = hash
	if err := tx.SaveUser(u, next); err != nil {
		return u, err
	}
	return next, tx.EndUserSessions(u.Tenant, u.ID)
}
