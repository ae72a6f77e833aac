package ldapdir

import (
	"crypto/tls"
	"errors"
	"strings"
	"time"

	"bufio"
)

// compare answers a CompareRequest (RFC 4511 §4.10) with the same access rules as search.
func (c *conn) compare(id int64, body []byte) error {
	dt, rest, err := next(body)
	if err != nil || dt.tag != tagOctetString {
		return errors.New("compare: entry")
	}
	at, _, err := next(rest)
	if err != nil || at.tag != tagSequence {
		return errors.New("compare: assertion")
	}
	desc, val, err := ava(at.body)
	if err != nil {
		return errors.New("compare: assertion")
	}
	ref, err := c.base.resolve(dt.body)
	if err != nil {
		c.result(id, appCompareResponse, resultInvalidDNSyntax, "", "invalid DN")
		return nil
	}
	e, code := c.lookup(ref)
	if e == nil {
		c.result(id, appCompareResponse, code, "", "")
		return nil
	}
	a := lookupAttr(desc)
	if a == attrUnknown {
		c.result(id, appCompareResponse, resultUndefinedAttributeType, "", "")
		return nil
	}
	if len(e.values(a)) == 0 {
		c.result(id, appCompareResponse, resultNoSuchAttribute, "", "")
		return nil
	}
	n := node{op: fEqual, attr: a}
	if attrDefs[a].rule == ruleNone {
		n.op = fUndefined
	} else {
		n.val = normalize(attrDefs[a].rule, string(val))
	}
	switch n.eval(e) {
	case tTrue:
		c.result(id, appCompareResponse, resultCompareTrue, "", "")
	case tFalse:
		c.result(id, appCompareResponse, resultCompareFalse, "", "")
	default:
		c.result(id, appCompareResponse, ldapInappropriateMatching, "", "")
	}
	return nil
}

const ldapInappropriateMatching = 18

// lookup finds the one entry a DN names, if this connection may see it.
func (c *conn) lookup(r ref) (*entry, int) {
	if !r.ok || r.kind == refRootDSE || r.kind == refPhonebook {
		return nil, resultNoSuchObject
	}
	if r.kind == refRoot {
		return c.srv.dir.root, resultSuccess
	}
	var snap *snapshot
	if c.who.kind == anonymous {
		snap = c.srv.dir.snapshot(r.tenant)
		if snap == nil || !snap.tenant.AnonymousSearch {
			return nil, resultInsufficientAccess
		}
	} else {
		if !strings.EqualFold(r.tenant, c.who.tenant) {
			return nil, resultNoSuchObject
		}
		if snap = c.srv.dir.snapshot(c.who.tenant); snap == nil {
			return nil, resultNoSuchObject
		}
	}
	switch r.kind {
	case refTenant:
		return snap.top, resultSuccess
	case refPeople:
		return snap.people, resultSuccess
	case refPerson:
		if e := snap.personByID(r.rest); e != nil {
			return e, resultSuccess
		}
	case refDepartment:
		for _, e := range snap.depts {
			if e.norm[aOU][0] == r.rest {
				return e, resultSuccess
			}
		}
	}
	return nil, resultNoSuchObject
}

// extended answers an ExtendedRequest (RFC 4511 §4.12): StartTLS (§4.14) when a
// certificate is configured, Who am I? (RFC 4532); anything else is a protocolError.
func (c *conn) extended(id int64, body []byte) (bool, error) {
	nt, _, err := next(body)
	if err != nil || nt.tag != ctxTag(false, 0) {
		return false, errors.New("extended: request name")
	}
	switch string(nt.body) {
	case oidStartTLS:
		if c.srv.opts.TLS == nil {
			c.extResult(id, resultProtocolError, "StartTLS is not configured", oidStartTLS, nil)
			return true, nil
		}
		if c.secure {
			c.extResult(id, resultOperationsError, "TLS is already established", oidStartTLS, nil)
			return true, nil
		}
		if c.r.Buffered() > 0 {
			return false, errors.New("data after StartTLS request")
		}
		c.extResult(id, resultSuccess, "", oidStartTLS, nil)
		if err := c.w.Flush(); err != nil {
			return false, err
		}
		tc := tls.Server(c.nc, c.srv.opts.TLS)
		tc.SetDeadline(c.srv.now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			return false, err
		}
		tc.SetDeadline(time.Time{})
		c.nc, c.secure = tc, true
		c.r = bufio.NewReaderSize(tc, 4096)
		c.w = bufio.NewWriterSize(tc, 16<<10)
		return true, nil
	case oidWhoAmI:
		authz := ""
		if c.who.kind != anonymous {
			authz = "dn:" + c.who.dn
		}
		c.extResult(id, resultSuccess, "", "", []byte(authz))
		return true, nil
	}
	c.extResult(id, resultProtocolError, "unsupported extended operation", "", nil)
	return true, nil
}

func (c *conn) extResult(id int64, code int, diag, name string, value []byte) {
	e := &c.enc
	e.reset()
	e.open(tagSequence)
	e.int(tagInteger, id)
	e.open(appTag(true, appExtendedResponse))
	e.int(tagEnumerated, int64(code))
	e.str(tagOctetString, "")
	e.str(tagOctetString, diag)
	if name != "" {
		e.str(ctxTag(false, 10), name)
	}
	if value != nil {
		e.bytes(ctxTag(false, 11), value)
	}
	e.close()
	e.close()
	c.w.Write(e.b)
}
