package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// PhoneKey is one programmable key of a user's phones, after the line keys of their
// extensions: a busy lamp field watching a colleague's extension, or a speed dial.
// Package provision writes them in each make's key syntax.
type PhoneKey struct {
	Type  string `json:"type"`  // KeyBLF or KeySpeedDial
	Value string `json:"value"` // an extension of the tenant (blf), a number (speed_dial)
	Label string `json:"label,omitempty"`
}

// Key types.
const (
	KeyBLF       = "blf"
	KeySpeedDial = "speed_dial"
)

// MaxUserKeys bounds a user's key list (a phone with two expansion modules has about 60
// programmable keys).
const MaxUserKeys = 60

// SetUserKeys replaces the programmable keys of a user's phones. A BLF key must watch an
// extension of the tenant; a speed dial is a number (digits, with + * # allowed); a label
// is at most 32 characters. The user's phones re-provision through the change event.
func (tx *Tx) SetUserKeys(slug, uid string, keys []PhoneKey) (User, error) {
	u, err := tx.User(slug, uid)
	if err != nil {
		return u, err
	}
	if len(keys) > MaxUserKeys {
		return u, invalid("keys", "at most %d keys", MaxUserKeys)
	}
	out := make([]PhoneKey, 0, len(keys))
	for i, k := range keys {
		field := fmt.Sprintf("keys[%d]", i)
		k.Value, k.Label = strings.TrimSpace(k.Value), strings.TrimSpace(k.Label)
		switch k.Type {
		case KeyBLF:
			if !ValidExtension(k.Value) {
				return u, invalid(field+".value", "a BLF key watches an extension (2 to 8 digits), not %q", k.Value)
			}
			if _, err := tx.Extension(slug, k.Value); err != nil {
				return u, invalid(field+".value", "no extension %s in this tenant", k.Value)
			}
		case KeySpeedDial:
			if !validDialString(k.Value) {
				return u, invalid(field+".value", "a speed dial is a number: 1 to 32 of 0-9 + * #")
			}
		default:
			return u, invalid(field+".type", `"blf" or "speed_dial", not %q`, k.Type)
		}
		if utf8.RuneCountInString(k.Label) > 32 || !utf8.ValidString(k.Label) || strings.ContainsFunc(k.Label, isControl) {
			return u, invalid(field+".label", "a label is at most 32 printable characters")
		}
		out = append(out, k)
	}
	next := u
	next.Keys = out
	if len(out) == 0 {
		next.Keys = nil
	}
	if err := tx.SaveUser(u, next); err != nil {
		return u, err
	}
	return tx.User(slug, uid)
}

func validDialString(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '+' || c == '*' || c == '#') {
			return false
		}
	}
	return true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
