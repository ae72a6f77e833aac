package ldapdir

import (
	"errors"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// A filter is compiled once per request from its BER bytes (RFC 4511 §4.5.1.7) into a
// small tree that is evaluated against entries with three-valued logic.

type fop uint8

const (
	fAnd fop = iota
	fOr
	fNot
	fEqual
	fSubstrings
	fGreater
	fLess
	fPresent
	fUndefined // extensible match, unknown attribute, no matching rule
	fFalse     // present on an attribute nobody has
)

type tri uint8

const (
	tFalse tri = iota
	tTrue
	tUndefined
)

type node struct {
	op         fop
	attr       attrID
	val        string // normalised assertion value; substrings: the initial part
	final      string
	any        []string
	hasInitial bool
	hasFinal   bool
	kids       []node
}

// Bounds on what one filter may cost: nesting, items and substring parts.
const (
	maxFilterDepth = 32
	maxFilterNodes = 512
	maxSubParts    = 64
)

var (
	errFilterComplex = errors.New("filter too complex")
	errFilterBad     = errors.New("malformed filter")
)

type compiler struct{ nodes, parts int }

// compileFilter turns one encoded Filter element into a node.
func compileFilter(t tlv) (node, error) {
	var c compiler
	return c.compile(t, 0)
}

func (c *compiler) compile(t tlv, depth int) (node, error) {
	c.nodes++
	if depth > maxFilterDepth || c.nodes > maxFilterNodes {
		return node{}, errFilterComplex
	}
	if t.tag&classMask != byte(0x80) {
		return node{}, errFilterBad
	}
	switch t.tag &^ (classMask | constructedBit) {
	case ldap.FilterAnd, ldap.FilterOr:
		if t.tag&constructedBit == 0 {
			return node{}, errFilterBad
		}
		n := node{op: fAnd}
		if t.tag&0x1f == ldap.FilterOr {
			n.op = fOr
		}
		count := 0
		for b := t.body; len(b) > 0; count++ {
			_, rest, err := next(b)
			if err != nil {
				return node{}, errFilterBad
			}
			b = rest
		}
		n.kids = make([]node, 0, count)
		for b := t.body; len(b) > 0; {
			k, rest, _ := next(b)
			kid, err := c.compile(k, depth+1)
			if err != nil {
				return node{}, err
			}
			n.kids = append(n.kids, kid)
			b = rest
		}
		return n, nil
	case ldap.FilterNot:
		k, rest, err := next(t.body)
		if err != nil || len(rest) != 0 || t.tag&constructedBit == 0 {
			return node{}, errFilterBad
		}
		kid, err := c.compile(k, depth+1)
		if err != nil {
			return node{}, err
		}
		return node{op: fNot, kids: []node{kid}}, nil
	case ldap.FilterEqualityMatch, ldap.FilterApproxMatch, ldap.FilterGreaterOrEqual, ldap.FilterLessOrEqual:
		desc, val, err := ava(t.body)
		if err != nil {
			return node{}, err
		}
		n := node{op: fEqual, attr: lookupAttr(desc)}
		switch t.tag & 0x1f {
		case ldap.FilterGreaterOrEqual:
			n.op = fGreater
		case ldap.FilterLessOrEqual:
			n.op = fLess
		} // approxMatch acts as equality (RFC 4511 §4.5.1.7.6)
		if n.attr == attrUnknown || attrDefs[n.attr].rule == ruleNone {
			return node{op: fUndefined}, nil
		}
		n.val = normalize(attrDefs[n.attr].rule, string(val))
		return n, nil
	case ldap.FilterPresent:
		n := node{op: fPresent, attr: lookupAttr(t.body)}
		if n.attr == attrUnknown {
			n.op = fFalse
		}
		return n, nil
	case ldap.FilterSubstrings:
		return c.substrings(t.body)
	case ldap.FilterExtensibleMatch:
		return node{op: fUndefined}, nil // RFC 4511 §4.5.1.7.7: unsupported rule
	}
	return node{}, errFilterBad
}

// ava splits an AttributeValueAssertion (RFC 4511 §4.1.8).
func ava(b []byte) (desc, val []byte, err error) {
	d, rest, err := next(b)
	if err != nil || d.tag != tagOctetString {
		return nil, nil, errFilterBad
	}
	v, rest, err := next(rest)
	if err != nil || v.tag != tagOctetString || len(rest) != 0 {
		return nil, nil, errFilterBad
	}
	return d.body, v.body, nil
}

// substrings compiles a SubstringFilter with any number of parts: at most one initial
// (first) and one final (last), any in between (RFC 4511 §4.5.1.7.2).
func (c *compiler) substrings(b []byte) (node, error) {
	d, rest, err := next(b)
	if err != nil || d.tag != tagOctetString {
		return node{}, errFilterBad
	}
	seq, rest, err := next(rest)
	if err != nil || seq.tag != tagSequence || len(rest) != 0 || len(seq.body) == 0 {
		return node{}, errFilterBad
	}
	n := node{op: fSubstrings, attr: lookupAttr(d.body)}
	undefined := n.attr == attrUnknown || attrDefs[n.attr].rule == ruleNone
	rule := ruleCaseIgnore
	if !undefined {
		rule = attrDefs[n.attr].rule
	}
	for p := seq.body; len(p) > 0; {
		part, more, err := next(p)
		if err != nil {
			return node{}, errFilterBad
		}
		if c.parts++; c.parts > maxSubParts {
			return node{}, errFilterComplex
		}
		v := normSubstring(rule, string(part.body))
		switch part.tag {
		case ctxTag(false, 0):
			if n.hasInitial || len(n.any) > 0 || n.hasFinal {
				return node{}, errFilterBad
			}
			n.val, n.hasInitial = v, true
		case ctxTag(false, 1):
			if n.hasFinal {
				return node{}, errFilterBad
			}
			if v != "" {
				n.any = append(n.any, v)
			}
		case ctxTag(false, 2):
			if n.hasFinal {
				return node{}, errFilterBad
			}
			n.final, n.hasFinal = v, true
		default:
			return node{}, errFilterBad
		}
		p = more
	}
	if undefined {
		return node{op: fUndefined}, nil
	}
	return n, nil
}

// eval applies the filter to one entry (RFC 4511 §4.5.1.7: TRUE, FALSE or Undefined).
func (n *node) eval(e *entry) tri {
	switch n.op {
	case fAnd:
		r := tTrue
		for i := range n.kids {
			switch n.kids[i].eval(e) {
			case tFalse:
				return tFalse
			case tUndefined:
				r = tUndefined
			}
		}
		return r
	case fOr:
		r := tFalse
		for i := range n.kids {
			switch n.kids[i].eval(e) {
			case tTrue:
				return tTrue
			case tUndefined:
				r = tUndefined
			}
		}
		return r
	case fNot:
		switch n.kids[0].eval(e) {
		case tTrue:
			return tFalse
		case tFalse:
			return tTrue
		}
		return tUndefined
	case fUndefined:
		return tUndefined
	case fFalse:
		return tFalse
	}
	vals := e.values(n.attr)
	switch n.op {
	case fPresent:
		return truth(len(vals) > 0)
	case fEqual:
		for _, v := range vals {
			if v == n.val {
				return tTrue
			}
		}
	case fGreater:
		for _, v := range vals {
			if v >= n.val {
				return tTrue
			}
		}
	case fLess:
		for _, v := range vals {
			if v <= n.val {
				return tTrue
			}
		}
	case fSubstrings:
		for _, v := range vals {
			if n.substringMatch(v) {
				return tTrue
			}
		}
	}
	return tFalse
}

func truth(b bool) tri {
	if b {
		return tTrue
	}
	return tFalse
}

func (n *node) substringMatch(s string) bool {
	pos, end := 0, len(s)
	if n.hasInitial {
		if !strings.HasPrefix(s, n.val) {
			return false
		}
		pos = len(n.val)
	}
	if n.hasFinal {
		if end-pos < len(n.final) || !strings.HasSuffix(s, n.final) {
			return false
		}
		end -= len(n.final)
	}
	for _, a := range n.any {
		i := strings.Index(s[pos:end], a)
		if i < 0 {
			return false
		}
		pos += i + len(a)
	}
	return true
}

// values returns an entry's normalised values of an attribute, operational ones included.
func (e *entry) values(a attrID) []string {
	if a < numUserAttrs {
		if a == aJPEGPhoto {
			return e.vals[a]
		}
		return e.norm[a]
	}
	switch a {
	case aEntryDN:
		return []string{e.ndn}
	case aStructuralObjectClass:
		return []string{strings.ToLower(e.structural)}
	case aSubschemaSubentry:
		return []string{"cn=subschema"}
	case aHasSubordinates:
		return []string{boolString(e.children)}
	}
	return nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
