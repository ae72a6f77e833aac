package sip

import "strings"

// digestCredentials is one Authorization or Proxy-Authorization header of the Digest
// scheme (RFC 3261 §25.1 digest-response, RFC 7616 §3.4). Its strings point into the
// header value: parsing a REGISTER's credentials allocates nothing unless a quoted
// value holds a backslash escape.
type digestCredentials struct {
	Username, Realm, Nonce, URI, Response string
	Algorithm, Cnonce, QOP, Opaque        string
	Nc                                    int
	Userhash                              bool
}

// parseDigestCredentials parses s ("Digest k=v, k="v", …") into c and reports whether
// it is well-formed. Parameter names are case-insensitive (RFC 3261 §7.3.1); unknown
// parameters are skipped (auth-param); a repeated or malformed nc fails the header.
func parseDigestCredentials(s string, c *digestCredentials) bool {
	*c = digestCredentials{}
	s = trimLWS(s)
	const scheme = "digest"
	if len(s) <= len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) || !isLWS(s[len(scheme)]) {
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
		i := tokenLen(s)
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
			v, rest, ok := quotedString(s)
			if !ok {
				return false
			}
			val, s = v, rest
		} else {
			j := tokenLen(s)
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
			c.Nc, seenNc = n, true
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

// quotedString reads a quoted-string at the start of s (RFC 3261 §25.1) and returns its
// content with quoted-pairs resolved, and the rest of s.
func quotedString(s string) (val, rest string, ok bool) {
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

func isLWS(c byte) bool { return c == ' ' || c == '\t' }

func trimLWS(s string) string {
	for s != "" && isLWS(s[0]) {
		s = s[1:]
	}
	for s != "" && isLWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// tokenLen is how many token characters s starts with.
func tokenLen[S ~string | ~[]byte](s S) int {
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return i
}

// cutParamName reads ";name" (RFC 3261 §25.1 generic-param) at the start of p and
// answers what follows, and whether "=value" does (p then starts at the value).
func cutParamName(p []byte) (rest []byte, hasValue, ok bool) {
	if len(p) == 0 || p[0] != ';' {
		return nil, false, false
	}
	p = p[1:]
	j := tokenLen(p)
	if j == 0 {
		return nil, false, false
	}
	p = p[j:]
	if len(p) == 0 || p[0] != '=' {
		return p, false, true
	}
	return p[1:], true, true
}

// isTokenChar: RFC 3261 §25.1 token characters.
func isTokenChar(c byte) bool {
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
