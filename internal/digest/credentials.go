package digest

import "strings"

// Credentials is one Authorization or Proxy-Authorization header of the Digest scheme
// (RFC 3261 §25.1 digest-response, RFC 7616 §3.4), as SIP and provisioning's HTTP both
// receive it. Its strings point into the header value: parsing allocates nothing unless
// a quoted value holds a backslash escape.
type Credentials struct {
	Username, Realm, Nonce, URI, Response string
	Algorithm, Cnonce, QOP, Opaque        string
	Nc                                    int
	NcText                                string // nc as sent: the response hashes these digits
	Userhash                              bool
}

// ParseCredentials parses s ("Digest k=v, k="v", …") into c and reports whether it is
// well-formed. Parameter names are case-insensitive (RFC 3261 §7.3.1); unknown
// parameters are skipped (auth-param); a repeated or malformed nc fails the header.
func ParseCredentials(s string, c *Credentials) bool {
	*c = Credentials{}
	s = trimLWS(s)
	const scheme = "digest"
	if len(s) <= len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) || !IsLWS(s[len(scheme)]) {
		return false
	}
	s = s[len(scheme):]
	seenNc := false
	for {
		s = trimLWS(s)
		if s == "" {
			return true
		}
		// key
		i := TokenLen(s)
		if i == 0 {
			return false
		}
		key := s[:i]
		s = trimLWS(s[i:])
		if s == "" || s[0] != '=' {
			return false
		}
		s = trimLWS(s[1:])
		// value: quoted-string or token
		var val string
		if s != "" && s[0] == '"' {
			v, rest, ok := QuotedString(s)
			if !ok {
				return false
			}
			val, s = v, rest
		} else {
			j := TokenLen(s)
			if j == 0 {
				return false
			}
			val, s = s[:j], s[j:]
		}
		switch {
		case strings.EqualFold(key, "username"):
			c.Username = val
		case strings.EqualFold(key, "realm"):
			c.Realm = val
		case strings.EqualFold(key, "nonce"):
			c.Nonce = val
		case strings.EqualFold(key, "uri"):
			c.URI = val
		case strings.EqualFold(key, "response"):
			c.Response = val
		case strings.EqualFold(key, "algorithm"):
			c.Algorithm = val
		case strings.EqualFold(key, "cnonce"):
			c.Cnonce = val
		case strings.EqualFold(key, "opaque"):
			c.Opaque = val
		case strings.EqualFold(key, "qop"):
			c.QOP = val
		case strings.EqualFold(key, "userhash"):
			c.Userhash = strings.EqualFold(val, "true")
		case strings.EqualFold(key, "nc"):
			// nonce-count = 8LHEX (RFC 7616 §3.4).
			if seenNc || len(val) == 0 || len(val) > 8 {
				return false
			}
			n := 0
			for k := 0; k < len(val); k++ {
				d := unhex(val[k])
				if d < 0 {
					return false
				}
				n = n<<4 | d
			}
			c.Nc, c.NcText, seenNc = n, val, true
		}
		s = trimLWS(s)
		if s == "" {
			return true
		}
		if s[0] != ',' {
			return false
		}
		s = s[1:]
	}
}

// QuotedString reads a quoted-string at the start of s (RFC 3261 §25.1, RFC 9110 §5.6.4) and returns its
// content with quoted-pairs resolved, and the rest of s.
func QuotedString(s string) (val, rest string, ok bool) {
	escaped := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++ // skip the quoted character
		case '"':
			if !escaped {
				return s[1:i], s[i+1:], true
			}
			var b strings.Builder
			b.Grow(i)
			for k := 1; k < i; k++ {
				if s[k] == '\\' {
					k++
				}
				b.WriteByte(s[k])
			}
			return b.String(), s[i+1:], true
		}
	}
	return "", "", false
}

// IsLWS: a space or tab.
func IsLWS(c byte) bool { return c == ' ' || c == '\t' }

func trimLWS(s string) string {
	for s != "" && IsLWS(s[0]) {
		s = s[1:]
	}
	for s != "" && IsLWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// TokenLen is how many token characters s starts with (RFC 3261 §25.1 and RFC 9110
// §5.6.2 define the same token).
func TokenLen[S ~string | ~[]byte](s S) int {
	i := 0
	for i < len(s) && IsTokenChar(s[i]) {
		i++
	}
	return i
}

// IsTokenChar: RFC 3261 §25.1 token characters.
func IsTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '!', '%', '*', '_', '+', '`', '\'', '~':
		return true
	}
	return false
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
