package sip

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// replyWriter builds one response in a reused buffer, straight from the parsed request:
// no sip.Response, no cloned headers (RFC 3261 §8.2.6).
type replyWriter struct {
	b   []byte
	req *sip.Request
	// raw is the request as received, while it is being answered: its Via, From, To,
	// Call-ID and CSeq lines are copied from it (copyHeaders) instead of serialised
	// again from the parsed request.
	raw []byte
	// scratch holds text a request handler builds before it needs it as strings.
	scratch []byte
	src     netip.AddrPort
	tag     string
	// txKey is the request's transaction key (retransmit.go), 0 until computed.
	txKey uint64
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
		mark := len(w.b)
		if w.copyHeaders(code) {
			return
		}
		w.b = w.b[:mark]
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

// copyHeaders writes the Via, From, To, Call-ID and CSeq fields of the raw request, as
// received and in that order (RFC 3261 §8.2.6.2: they MUST equal the request's), with
// received and rport added to the top Via (RFC 3261 §18.2.1, RFC 3581 §4) and our tag
// to a To without one. It reports false, having written garbage, for anything it does
// not handle (folded lines, more than 8 Vias, an rport or received the client already
// filled in): then the parsed request is serialised instead.
func (w *replyWriter) copyHeaders(code int) bool {
	raw, req := w.raw, w.req
	type span struct{ start, value, end int } // field start, value start, field end
	var (
		vias                   [8]span
		nv                     int
		from, to, callID, cseq span
	)
	i := bytes.Index(raw, crlf)
	if i < 0 {
		return false
	}
	for i += 2; ; {
		k := bytes.Index(raw[i:], crlf)
		if k < 0 {
			return false
		}
		end := i + k
		if end == i {
			break // the blank line: end of the header section
		}
		if end+2 < len(raw) && (raw[end+2] == ' ' || raw[end+2] == '\t') {
			return false // a folded field
		}
		c := bytes.IndexByte(raw[i:end], ':')
		if c < 0 {
			return false
		}
		f := span{i, i + c + 1, end}
		name := bytes.TrimRight(raw[i:i+c], " \t")
		switch {
		case len(name) == 1:
			switch name[0] | 0x20 {
			case 'v':
				if nv == len(vias) {
					return false
				}
				vias[nv], nv = f, nv+1
			case 'f':
				from = firstSpan(from, f)
			case 't':
				to = firstSpan(to, f)
			case 'i':
				callID = firstSpan(callID, f)
			}
		case bytes.EqualFold(name, []byte("Via")):
			if nv == len(vias) {
				return false
			}
			vias[nv], nv = f, nv+1
		case bytes.EqualFold(name, []byte("From")):
			from = firstSpan(from, f)
		case bytes.EqualFold(name, []byte("To")):
			to = firstSpan(to, f)
		case bytes.EqualFold(name, []byte("Call-ID")):
			callID = firstSpan(callID, f)
		case bytes.EqualFold(name, []byte("CSeq")):
			cseq = firstSpan(cseq, f)
		}
		i = end + 2
	}
	via := req.Via()
	if nv == 0 || from.end == 0 || to.end == 0 || callID.end == 0 || cseq.end == 0 || via == nil {
		return false
	}
	// Top Via: the first via-parm of the first Via field.
	top := vias[0]
	valueEnd := top.end
	if k := indexUnquoted(raw[top.value:top.end], ','); k >= 0 {
		valueEnd = top.value + k
	}
	for valueEnd > top.value && (raw[valueEnd-1] == ' ' || raw[valueEnd-1] == '\t') {
		valueEnd--
	}
	var ipBuf [48]byte
	ip := w.src.Addr().AppendTo(ipBuf[:0])
	rport, hasRport := via.Params.Get("rport")
	if _, ok := via.Params.Get("received"); ok || (hasRport && rport != "") {
		return false
	}
	rportAt := -1
	if hasRport {
		if rportAt = paramEnd(raw[top.value:valueEnd], "rport"); rportAt < 0 {
			return false
		}
		rportAt += top.value
	}
	addReceived := hasRport || via.Host != string(ip)
	w.b = append(w.b, raw[top.start:top.end]...)
	if rportAt >= 0 || addReceived {
		w.b = w.b[:len(w.b)-(top.end-top.start)]
		at := top.start
		if rportAt >= 0 {
			w.b = append(w.b, raw[at:rportAt]...)
			w.b = append(w.b, '=')
			w.b = strconv.AppendUint(w.b, uint64(w.src.Port()), 10)
			at = rportAt
		}
		w.b = append(w.b, raw[at:valueEnd]...)
		if addReceived {
			w.b = append(w.b, ";received="...)
			w.b = append(w.b, ip...)
		}
		w.b = append(w.b, raw[valueEnd:top.end]...)
	}
	w.b = append(w.b, "\r\n"...)
	for _, v := range vias[1:nv] {
		w.b = append(w.b, raw[v.start:v.end]...)
		w.b = append(w.b, "\r\n"...)
	}
	w.b = append(w.b, raw[from.start:from.end]...)
	w.b = append(w.b, "\r\n"...)
	toEnd := to.end
	for toEnd > to.value && (raw[toEnd-1] == ' ' || raw[toEnd-1] == '\t') {
		toEnd--
	}
	w.b = append(w.b, raw[to.start:toEnd]...)
	if h := req.To(); h != nil && code > 100 {
		if _, ok := h.Params.Get("tag"); !ok {
			w.b = append(w.b, ";tag="...)
			w.b = append(w.b, w.tag...)
		}
	}
	w.b = append(w.b, "\r\n"...)
	w.b = append(w.b, raw[callID.start:callID.end]...)
	w.b = append(w.b, "\r\n"...)
	w.b = append(w.b, raw[cseq.start:cseq.end]...)
	w.b = append(w.b, "\r\n"...)
	return true
}

var crlf = []byte("\r\n")

func firstSpan[T comparable](have, next T) T {
	var zero T
	if have != zero {
		return have
	}
	return next
}

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

// paramEnd finds the parameter name (case-insensitive, without a value) among the
// ;-separated parameters of a header value and returns the index just after it, or -1.
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
		if strings.EqualFold(string(v[j:e]), name) {
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
