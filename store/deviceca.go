package store

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Vendor CAs a tenant trusts for its phones' factory device certificates:
//
//	t/{slug}/deviceca/{id}   DeviceCA   id = the first 16 hex digits of the SHA-256 fingerprint

// Device authentication modes of a tenant (Tenant.DeviceAuth): whether a file that
// carries secrets needs a client certificate from a trusted vendor CA naming the phone's
// MAC.
const (
	DeviceAuthOff     = "off"     // no check (the default)
	DeviceAuthPrefer  = "prefer"  // a certificate is checked when sent; a wrong one is refused
	DeviceAuthRequire = "require" // served only to the phone's own certificate
)

// DeviceAuthMode is the tenant's device_auth, "off" when unset.
func (t Tenant) DeviceAuthMode() string {
	if t.DeviceAuth == "" {
		return DeviceAuthOff
	}
	return t.DeviceAuth
}

func validDeviceAuth(s string) bool {
	return s == "" || s == DeviceAuthOff || s == DeviceAuthPrefer || s == DeviceAuthRequire
}

// DeviceCA is a vendor's CA certificate (root or issuing CA) the tenant trusts to vouch
// for the MAC in its phones' device certificates.
type DeviceCA struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Subject   string    `json:"subject"`
	SHA256    string    `json:"sha256"` // of the DER certificate, lower-case hex
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	PEM       string    `json:"pem"`
	Added     time.Time `json:"added"`
}

// Bounds of device CA uploads.
const (
	MaxDeviceCAs         = 100 // per tenant
	MaxDeviceCAsPerBatch = 32  // per upload
)

func deviceCAKey(slug, id string) string { return "t/" + slug + "/deviceca/" + id }

// ParseDeviceCAs reads one or more PEM CERTIFICATE blocks and checks each is a CA
// certificate in force at now: it parses, carries basic constraints with CA:TRUE
// (RFC 5280 section 4.2.1.9), may sign certificates when it has a key usage at all
// (section 4.2.1.3), and now lies within its validity. Text around the blocks is
// ignored (openssl prints the subject before each); a private key, another block type or
// a cut-off block is refused. The error names the certificate (position and subject).
func ParseDeviceCAs(data []byte, now time.Time) ([]DeviceCA, error) {
	var out []DeviceCA
	seen := map[string]bool{}
	rest := data
	for n := 1; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
		case bytes.Contains([]byte(b.Type), []byte("PRIVATE KEY")):
			return nil, invalid("pem", "block %d is a private key: upload only the vendor's CA certificate, never a key", n)
		default:
			return nil, invalid("pem", "block %d is a %q, not a CERTIFICATE", n, b.Type)
		}
		if n > MaxDeviceCAsPerBatch {
			return nil, invalid("pem", "at most %d certificates per upload", MaxDeviceCAsPerBatch)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, invalid("pem", "certificate %d does not parse: %v", n, err)
		}
		name := fmt.Sprintf("certificate %d (%s)", n, c.Subject.String())
		switch {
		case !c.BasicConstraintsValid || !c.IsCA:
			return nil, invalid("pem", "%s is not a CA certificate (no basic constraints CA:TRUE): upload the vendor's CA, not a phone's own certificate", name)
		case c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0:
			return nil, invalid("pem", "%s may not sign certificates (its key usage lacks keyCertSign)", name)
		case now.After(c.NotAfter):
			return nil, invalid("pem", "%s expired on %s", name, c.NotAfter.UTC().Format(time.RFC3339))
		case now.Before(c.NotBefore):
			return nil, invalid("pem", "%s is not valid before %s", name, c.NotBefore.UTC().Format(time.RFC3339))
		}
		sum := sha256.Sum256(c.Raw)
		fp := hex.EncodeToString(sum[:])
		if seen[fp] {
			continue
		}
		seen[fp] = true
		out = append(out, DeviceCA{ID: fp[:16], Subject: c.Subject.String(), SHA256: fp,
			NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
			PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))})
	}
	if bytes.Contains(rest, []byte("-----BEGIN")) {
		return nil, invalid("pem", "a PEM block after certificate %d is cut off or damaged", len(out))
	}
	if len(out) == 0 {
		return nil, invalid("pem", "no PEM certificate found: send the CA certificate(s) as PEM (-----BEGIN CERTIFICATE-----)")
	}
	return out, nil
}

