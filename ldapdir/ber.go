package ldapdir

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// BER as LDAP uses it (RFC 4511 §5.1): definite lengths only, tags below 31 for
// everything LDAP defines. Requests are parsed in place from the message buffer; nothing
// is copied until a value must outlive the request.

var (
	errTruncated  = errors.New("ber: truncated element")
	errIndefinite = errors.New("ber: indefinite length (RFC 4511 §5.1 forbids it)")
	errLength     = errors.New("ber: length too large")
	errTag        = errors.New("ber: unexpected tag")
)

// Identifier octets (X.690 §8.1.2) for the tags LDAP uses.
const (
	tagBoolean     = byte(ber.ClassUniversal) | byte(ber.TagBoolean)
	tagInteger     = byte(ber.ClassUniversal) | byte(ber.TagInteger)
	tagOctetString = byte(ber.ClassUniversal) | byte(ber.TagOctetString)
	tagEnumerated  = byte(ber.ClassUniversal) | byte(ber.TagEnumerated)
	tagSequence    = byte(ber.ClassUniversal) | byte(ber.TypeConstructed) | byte(ber.TagSequence)
	tagSet         = byte(ber.ClassUniversal) | byte(ber.TypeConstructed) | byte(ber.TagSet)
	classMask      = 0xc0
	constructedBit = byte(ber.TypeConstructed)
)

func appTag(constructed bool, n uint8) byte {
	t := byte(ber.ClassApplication) | n
	if constructed {
		t |= constructedBit
	}
	return t
}

func ctxTag(constructed bool, n uint8) byte {
	t := byte(ber.ClassContext) | n
	if constructed {
		t |= constructedBit
	}
	return t
}

// tlv is one parsed element: its identifier octet and its contents.
type tlv struct {
	tag  byte
	body []byte
}

// next splits the first element off b.
func next(b []byte) (t tlv, rest []byte, err error) {
	if len(b) < 2 {
		return t, nil, errTruncated
	}
	t.tag = b[0]
	if t.tag&0x1f == 0x1f {
		return t, nil, errTag // high tag numbers: LDAP defines none
	}
	n, hdr, err := parseLength(b[1:])
	if err != nil {
		return t, nil, err
	}
	b = b[1+hdr:]
	if n > len(b) {
		return t, nil, errTruncated
	}
	return tlv{t.tag, b[:n]}, b[n:], nil
}

// parseLength reads definite-form length octets (X.690 §8.1.3), at most 4 of them.
func parseLength(b []byte) (n, used int, err error) {
	if len(b) == 0 {
		return 0, 0, errTruncated
	}
	c := b[0]
	if c < 0x80 {
		return int(c), 1, nil
	}
	k := int(c & 0x7f)
	if k == 0 {
		return 0, 0, errIndefinite
	}
	if k > 4 {
		return 0, 0, errLength
	}
	if len(b) < 1+k {
		return 0, 0, errTruncated
	}
	for _, x := range b[1 : 1+k] {
		n = n<<8 | int(x)
	}
	if n < 0 || n > 1<<30 {
		return 0, 0, errLength
	}
	return n, 1 + k, nil
}

// parseInt reads a two's-complement INTEGER or ENUMERATED of at most 8 octets.
func parseInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 8 {
		return 0, fmt.Errorf("ber: integer of %d octets", len(b))
	}
	v := int64(int8(b[0]))
	for _, x := range b[1:] {
		v = v<<8 | int64(x)
	}
	return v, nil
}

// errTooLarge reports a message whose announced length exceeds the connection's limit.
type errTooLarge struct{ n, max int }

func (e errTooLarge) Error() string {
	return fmt.Sprintf("message of %d bytes exceeds the limit of %d", e.n, e.max)
}

