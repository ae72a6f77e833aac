package sip

import (
	"bytes"
	"strconv"
)

// The first REGISTER of a registration carries no credentials and only ever earns a 401
// challenge: half of all REGISTERs a registrar sees. Parsing one with sipgo costs about
// as much as everything else the registrar does with it (some thirty allocations), so
// fastChallenge reads it straight from the datagram when every header it carries is in
// a plain, strictly checked form, and answers what onRegister would: the same
// challenge, the same nonce for a retransmission. Anything unusual (credentials, a
// Require, a body, a display name it does not know, folded lines, a header sipgo would
// read as something else) takes the general path instead.

// fastChallenge answers data if it is a first REGISTER in plain form, and reports
// whether it did.
func (s *Server) fastChallenge(data []byte, in *inbound, w *replyWriter) bool {
	var r fastRegister
	if !r.read(data, w) {
		return false
	}
	t, err := s.accounts.tenantFor(r.toHost)
	if err != nil {
		return false // 404 or 500: the general path answers
	}
	lock := s.aorLocks.lock(t.slug, r.toUser)
	defer lock.Unlock()
	if s.sourceBlocked(in.src) {
		return false
	}
	w.req, w.raw, w.src, w.tag, w.ua = nil, data, in.src, s.tag, r.userAgent
	w.txKey = s.challenges.txKey(r.branch, w.hdrs.viaHost, in.src, r.callID, r.cseq, "REGISTER")
	s.writeChallenge(w, false, t, false)
	in.send(w.finish())
	w.raw, w.ua = nil, ""
	return true
}

// fastRegister is what fastChallenge reads of a REGISTER. Its strings are pieces of
// text, one copy of the header section: a single allocation.
type fastRegister struct {
	text      string // the datagram's header section as one string
	toUser    string
	toHost    string
	branch    string
	callID    string
	userAgent string
	cseq      uint32
}

// read checks data and fills r and w.hdrs (the fields the answer echoes, as scan does).
func (r *fastRegister) read(data []byte, w *replyWriter) bool {
	const method = "REGISTER "
	if len(data) < len(method) || string(data[:len(method)]) != method {
		return false
	}
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 || end+4 != len(data) {
		return false // no end of headers, or a body
	}
	// Request line: REGISTER sip:… SIP/2.0
	eol := bytes.Index(data, crlf)
	line := data[len(method):eol]
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 || string(line[sp:]) != " SIP/2.0" || !plainURI(line[:sp], false) {
		return false
	}
	h := &w.hdrs
	*h = rawHeaders{}
	var from, to, callID, cseq, ua rawField
	for i := eol + 2; i < end+2; {
		k := bytes.Index(data[i:], crlf)
		f := data[i : i+k]
		i += k + 2
		if i < len(data) && isLWS(data[i]) {
			return false // folded
		}
		c := bytes.IndexByte(f, ':')
		if c <= 0 {
			return false
		}
		name := f[:c]
		if isLWS(name[len(name)-1]) || isLWS(name[0]) {
			return false
		}
		field := rawField{f, c + 1}
		value := bytes.Trim(f[c+1:], " \t")
		switch headerKind(name) {
		case hVia:
			if h.nv == maxVias || !plainVias(value) {
				return false
			}
			h.vias[h.nv], h.nv = field, h.nv+1
		case hFrom:
			if from.text != nil || !plainNameAddr(value) {
				return false
			}
			from = field
		case hTo:
			if to.text != nil || !plainNameAddr(value) {
				return false
			}
			to = field
		case hCallID:
			if callID.text != nil || !allOf(value, isVisible) {
				return false
			}
			callID = field
		case hCSeq:
			if cseq.text != nil {
				return false
			}
			cseq = field
		case hContact:
			if !plainContact(value) {
				return false
			}
		case hMaxForwards:
			if n, ok := decimal(value, 10); !ok || n > 1<<32-1 {
				return false
			}
		case hContentLength:
			if n, ok := decimal(value, 10); !ok || n != 0 {
				return false
			}
		case hUserAgent:
			if ua.text == nil {
				ua = field
			}
		case hRefused:
			return false
		}
	}
	if h.nv == 0 || from.text == nil || to.text == nil || callID.text == nil || cseq.text == nil {
		return false // the general path answers 400
	}
	// CSeq: "N REGISTER", exactly as onRegister's checks read it.
	cv := bytes.Trim(cseq.text[cseq.value:], " \t")
	csp := bytes.IndexByte(cv, ' ')
	if csp < 0 || string(cv[csp+1:]) != "REGISTER" {
		return false
	}
	n, ok := decimal(cv[:csp], 10)
	if !ok || n > 1<<31-1 {
		return false
	}
	r.cseq = uint32(n)
	// One string for all that is kept (the nonce cache key is hashed from it; tenant
	// and AOR lookups read it).
	r.text = string(data[:end])
	str := func(b []byte) string {
		if len(b) == 0 {
			return ""
		}
		off := int(uintptrDiff(data, b))
		return r.text[off : off+len(b)]
	}
	// Top Via: host and parameters of its first via-parm.
	top := h.vias[0]
	h.topEnd = len(top.text)
	if k := bytes.IndexByte(top.text[top.value:], ','); k >= 0 {
		h.topEnd = top.value + k
	}
	for h.topEnd > top.value && isLWS(top.text[h.topEnd-1]) {
		h.topEnd--
	}
	host, params := viaHostParams(top.text[top.value:h.topEnd])
	h.viaHost = str(host)
	seenBranch := false
	for len(params) > 0 {
		var k, v []byte
		k, v, params = nextParam(params)
		// Parameter names as sipgo matches them (case-sensitive), so both paths read a
		// request alike.
		switch string(k) {
		case "branch":
			if seenBranch {
				return false // which one sipgo keeps is its business: the general path
			}
			r.branch, seenBranch = str(v), true
		case "rport":
			if len(v) > 0 || h.rport != 0 {
				return false // a client that filled it in: the general path
			}
			h.rport = 1
		case "received":
			return false
		}
	}
	// To: user and host of the URI, and whether it has a tag.
	user, thost, tparams := nameAddrParts(bytes.Trim(to.text[to.value:], " \t"))
	if len(user) == 0 || len(user) > 64 {
		return false
	}
	r.toUser, r.toHost = str(user), str(thost)
	for len(tparams) > 0 {
		var k []byte
		k, _, tparams = nextParam(tparams)
		if string(k) == "tag" {
			h.toHasTag = true // (several tags: it has one either way)
		}
	}
	r.callID = str(bytes.Trim(callID.text[callID.value:], " \t"))
	if ua.text != nil {
		r.userAgent = str(bytes.Trim(ua.text[ua.value:], " \t"))
	}
	h.from, h.to, h.callID, h.cseq = from, to, callID, cseq
	return true
}

