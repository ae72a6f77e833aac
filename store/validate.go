package store

import (
	"net/mail"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones inside the binary: a bare appliance may have no zoneinfo
)

// NormalizeMAC accepts a MAC in any common notation (00:15:65:aa:bb:cc, 00-15-65-AA-BB-CC,
// 0015.65aa.bbcc, 001565aabbcc) and returns 12 lower-case hex digits.
func NormalizeMAC(s string) (string, bool) {
	if len(s) > 17 {
		return "", false
	}
	out := make([]byte, 0, 12)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			out = append(out, c)
		case c >= 'A' && c <= 'F':
			out = append(out, c+('a'-'A'))
		case c == ':' || c == '-' || c == '.':
		default:
			return "", false
		}
	}
	if len(out) != 12 {
		return "", false
	}
	return string(out), true
}

// NormalizeE164 accepts +CC… with optional spaces, hyphens, dots and parentheses and
// returns "+" followed by 8 to 15 digits (ITU-T E.164), first digit not 0.
func NormalizeE164(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "+") {
		return "", false
	}
	out := make([]byte, 1, 16)
	out[0] = '+'
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			out = append(out, c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", false
		}
		if len(out) > 16 {
			return "", false
		}
	}
	if len(out) < 9 || out[1] == '0' {
		return "", false
	}
	return string(out), true
}

// ValidExtension: 2 to 8 digits, not starting with 0 or * (feature codes start with *).
func ValidExtension(s string) bool {
	if len(s) < 2 || len(s) > 8 || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NormalizeEmail checks an address (RFC 5322 addr-spec, no display name) and lower-cases it.
func NormalizeEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " <>\"\r\n") {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") {
		return "", false
	}
	return strings.ToLower(s), true
}

// ValidPIN: 4 to 12 digits, the shape of any PIN that can be dialled (a tenant's policy,
// CheckNewPIN, asks more of a PIN being set).
func ValidPIN(s string) bool {
	if len(s) < MinPINLength || len(s) > MaxPINLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidSlug: 2 to 32 of a-z, 0-9 and inner hyphens.
func ValidSlug(s string) bool {
	if len(s) < 2 || len(s) > 32 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidTimezone says whether tz is an IANA zone name known to the binary.
func ValidTimezone(tz string) bool {
	if tz == "" || tz == "Local" {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}

// Languages are the ISO 639-1 codes Dialtone provisions, with their English names (as
// 3CX exports them).
var Languages = map[string]string{
	"en": "English", "nl": "Dutch", "de": "German", "fr": "French", "es": "Spanish",
	"it": "Italian", "pt": "Portuguese", "pl": "Polish", "sv": "Swedish", "da": "Danish",
	"nb": "Norwegian", "fi": "Finnish", "cs": "Czech", "tr": "Turkish", "ru": "Russian",
}

var nativeLanguageNames = map[string]string{
	"nederlands": "nl", "deutsch": "de", "français": "fr", "español": "es", "italiano": "it",
	"português": "pt", "polski": "pl", "svenska": "sv", "dansk": "da", "norsk": "nb",
	"norwegian bokmål": "nb", "suomi": "fi", "čeština": "cs", "türkçe": "tr", "русский": "ru",
}

// NormalizeLanguage accepts an ISO code ("nl", "NL", "nl-NL", "no" for nb) or an English
// name ("Dutch") and returns the code.
func NormalizeLanguage(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if code, _, ok := strings.Cut(s, "-"); ok && len(code) == 2 {
		s = code
	} else if code, _, ok := strings.Cut(s, "_"); ok && len(code) == 2 {
		s = code
	}
	if s == "no" || s == "nn" {
		s = "nb"
	}
	if _, ok := Languages[s]; ok {
		return s, true
	}
	for code, name := range Languages {
		if strings.EqualFold(name, s) {
			return code, true
		}
	}
	if code, ok := nativeLanguageNames[s]; ok {
		return code, true
	}
	return "", false
}

// ValidName: a person's or department's name, 1 to 100 characters, no control characters.
func ValidName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
