package store

import (
	"errors"
	"fmt"
)

// Sentinels that every protocol maps at its edge (HTTP status, SIP code, LDAP result).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
	ErrCorrupt  = errors.New("corrupt value")
)

// FieldError names the field of a request that was wrong. It wraps ErrInvalid or
// ErrConflict so callers can map it by errors.Is and still tell the user which field.
type FieldError struct {
	Field string
	Msg   string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }
func (e *FieldError) Unwrap() error { return e.Err }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
}

func conflict(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrConflict}
}