// Header kinds for fastRegister.read.
const (
	hOther   = iota // any other: sipgo keeps it as a generic header
	hRefused        // keeps a REGISTER off the fast path
	hVia
	hFrom
	hTo
	hCallID
	hCSeq
	hContact
	hMaxForwards
	hContentLength
	hUserAgent
)

// headerKind names a header by its name, full or compact, in any case.
func headerKind(name []byte) int {
	var buf [20]byte
	if len(name) > len(buf) {
		return hOther
	}
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(name)]) {
	case "v", "via":
		return hVia
	case "f", "from":
		return hFrom
	case "t", "to":
		return hTo
	case "i", "call-id":
		return hCallID
	case "cseq":
		return hCSeq
	case "m", "contact":
		return hContact
	case "max-forwards":
		return hMaxForwards
	case "l", "content-length":
		return hContentLength
	case "user-agent":
		return hUserAgent
	case "authorization", "proxy-authorization", "require", "c", "content-type", "route",
		"record-route", "r", "refer-to", "b", "referred-by", "e", "content-encoding":
		// Credentials, Require (420), a body's type, routes: the general path's.
		return hRefused
	}
	return hOther
}

// uintptrDiff is the offset of b within data (b is a sub-slice of data).
func uintptrDiff(data, b []byte) int {
	return cap(data) - cap(b)
}

// plainVias: every via-parm of a Via field reads strictly (strictVia), with plain
// token parameter values (no quoted strings, no IPv6 host).
func plainVias(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	for len(v) > 0 {
		k := bytes.IndexByte(v, ',')
		part := v
		if k >= 0 {
			part, v = v[:k], v[k+1:]
			// sipgo splits Via values at ", " only, and only after a parameter.
			if len(v) == 0 || v[0] != ' ' || len(bytes.Trim(v, " \t")) == 0 || bytes.IndexByte(part, ';') < 0 {
				return false
			}
		} else {
			v = nil
		}
		part = bytes.Trim(part, " \t")
		if !strictVia(part) || bytes.ContainsAny(part, "\"[") {
			return false
		}
	}
	return true
}

// viaHostParams splits a strict via-parm into its host and its ";…" parameters.
func viaHostParams(v []byte) (host, params []byte) {
	v = bytes.TrimLeft(v, " \t")
	sp := bytes.IndexAny(v, " \t")
	v = bytes.TrimLeft(v[sp:], " \t")
	end := bytes.IndexByte(v, ';')
	if end < 0 {
		end = len(v)
	}
	host, params = v[:end], v[end:]
	if c := bytes.IndexByte(host, ':'); c >= 0 {
		host = host[:c]
	}
	return host, params
}