// readMessage reads one LDAPMessage envelope into buf (grown as needed, never beyond max)
// and returns its contents. The length is checked before anything is allocated, so a
// claimed 2 GiB costs nothing (the same rule as ber.MaxPacketLengthBytes, per connection).
func readMessage(r *bufio.Reader, buf []byte, limit int) ([]byte, []byte, error) {
	tag, err := r.ReadByte()
	if err != nil {
		return nil, buf, err
	}
	if tag != tagSequence {
		return nil, buf, fmt.Errorf("message starts with tag 0x%02x, not SEQUENCE", tag)
	}
	var hdr [5]byte
	if hdr[0], err = r.ReadByte(); err != nil {
		return nil, buf, noEOF(err)
	}
	k := 0
	if hdr[0] >= 0x80 {
		k = int(hdr[0] & 0x7f)
		if k == 0 || k > 4 {
			return nil, buf, errLength
		}
		if _, err := io.ReadFull(r, hdr[1:1+k]); err != nil {
			return nil, buf, noEOF(err)
		}
	}
	n, _, err := parseLength(hdr[:1+k])
	if err != nil {
		return nil, buf, err
	}
	if n > limit {
		return nil, buf, errTooLarge{n, limit}
	}
	if cap(buf) < n {
		buf = make([]byte, n, max(n, 2*cap(buf)))
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, buf, noEOF(err)
	}
	return buf, buf, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// encoder writes BER straight into a byte slice. open/close frame constructed elements;
// a length above 127 octets is patched in on close by shifting the contents.
type encoder struct {
	b     []byte
	stack []int
}

func (e *encoder) reset() { e.b = e.b[:0]; e.stack = e.stack[:0] }

func (e *encoder) open(tag byte) {
	e.b = append(e.b, tag, 0)
	e.stack = append(e.stack, len(e.b))
}

func (e *encoder) close() {
	start := e.stack[len(e.stack)-1]
	e.stack = e.stack[:len(e.stack)-1]
	n := len(e.b) - start
	if n < 0x80 {
		e.b[start-1] = byte(n)
		return
	}
	k := lengthOctets(n)
	e.b = append(e.b, make([]byte, k)...)
	copy(e.b[start+k:], e.b[start:start+n])
	e.b[start-1] = 0x80 | byte(k)
	for i := k - 1; i >= 0; i-- {
		e.b[start+i] = byte(n)
		n >>= 8
	}
}

func lengthOctets(n int) int {
	k := 1
	for n > 0xff {
		n >>= 8
		k++
	}
	return k
}

func (e *encoder) length(n int) { e.b = appendLength(e.b, n) }

// appendLength appends definite-form length octets (X.690 §8.1.3) for n.
func appendLength(b []byte, n int) []byte {
	if n < 0x80 {
		return append(b, byte(n))
	}
	k := lengthOctets(n)
	b = append(b, 0x80|byte(k))
	for i := k - 1; i >= 0; i-- {
		b = append(b, byte(n>>(8*i)))
	}
	return b
}

func (e *encoder) str(tag byte, s string) {
	e.b = append(e.b, tag)
	e.length(len(s))
	e.b = append(e.b, s...)
}

func (e *encoder) bytes(tag byte, s []byte) {
	e.b = append(e.b, tag)
	e.length(len(s))
	e.b = append(e.b, s...)
}

func (e *encoder) int(tag byte, v int64) {
	n := 1
	for x := v; x > 127 || x < -128; x >>= 8 {
		n++
	}
	e.b = append(e.b, tag, byte(n))
	for i := n - 1; i >= 0; i-- {
		e.b = append(e.b, byte(v>>(8*i)))
	}
}

func (e *encoder) raw(b []byte) { e.b = append(e.b, b...) }

// encodeAttribute returns a PartialAttribute (RFC 4511 §4.1.7) as bytes.
func encodeAttribute(name string, vals []string) []byte {
	var e encoder
	e.open(tagSequence)
	e.str(tagOctetString, name)
	e.open(tagSet)
	for _, v := range vals {
		e.str(tagOctetString, v)
	}
	e.close()
	e.close()
	return e.b
}
