package admin

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"time"
)

// TLSInfo is the appliance's certificate (internal/tlscert.Manager).
type TLSInfo interface {
	// Source is "private-ca", "files" or "acme".
	Source() string
	// CAPEM is the certificate phones and browsers are to trust (nil with ACME).
	CAPEM() []byte
	// Fingerprint is CAPEM's SHA-256 fingerprint, AA:BB:… ("" with ACME).
	Fingerprint() string
}

// tlsView answers GET /api/v1/tls: what an admin installs into phones and browsers, and
// the fingerprint to check a copy fetched from /ca.pem over plain HTTP against.
type tlsView struct {
	Source   string     `json:"source"`
	CASHA256 string     `json:"ca_sha256,omitempty"` // AA:BB:…, as openssl x509 -fingerprint -sha256 prints it
	CAPEM    string     `json:"ca_pem,omitempty"`
	NotAfter *time.Time `json:"not_after,omitempty"` // the CA's
	CAURL    string     `json:"ca_url,omitempty"`    // where phones fetch it: http://{host}:{port}/ca.pem
}

// getTLS: GET /api/v1/tls, for admins of their home tenant (tenant.settings or
// phones.manage): the certificate is the same for every tenant.
func (a *API) getTLS(r *request) (any, error) {
	if !isTenantAdmin(r.caller.home()) {
		return nil, forbidden("you need tenant.settings or phones.manage")
	}
	if a.cfg.TLS == nil {
		return nil, unavailable("TLS")
	}
	v := tlsView{Source: a.cfg.TLS.Source()}
	raw := a.cfg.TLS.CAPEM()
	if len(raw) == 0 {
		return v, nil
	}
	v.CAPEM, v.CASHA256 = string(raw), a.cfg.TLS.Fingerprint()
	if b, _ := pem.Decode(raw); b != nil {
		if cert, err := x509.ParseCertificate(b.Bytes); err == nil {
			na := cert.NotAfter.UTC()
			v.NotAfter = &na
		}
	}
	v.CAURL = strings.TrimSuffix(a.plainProvisioningURL(""), "/p//") + "/ca.pem"
	return v, nil
}
