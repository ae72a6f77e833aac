package sip

// FlexCode is a parsed flex feature code dialled from a phone.
type FlexCode struct {
	Logout    bool
	Extension string
	PIN       string
}

// Limits of what a flex code may carry; longer strings are refused, not truncated.
const (
	maxExtensionDigits = 8
	maxPINDigits       = 12
)

// ParseFlexCode recognises *55*{ext}*{pin}, *55{ext}*{pin} (login) and *56 (logout).
// A trailing '#' (sent by some phones as the dial key) is ignored. Anything else —
// letters, empty parts, overlong digit strings — is not a flex code.
func ParseFlexCode(s string) (FlexCode, bool) {
	if n := len(s); n > 0 && s[n-1] == '#' {
		s = s[:n-1]
	}
	if s == "*56" {
		return FlexCode{Logout: true}, true
	}
	if len(s) < 4 || s[:3] != "*55" {
		return FlexCode{}, false
	}
	rest := s[3:]
	if rest[0] == '*' {
		rest = rest[1:]
	}
	ext, pin, ok := cutByte(rest, '*')
	if !ok || !digits(ext, maxExtensionDigits) || !digits(pin, maxPINDigits) {
		return FlexCode{}, false
	}
	return FlexCode{Extension: ext, PIN: pin}, true
}

func cutByte(s string, c byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func digits(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
