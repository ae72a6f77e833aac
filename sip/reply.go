package sip

import (
	"bytes"
	"github.com/dialtone/dialtone/internal/digest"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// replyWriter builds one response in a reused buffer, straight from the parsed request:
// no sip.Response, no cloned headers (RFC 3261 §8.2.6).
type replyWriter struct {
	b   []byte
	req *sip.Request
	// raw is the request as received, while it is being answered (after scan): its
	// Via, From, To, Call-ID and CSeq fields, hdrs, are copied from it (copyHeaders)
	// instead of serialised again from the parsed request. A writer without raw (a
	// request answered later, away from its datagram) serialises the parsed request.
	raw  []byte
	hdrs rawHeaders
	// scratch holds text a request handler builds before it needs it as strings.
	scratch []byte
	// fold holds the unfolded text of folded request fields (scan).
	fold []byte
	src  netip.AddrPort
	tag  string
	// txKey is the request's transaction key (retransmit.go), 0 until computed.
	txKey uint64
}

// abandon forgets the request a panic interrupted, so the reused writer starts clean.
func (w *replyWriter) abandon() {
	w.b, w.req, w.raw, w.txKey = w.b[:0], nil, nil, 0
}

// transactionKey gives (and keeps) the key of the request being answered.
func (w *replyWriter) transactionKey(c *challengeCache) uint64 {
	if w.txKey == 0 {
		w.txKey = c.transactionKey(w.req, w.src)
	}
	return w.txKey
}

// WriteString lets sipgo headers serialise themselves into the buffer.
func (w *replyWriter) WriteString(s string) (int, error) {
	w.b = append(w.b, s...)
	return len(s), nil
}

// status starts a response: status line and the headers copied from the request
// (RFC 3261 §8.2.6.2: Via, From, To with our tag, Call-ID, CSeq).
func (w *replyWriter) status(code int, reason string) {
	req := w.req
	w.b = append(w.b[:0], "SIP/2.0 "...)
	w.b = strconv.AppendInt(w.b, int64(code), 10)
	w.b = append(w.b, ' ')
	w.b = append(w.b, reason...)
	w.b = append(w.b, "\r\n"...)
	if w.raw != nil {
		w.copyHeaders(code)
		return
	}
	first := true
	for _, h := range req.Headers() {
		via, ok := h.(*sip.ViaHeader)
		if !ok {
			continue
		}
		if first {
			first = false
			// RFC 3261 §18.2.1 received, RFC 3581 §4 rport.
			if _, ok := via.Params.Get("rport"); ok {
				via.Params.Add("rport", strconv.Itoa(int(w.src.Port())))
				via.Params.Add("received", w.src.Addr().String())
			} else if via.Host != w.src.Addr().String() {
				via.Params.Add("received", w.src.Addr().String())
			}
		}
		via.StringWrite(w)
		w.b = append(w.b, "\r\n"...)
	}
	if h := req.From(); h != nil {
		h.StringWrite(w)
		w.b = append(w.b, "\r\n"...)
	}
	if h := req.To(); h != nil {
		h.StringWrite(w)
		if _, ok := h.Params.Get("tag"); !ok && code > 100 {
			w.b = append(w.b, ";tag="...)
			w.b = append(w.b, w.tag...)
		}
		w.b = append(w.b, "\r\n"...)
	}
	if h := req.CallID(); h != nil {
		h.StringWrite(w)
		w.b = append(w.b, "\r\n"...)
	}
	if h := req.CSeq(); h != nil {
		h.StringWrite(w)
		w.b = append(w.b, "\r\n"...)
	}
}

// maxVias is how many Via fields a request we answer may carry.
const maxVias = 16

// rawHeaders are the fields of a raw request that its answers echo.
type rawHeaders struct {
	vias                   [maxVias]rawField
	nv                     int
	from, to, callID, cseq rawField
	topEnd                 int // end of the first via-parm in vias[0].text
	// What the answer needs to know of the top Via and the To.
	viaHost  string
	rport    int8 // 0 none, 1 without a value, 2 with one
	received bool
	toHasTag bool
}

// scan finds the fields of w.raw that answers echo and reports whether the request can
// be answered faithfully: a top Via that reads strictly (strictVia), at most maxVias
// Via fields, a To a tag can be appended to. Folded fields are unfolded as the parser
// unfolded them. A request that fails is dropped: the parser reads far more leniently
// than RFC 3261, and an echo of what it made of such a request need not read back.
func (w *replyWriter) scan() bool {
	raw, h := w.raw, &w.hdrs
	*h = rawHeaders{}
	i := bytes.Index(raw, crlf)
	if i < 0 {
		return false
	}
	w.fold = w.fold[:0]
	for i += 2; ; {
		k := bytes.Index(raw[i:], crlf)
		if k < 0 {
			return false
		}
		end := i + k
		if end == i {
			break // the blank line: end of the header section
		}
		text := raw[i:end]
		next := end + 2
		if next < len(raw) && digest.IsLWS(raw[next]) {
			// A folded field: joined as the parser joins it (sip.foldHeaderLine), each
			// line trimmed and the lines joined by one space.
			start := len(w.fold)
			w.fold = append(w.fold, bytes.TrimRight(text, " \t")...)
			for next < len(raw) && digest.IsLWS(raw[next]) {
				k := bytes.Index(raw[next:], crlf)
				if k < 0 {
					return false
				}
				w.fold = append(w.fold, ' ')
				w.fold = append(w.fold, bytes.Trim(raw[next:next+k], " \t")...)
				next += k + 2
			}
			text = w.fold[start:]
		}
		i = next
		c := bytes.IndexByte(text, ':')
		if c < 0 {
			return false
		}
		f := rawField{text, c + 1}
		name := bytes.TrimRight(text[:c], " \t")
		switch {
		case len(name) == 1 && name[0]|0x20 == 'v', bytes.EqualFold(name, []byte("Via")):
			if h.nv == maxVias {
				return false
			}
			h.vias[h.nv], h.nv = f, h.nv+1
		case len(name) == 1 && name[0]|0x20 == 'f', bytes.EqualFold(name, []byte("From")):
			h.from = h.from.or(f)
		case len(name) == 1 && name[0]|0x20 == 't', bytes.EqualFold(name, []byte("To")):
			h.to = h.to.or(f)
		case len(name) == 1 && name[0]|0x20 == 'i', bytes.EqualFold(name, []byte("Call-ID")):
			h.callID = h.callID.or(f)
		case bytes.EqualFold(name, []byte("CSeq")):
			h.cseq = h.cseq.or(f)
		}
	}
	if h.nv == 0 || !saneVia(w.req.Via()) {
		return false
	}
	// The first via-parm of the top Via must be plain; another after a comma is echoed
	// as it came.
	top := h.vias[0]
	h.topEnd = len(top.text)
	if k := indexUnquoted(top.text[top.value:], ','); k >= 0 {
		h.topEnd = top.value + k
		if len(bytes.Trim(top.text[h.topEnd+1:], " \t")) == 0 {
			return false // a comma with nothing after it
		}
	}
	for h.topEnd > top.value && digest.IsLWS(top.text[h.topEnd-1]) {
		h.topEnd--
	}
	if !strictVia(top.text[top.value:h.topEnd]) {
		return false
	}
	if h.to.text != nil && !plainEnd(h.to.text) {
		return false
	}
	via := w.req.Via()
	h.viaHost = via.Host
	if v, ok := via.Params.Get("rport"); ok {
		h.rport = 1
		if v != "" {
			h.rport = 2
		}
	}
	_, h.received = via.Params.Get("received")
	if to := w.req.To(); to != nil {
		_, h.toHasTag = to.Params.Get("tag")
	}
	return true
}

// copyHeaders writes the Via, From, To, Call-ID and CSeq fields scan found, as received
// and in that order (RFC 3261 §8.2.6.2: they MUST equal the request's), with received
// and rport added to the top Via (RFC 3261 §18.2.1, RFC 3581 §4) and our tag to a To
// without one.
func (w *replyWriter) copyHeaders(code int) {
	h := &w.hdrs
	var ipBuf [48]byte
	ip := w.src.Addr().AppendTo(ipBuf[:0])
	top := h.vias[0]
	rportAt := -1
	if h.rport == 1 && !h.received {
		if k := paramEnd(top.text[top.value:h.topEnd], "rport"); k >= 0 {
			rportAt = top.value + k
		}
	}
	switch {
	case rportAt >= 0 || h.rport == 0 && !h.received:
		// The usual case: the top via-parm as it came, the parameters added.
		at := 0
		if rportAt >= 0 {
			w.b = append(w.b, top.text[:rportAt]...)
			w.b = append(w.b, '=')
			w.b = strconv.AppendUint(w.b, uint64(w.src.Port()), 10)
			at = rportAt
		}
		w.b = append(w.b, top.text[at:h.topEnd]...)
		if h.rport != 0 || h.viaHost != string(ip) {
			w.b = append(w.b, ";received="...)
			w.b = append(w.b, ip...)
		}
		w.b = append(w.b, top.text[h.topEnd:]...)
	default:
		// The client filled in rport or received itself: overwritten in the parsed Via
		// (strict, so it serialises faithfully), the rest of the field as it came.
		via := w.req.Via()
		if h.rport != 0 {
			via.Params.Add("rport", strconv.Itoa(int(w.src.Port())))
		}
		via.Params.Add("received", string(ip))
		via.StringWrite(w) // "Via: …"
		rest := top.text[h.topEnd:]
		if len(rest) > 0 {
			w.b = append(w.b, rest...)
		}
	}
	w.b = append(w.b, "\r\n"...)
	for _, v := range h.vias[1:h.nv] {
		w.line(v.text)
	}
	// A request without From, To, Call-ID or CSeq gets its 400 without them.
	w.line(h.from.text)
	if h.to.text != nil {
		w.b = append(w.b, bytes.TrimRight(h.to.text, " \t")...)
		if !h.toHasTag && code > 100 {
			w.b = append(w.b, ";tag="...)
			w.b = append(w.b, w.tag...)
		}
		w.b = append(w.b, "\r\n"...)
	}
	w.line(h.callID.text)
	w.line(h.cseq.text)
}

// line copies a header field as the request had it, ending the line; nothing for a
// field the request lacked (nil).
func (w *replyWriter) line(field []byte) {
	if field != nil {
		w.b = append(w.b, field...)
		w.b = append(w.b, "\r\n"...)
	}
}

// strictVia checks a via-parm against RFC 3261 §25.1 (sent-protocol LWS sent-by
// *( SEMI via-params ), params as token [ "=" token / quoted-string / IPv6 reference ]):
// the parser reads much more leniently, and what we echo with a parameter added must
// read back.
func strictVia(v []byte) bool {
	v = bytes.TrimLeft(v, " \t")
	// sent-protocol: SIP / 2.0 / transport, no spaces inside (as clients send it).
	sp := bytes.IndexAny(v, " \t")
	if sp < 0 {
		return false
	}
	proto := v[:sp]
	if len(proto) < 9 || !bytes.EqualFold(proto[:8], []byte("SIP/2.0/")) || !allOf(proto[8:], digest.IsTokenChar) {
		return false
	}
	v = bytes.TrimLeft(v[sp:], " \t")
	// sent-by: host [":" port]; a host is letters, digits, '-', '.', or an IPv6 reference.
	i := 0
	if len(v) > 0 && v[0] == '[' {
		k := bytes.IndexByte(v, ']')
		if k < 0 {
			return false
		}
		i = k + 1
	} else {
		for i < len(v) && (digest.IsTokenChar(v[i]) && v[i] != '!' && v[i] != '%' && v[i] != '*' && v[i] != '+' && v[i] != '`' && v[i] != '\'' && v[i] != '~') {
			i++
		}
	}
	if i == 0 {
		return false
	}
	if i < len(v) && v[i] == ':' {
		j := i + 1
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		if j == i+1 || j-i-1 > 5 {
			return false
		}
		i = j
	}
	// via-params
	for v = v[i:]; len(v) > 0; {
		var hasValue, ok bool
		if v, hasValue, ok = cutParamName(v); !ok {
			return false
		} else if !hasValue {
			continue
		}
		switch {
		case len(v) > 0 && v[0] == '"':
			_, rest, ok := digest.QuotedString(string(v))
			if !ok {
				return false
			}
			v = v[len(v)-len(rest):]
		case len(v) > 0 && v[0] == '[':
			k := bytes.IndexByte(v, ']')
			if k < 0 {
				return false
			}
			v = v[k+1:]
		default:
			j := 0
			for j < len(v) && (digest.IsTokenChar(v[j]) || v[j] == ':') {
				j++
			}
			if j == 0 {
				return false
			}
			v = v[j:]
		}
	}
	return true
}

// plainEnd: a To field ends in '>' or a token character, so ";tag=…" can follow.
func plainEnd(f []byte) bool {
	f = bytes.TrimRight(f, " \t")
	if len(f) == 0 {
		return false
	}
	c := f[len(f)-1]
	return c == '>' || digest.IsTokenChar(c) && c != '.'
}

// rawField is one header field of a raw request: its text (name, colon and value, on
// one line) and where the value starts.
type rawField struct {
	text  []byte
	value int
}

// or keeps the first of repeated fields.
func (f rawField) or(next rawField) rawField {
	if f.text != nil {
		return f
	}
	return next
}

var crlf = []byte("\r\n")

// indexUnquoted is the index of the first c in b outside a quoted string, or -1.
func indexUnquoted(b []byte, c byte) int {
	quoted := false
	for i := 0; i < len(b); i++ {
		switch {
		case quoted && b[i] == '\\':
			i++
		case b[i] == '"':
			quoted = !quoted
		case !quoted && b[i] == c:
			return i
		}
	}
	return -1
}

// paramEnd finds the parameter name (as sipgo matches it: case-sensitive), without a
// value, among the ;-separated parameters of a header value and returns the index just
// after it, or -1.
func paramEnd(v []byte, name string) int {
	for i := 0; i < len(v); {
		k := indexUnquoted(v[i:], ';')
		if k < 0 {
			return -1
		}
		i += k + 1
		j := i
		for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
			j++
		}
		e := j
		for e < len(v) && v[e] != ';' && v[e] != '=' && v[e] != ' ' && v[e] != '\t' {
			e++
		}
		if string(v[j:e]) == name {
			rest := e
			for rest < len(v) && (v[rest] == ' ' || v[rest] == '\t') {
				rest++
			}
			if rest < len(v) && v[rest] == '=' {
				return -1 // has a value
			}
			return e
		}
	}
	return -1
}

