package sip

import (
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
	src netip.AddrPort
	tag string
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
	first := true
	for _, h := range req.GetHeaders("Via") {
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
