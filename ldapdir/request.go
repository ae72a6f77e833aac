package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"io"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

var errEOF = io.EOF

const (
	appBindRequest      = ldap.ApplicationBindRequest
	appBindResponse     = ldap.ApplicationBindResponse
	appUnbindRequest    = ldap.ApplicationUnbindRequest
	appSearchRequest    = ldap.ApplicationSearchRequest
	appSearchEntry      = ldap.ApplicationSearchResultEntry
	appSearchDone       = ldap.ApplicationSearchResultDone
	appModifyRequest    = ldap.ApplicationModifyRequest
	appAddRequest       = ldap.ApplicationAddRequest
	appDelRequest       = ldap.ApplicationDelRequest
	appModDNRequest     = ldap.ApplicationModifyDNRequest
	appCompareRequest   = ldap.ApplicationCompareRequest
	appCompareResponse  = ldap.ApplicationCompareResponse
	appAbandonRequest   = ldap.ApplicationAbandonRequest
	appExtendedRequest  = ldap.ApplicationExtendedRequest
	appExtendedResponse = ldap.ApplicationExtendedResponse

	resultSuccess                = ldap.LDAPResultSuccess
	resultOperationsError        = ldap.LDAPResultOperationsError
	resultProtocolError          = ldap.LDAPResultProtocolError
	resultTimeLimit              = ldap.LDAPResultTimeLimitExceeded
	resultSizeLimit              = ldap.LDAPResultSizeLimitExceeded
	resultCompareFalse           = ldap.LDAPResultCompareFalse
	resultCompareTrue            = ldap.LDAPResultCompareTrue
	resultAuthMethodNotSupported = ldap.LDAPResultAuthMethodNotSupported
	resultAdminLimit             = ldap.LDAPResultAdminLimitExceeded
	resultUnavailableCritical    = ldap.LDAPResultUnavailableCriticalExtension
	resultNoSuchAttribute        = ldap.LDAPResultNoSuchAttribute
	resultUndefinedAttributeType = ldap.LDAPResultUndefinedAttributeType
	resultNoSuchObject           = ldap.LDAPResultNoSuchObject
	resultInvalidDNSyntax        = ldap.LDAPResultInvalidDNSyntax
	resultInvalidCredentials     = ldap.LDAPResultInvalidCredentials
	resultInsufficientAccess     = ldap.LDAPResultInsufficientAccessRights
	resultUnwillingToPerform     = ldap.LDAPResultUnwillingToPerform
	resultBusy                   = ldap.LDAPResultBusy

	oidNoticeOfDisconnection = "1.3.6.1.4.1.1466.20036"
	oidStartTLS              = "1.3.6.1.4.1.1466.20037"
	oidWhoAmI                = "1.3.6.1.4.1.4203.1.11.3"
	oidManageDsaIT           = "2.16.840.1.113730.3.4.2"
	oidSortResponse          = ldap.ControlTypeServerSideSortingResult
)

// control is one request control (RFC 4511 §4.1.11), parsed in place.
type control struct {
	oid      []byte
	critical bool
	raw      []byte // the whole Control element, for ldap.DecodeControl
}

// handle answers one LDAPMessage (RFC 4511 §4.2). It returns more=false after an unbind
// and an error for a message so malformed that the connection must go.
func (c *conn) handle(ctx context.Context, msg []byte) (more bool, err error) {
	idt, rest, err := next(msg)
	if err != nil || idt.tag != tagInteger {
		return false, fmt.Errorf("message id: %v", err)
	}
	id, err := parseInt(idt.body)
	if err != nil || id < 0 || id > 1<<31-1 {
		return false, errors.New("message id out of range")
	}
	op, rest, err := next(rest)
	if err != nil {
		return false, err
	}
	c.ctrls = c.ctrls[:0]
	if len(rest) > 0 {
		ct, tail, err := next(rest)
		if err != nil || ct.tag != ctxTag(true, 0) || len(tail) != 0 {
			return false, errors.New("bad controls")
		}
		if err := c.parseControls(ct.body); err != nil {
			return false, err
		}
	}
	switch op.tag {
	case appTag(true, appBindRequest):
		defer c.observe("bind", c.start())
		return true, c.bind(ctx, id, op.body)
	case appTag(false, appUnbindRequest):
		return false, nil // RFC 4511 §4.3: no response
	case appTag(true, appSearchRequest):
		defer c.observe("search", c.start())
		return true, c.search(id, op.body)
	case appTag(true, appModifyRequest), appTag(true, appAddRequest), appTag(false, appDelRequest), appTag(true, appModDNRequest):
		// Each response tag is the request's plus one (RFC 4511 §4.6-4.9). Read-only.
		c.result(id, op.tag&0x1f+1, resultUnwillingToPerform, "", "the phonebook is read-only")
		return true, nil
	case appTag(true, appCompareRequest):
		return true, c.compare(id, op.body)
	case appTag(false, appAbandonRequest):
		return true, nil // requests are answered in order, so nothing is in flight (RFC 4511 §4.11)
	case appTag(true, appExtendedRequest):
		return c.extended(id, op.body)
	}
	return false, fmt.Errorf("unknown operation tag 0x%02x", op.tag)
}

func (c *conn) parseControls(b []byte) error {
	for len(b) > 0 {
		ct, rest, err := next(b)
		if err != nil || ct.tag != tagSequence {
			return errors.New("bad control")
		}
		raw := b[:len(b)-len(rest)]
		b = rest
		oid, more, err := next(ct.body)
		if err != nil || oid.tag != tagOctetString {
			return errors.New("bad control type")
		}
		k := control{oid: oid.body, raw: raw}
		if len(more) > 0 {
			x, _, err := next(more)
			if err != nil {
				return errors.New("bad control")
			}
			if x.tag == tagBoolean && len(x.body) == 1 {
				k.critical = x.body[0] != 0
			}
		}
		c.ctrls = append(c.ctrls, k)
	}
	return nil
}

// decodeControl hands a control to go-ldap's decoder (paging, sorting).
func decodeControl(k control) (ldap.Control, error) {
	p, err := ber.DecodePacketErr(k.raw)
	if err != nil {
		return nil, err
	}
	return ldap.DecodeControl(p)
}

// result writes an LDAPResult-shaped response (RFC 4511 §4.1.9).
func (c *conn) result(id int64, app uint8, code int, matched, diag string) {
	e := &c.enc
	e.reset()
	e.open(tagSequence)
	e.int(tagInteger, id)
	e.open(appTag(true, app))
	c.code = code
	e.int(tagEnumerated, int64(code))
	e.str(tagOctetString, matched)
	e.str(tagOctetString, diag)
	e.close()
	e.close()
	c.w.Write(e.b)
}