// nextParam reads ";key[=value]" from p (plain tokens) and returns the rest.
func nextParam(p []byte) (key, value, rest []byte) {
	p = p[1:] // ';'
	end := bytes.IndexByte(p, ';')
	if end < 0 {
		end = len(p)
	}
	kv, rest := p[:end], p[end:]
	if eq := bytes.IndexByte(kv, '='); eq >= 0 {
		return kv[:eq], kv[eq+1:], rest
	}
	return kv, nil, rest
}

// plainURI: sip:[user@]host[:port][;param[=value]]… with plain characters only (a
// strict subset of what sipgo reads); needUser requires the user part.
func plainURI(u []byte, needUser bool) bool {
	switch {
	case bytes.HasPrefix(u, []byte("sip:")):
		u = u[4:]
	case bytes.HasPrefix(u, []byte("sips:")):
		u = u[5:]
	default:
		return false
	}
	if at := bytes.IndexByte(u, '@'); at >= 0 {
		if at == 0 || !allOf(u[:at], isUserChar) {
			return false
		}
		u = u[at+1:]
	} else if needUser {
		return false
	}
	end := bytes.IndexByte(u, ';')
	if end < 0 {
		end = len(u)
	}
	hostport, params := u[:end], u[end:]
	host := hostport
	if c := bytes.IndexByte(hostport, ':'); c >= 0 {
		host = hostport[:c]
		if n, ok := decimal(hostport[c+1:], 5); !ok || n > 65535 {
			return false
		}
	}
	if len(host) == 0 || !allOf(host, isHostChar) {
		return false
	}
	return plainParams(params)
}

// plainParams: *( ";" token [ "=" token ] ).
func plainParams(p []byte) bool {
	for len(p) > 0 {
		if p[0] != ';' {
			return false
		}
		var k, v []byte
		k, v, p = nextParam(p)
		if len(k) == 0 || !allOf(k, isTokenChar) || v != nil && !allOf(v, isTokenChar) {
			return false
		}
	}
	return true
}

// plainNameAddr: [ "display name" ] <sip-URI> *( ";" token [ "=" token ] ), the form
// phones send in From and To (an empty display name, "", is not taken).
func plainNameAddr(v []byte) bool {
	if len(v) > 0 && v[0] == '"' {
		k := bytes.IndexByte(v[1:], '"')
		if k < 0 || !allOf(v[1:k+1], isDisplayChar) {
			return false
		}
		v = bytes.TrimLeft(v[k+2:], " \t")
	}
	if len(v) == 0 || v[0] != '<' {
		return false
	}
	k := bytes.IndexByte(v, '>')
	if k < 0 || !plainURI(v[1:k], true) {
		return false
	}
	return plainParams(v[k+1:])
}

// nameAddrParts gives the user, host and parameters of a name-addr plainNameAddr took.
func nameAddrParts(v []byte) (user, host, params []byte) {
	lt, gt := bytes.IndexByte(v, '<'), bytes.IndexByte(v, '>')
	u, params := v[lt+1:gt], v[gt+1:]
	u = u[bytes.IndexByte(u, ':')+1:]
	at := bytes.IndexByte(u, '@')
	user, u = u[:at], u[at+1:]
	if e := bytes.IndexAny(u, ":;"); e >= 0 {
		u = u[:e]
	}
	return user, u, params
}

// plainContact: "*", or one <sip-URI> with parameters, +sip.instance quoted.
func plainContact(v []byte) bool {
	if len(v) == 1 && v[0] == '*' {
		return true
	}
	if len(v) == 0 || v[0] != '<' {
		return false
	}
	k := bytes.IndexByte(v, '>')
	if k < 0 || !plainURI(v[1:k], false) {
		return false
	}
	for p := v[k+1:]; len(p) > 0; {
		var hasValue, ok bool
		if p, hasValue, ok = cutParamName(p); !ok {
			return false
		} else if !hasValue {
			continue
		}
		if len(p) > 0 && p[0] == '"' {
			// "<urn:uuid:…>": no escapes, no commas.
			e := bytes.IndexByte(p[1:], '"')
			if e < 0 || bytes.ContainsAny(p[1:e+1], "\\,") {
				return false
			}
			p = p[e+2:]
			continue
		}
		j := tokenLen(p)
		if j == 0 {
			return false
		}
		p = p[j:]
	}
	return true
}

func allOf(b []byte, ok func(byte) bool) bool {
	for _, c := range b {
		if !ok(c) {
			return false
		}
	}
	return len(b) > 0
}

// isVisible: printable ASCII, no space.
func isVisible(c byte) bool { return c > ' ' && c < 0x7f }

// isDisplayChar: what a quoted display name may hold here (no quote, backslash or
// angle bracket).
func isDisplayChar(c byte) bool {
	return c >= ' ' && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>'
}

func isUserChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '+'
}

func isHostChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
}

// decimal parses 1 to max decimal digits.
func decimal(b []byte, max int) (uint64, bool) {
	if len(b) == 0 || len(b) > max {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	return n, err == nil
}