// header adds one header line.
func (w *replyWriter) header(name, value string) {
	w.b = append(w.b, name...)
	w.b = append(w.b, ": "...)
	w.b = append(w.b, value...)
	w.b = append(w.b, "\r\n"...)
}

// finish ends the header section; the response has no body.
func (w *replyWriter) finish() []byte {
	w.b = append(w.b, "Server: Dialtone\r\nContent-Length: 0\r\n\r\n"...)
	return w.b
}

// simple writes a complete response with no extra headers.
func (w *replyWriter) simple(code int, reason string) []byte {
	w.status(code, reason)
	return w.finish()
}

// dateHeader is the RFC 1123 date for the Date header (RFC 3261 §20.17), cached for a
// second so the REGISTER path does not format it each time.
type dateHeader struct {
	v   atomic.Pointer[dateValue]
	now func() time.Time
}

type dateValue struct {
	sec int64
	s   string
}

func (d *dateHeader) get() string {
	now := d.now()
	if v := d.v.Load(); v != nil && v.sec == now.Unix() {
		return v.s
	}
	v := &dateValue{sec: now.Unix(), s: now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")}
	d.v.Store(v)
	return v.s
}

// allOf: b is not empty and every byte of it is ok.
func allOf(b []byte, ok func(byte) bool) bool {
	for _, c := range b {
		if !ok(c) {
			return false
		}
	}
	return len(b) > 0
}

// cutParamName reads ";name" (RFC 3261 §25.1 generic-param) at the start of p and
// answers what follows, and whether "=value" does (p then starts at the value).
func cutParamName(p []byte) (rest []byte, hasValue, ok bool) {
	if len(p) == 0 || p[0] != ';' {
		return nil, false, false
	}
	p = p[1:]
	j := digest.TokenLen(p)
	if j == 0 {
		return nil, false, false
	}
	p = p[j:]
	if len(p) == 0 || p[0] != '=' {
		return p, false, true
	}
	return p[1:], true, true
}