// AddDeviceCAs stores the CAs parsed from data for the tenant, all or none: a
// certificate the tenant trusts already is a conflict, as is going over MaxDeviceCAs.
func (tx *Tx) AddDeviceCAs(slug string, data []byte) ([]DeviceCA, error) {
	if _, err := tx.Tenant(slug); err != nil {
		return nil, err
	}
	now := tx.s.now().UTC()
	cas, err := ParseDeviceCAs(data, now)
	if err != nil {
		return nil, err
	}
	have, err := tx.DeviceCAs(slug)
	if err != nil {
		return nil, err
	}
	if len(have)+len(cas) > MaxDeviceCAs {
		return nil, invalid("pem", "a tenant trusts at most %d device CAs (%d now)", MaxDeviceCAs, len(have))
	}
	for i := range cas {
		ca := &cas[i]
		ca.Tenant, ca.Added = slug, now
		if ok, err := tx.exists(deviceCAKey(slug, ca.ID)); err != nil || ok {
			return nil, errors.Join(err, conflict("pem", "%s is trusted already (id %s)", ca.Subject, ca.ID))
		}
		if err := tx.put(deviceCAKey(slug, ca.ID), *ca); err != nil {
			return nil, err
		}
		tx.Emit(Change{Kind: KindDeviceCA, Op: OpPut, Tenant: slug, ID: ca.ID, New: *ca})
	}
	return cas, nil
}

// DeviceCAs lists the tenant's trusted device CAs in id order.
func (tx *Tx) DeviceCAs(slug string) ([]DeviceCA, error) {
	var out []DeviceCA
	err := scanValues(tx, "t/"+slug+"/deviceca/", "", 0, func(c DeviceCA) bool { out = append(out, c); return true })
	return out, err
}

// DeleteDeviceCA removes one. The last one cannot go while device_auth is prefer or
// require: every phone would be refused.
func (tx *Tx) DeleteDeviceCA(slug, id string) (DeviceCA, error) {
	var ca DeviceCA
	if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" {
		return ca, fmt.Errorf("device CA %q: %w", id, ErrNotFound)
	}
	if err := tx.get(deviceCAKey(slug, id), &ca); err != nil {
		return ca, fmt.Errorf("device CA %q: %w", id, err)
	}
	t, err := tx.Tenant(slug)
	if err != nil {
		return ca, err
	}
	if t.DeviceAuthMode() != DeviceAuthOff {
		all, err := tx.DeviceCAs(slug)
		if err != nil {
			return ca, err
		}
		if len(all) == 1 {
			return ca, conflict("id", "the last device CA cannot be removed while device_auth is %s: set device_auth to off first", t.DeviceAuth)
		}
	}
	if err := tx.del(deviceCAKey(slug, id)); err != nil {
		return ca, err
	}
	tx.Emit(Change{Kind: KindDeviceCA, Op: OpDelete, Tenant: slug, ID: id, Old: ca})
	return ca, nil
}

// DeviceCAs lists the tenant's trusted device CAs.
func (s *Store) DeviceCAs(slug string) (cas []DeviceCA, err error) {
	err = s.View(func(tx *Tx) error { cas, err = tx.DeviceCAs(slug); return err })
	return cas, err
}

// checkDeviceAuth is SaveTenant's check of device_auth: a known mode, and prefer or
// require only with a device CA to check certificates against.
func (tx *Tx) checkDeviceAuth(t Tenant) error {
	if !validDeviceAuth(t.DeviceAuth) {
		return invalid("device_auth", "%q: one of off, prefer, require", t.DeviceAuth)
	}
	if t.DeviceAuthMode() == DeviceAuthOff {
		return nil
	}
	found := false
	err := tx.scan("t/"+t.Slug+"/deviceca/", "", true, func(string, *badgerItem) (bool, error) { found = true; return false, nil })
	if err != nil {
		return err
	}
	if !found {
		return invalid("device_auth", "%s needs a vendor CA to check device certificates against: upload one (POST …/trust/device-cas) first", t.DeviceAuth)
	}
	return nil
}
