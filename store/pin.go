package store

import (
	"slices"
	"time"
)

// PIN policy. A tenant sets the minimum length of a PIN (pin_min_length, 4 to 12,
// default 6); whoever sets a PIN (an admin, the user, a CSV import) gets a PIN that is long
// enough and not trivial. PINs set before the policy keep working until they are changed:
// the policy is checked when a PIN is set, not when it is dialled.
const (
	DefaultPINMinLength = 6
	MinPINLength        = 4
	MaxPINLength        = 12
)

// Audit log retention (audit_retention_days, 1 to 3650, default 400).
const (
	DefaultAuditRetentionDays = 400
	MaxAuditRetentionDays     = 3650
)

// PINLength is the tenant's minimum PIN length, and the length of a generated PIN.
func (t Tenant) PINLength() int {
	if t.PINMinLength == 0 {
		return DefaultPINMinLength
	}
	return t.PINMinLength
}

// AuditRetention is how long the tenant's audit log keeps an event.
func (t Tenant) AuditRetention() time.Duration {
	d := t.AuditRetentionDays
	if d == 0 {
		d = DefaultAuditRetentionDays
	}
	return time.Duration(d) * 24 * time.Hour
}

// checkPINAndAuditSettings checks the tenant's PIN policy and audit retention (0: default).
func checkPINAndAuditSettings(t Tenant) error {
	if t.PINMinLength != 0 && (t.PINMinLength < MinPINLength || t.PINMinLength > MaxPINLength) {
		return invalid("pin_min_length", "a minimum PIN length is %d to %d digits", MinPINLength, MaxPINLength)
	}
	if t.AuditRetentionDays < 0 || t.AuditRetentionDays > MaxAuditRetentionDays {
		return invalid("audit_retention_days", "1 to %d days", MaxAuditRetentionDays)
	}
	return nil
}

// CheckNewPIN says whether pin may be set as a PIN of a user with extensions exts under
// the tenant's policy: digits only, at least the tenant's minimum length, at most 12, and
// not trivial (see TrivialPIN) nor one of the user's own extensions. The error names the
// field "pin" and never contains the PIN.
func CheckNewPIN(t Tenant, pin string, exts []string) error {
	if !ValidPIN(pin) {
		return invalid("pin", "a PIN is %d to %d digits", MinPINLength, MaxPINLength)
	}
	if n := t.PINLength(); len(pin) < n {
		return invalid("pin", "this tenant's PINs are at least %d digits", n)
	}
	if TrivialPIN(pin) {
		return invalid("pin", "too easy to guess: digits counting up or down, or one digit or group of digits repeated")
	}
	if slices.Contains(exts, pin) {
		return invalid("pin", "a PIN cannot be the user's own extension")
	}
	return nil
}

// TrivialPIN: a PIN that is the first guess of anyone at a phone. That is a repeat of a
// shorter pattern (000000, 121212, 123123) or a run counting up or down by one, wrapping
// past 9 and 0 (123456, 654321, 789012).
func TrivialPIN(pin string) bool {
	n := len(pin)
	for p := 1; p <= n/2; p++ {
		if n%p == 0 && repeats(pin, p) {
			return true
		}
	}
	return n >= 2 && (steps(pin, 1) || steps(pin, 9))
}

func repeats(s string, period int) bool {
	for i := period; i < len(s); i++ {
		if s[i] != s[i-period] {
			return false
		}
	}
	return true
}

// steps: every digit is the previous plus step, modulo 10 (9 counts down).
func steps(s string, step byte) bool {
	for i := 1; i < len(s); i++ {
		if (s[i-1]-'0'+step)%10 != s[i]-'0' {
			return false
		}
	}
	return true
}

// GeneratePIN gives a random PIN of n digits (4 to 12; otherwise the default length) that
// the policy accepts.
func GeneratePIN(n int) string {
	if n < MinPINLength || n > MaxPINLength {
		n = DefaultPINMinLength
	}
	for {
		if pin := randomString("0123456789", n); !TrivialPIN(pin) {
			return pin
		}
	}
}

// NewPIN is the PIN a user gets: pin when given (checked against the policy), else a
// generated one (returned in generated).
func NewPIN(t Tenant, pin string, exts []string) (set, generated string, err error) {
	if pin == "" {
		g := GeneratePIN(t.PINLength())
		for slices.Contains(exts, g) {
			g = GeneratePIN(t.PINLength())
		}
		return g, g, nil
	}
	if err := CheckNewPIN(t, pin, exts); err != nil {
		return "", "", err
	}
	return pin, "", nil
}
