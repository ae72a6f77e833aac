package provision

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Profile is everything one rendered file says, built by the caller from the
// store (profile_store.go) or by hand in tests. Render turns it into the
// make's syntax; it holds no make-specific values itself.
type Profile struct {
	Make     Make
	Model    string // canonical model name; "" when unknown
	MAC      string // 12 lower-case hex; "" for common files
	FileName string // the file asked for

	Tenant     string // slug
	TenantName string

	Lines []Line // one per extension of the phone's user (or the guest line)
	// Keys are the user's BLF and speed-dial keys, placed after one line key per line
	// (keys.go numbers them).
	Keys []Key
	// Layout is where the model's programmable keys are (templates/models.csv).
	Layout KeyLayout

	Language string // ISO 639-1 (user, else department, else tenant)
	TimeZone string // IANA name (user, else department, else tenant)
	NTP      string

	ProvisioningURL string // http://{public-host}:{port}/p/{token}/, ends in '/'
	ResyncMinutes   int    // periodic re-check of the configuration

	Phonebook     Phonebook
	Firmware      Firmware
	AdminPassword string // the phone's own web admin password
	// ProvisioningUser and ProvisioningPassword are the phone's HTTP Digest
	// credentials for its next fetch (tenants with provisioning_auth digest; else "").
	ProvisioningUser, ProvisioningPassword string
	// CA is the appliance's private CA for the phone's trusted certificates; empty
	// when the server certificate is from a public CA or the admin's files.
	CA TrustedCA

	// Settings are raw key → value pairs in the make's own terms, already merged
	// tenant < model < phone (MergeSettings). A key the template writes is
	// replaced; the others are appended in the make's syntax.
	Settings map[string]string

	// SRTP is the tenant's media encryption: off, optional or required (sip_security.go
	// has each make's words for it).
	SRTP string

	Flex  bool // shared desk phone
	Guest bool // flex phone with nobody logged in: Lines holds the guest account

	// Now fixes the clock for the time-zone rules (tests); zero means time.Now.
	Now time.Time
}

// Line is one SIP account on the phone.
type Line struct {
	Index       int // 1-based; Render numbers lines left at 0
	Extension   string
	DisplayName string
	Label       string
	UserName    string // user part of the AOR
	AuthUser    string
	Password    string
	Domain      string // the tenant's sip_domain (the registrar's realm)
	Server      string // public host the phone registers to
	Port        int    // the SIP port, or the SIP-over-TLS port with tls
	Transport   string // udp, tcp or tls (the tenant's sip_transport)
	Expires     int    // seconds
}

// Key is one programmable key after the line keys.
type Key struct {
	Position int    // 1-based key number, counting the line keys first; Render fills it
	Type     string // "blf" or "speed_dial" (store.KeyBLF, store.KeySpeedDial)
	Value    string // the watched extension, or the number dialled
	Label    string
	Domain   string // the tenant's sip_domain: BLF keys watch sip:{value}@{domain}
}

// KeyLayout is where a model's programmable keys are, from its row in
// templates/models.csv (Model's key columns); zero for a model the table does not
// describe.
type KeyLayout struct {
	Family                                       string
	Keys, FixedKeys, SideKeys, ExtKeys, PageKeys int
}

// Phonebook is where phones look colleagues up (docs/ldap.md).
type Phonebook struct {
	LDAPHost     string
	LDAPPort     int    // the --ldaps port when LDAPS is set
	LDAPS        bool   // the tenant's phonebook_ldaps, with an LDAPS listener to point at
	BaseDN       string // ou=people,o={slug},dc=dialtone
	BindDN       string // cn=phonebook,o={slug},dc=dialtone
	BindPassword string
	XMLURL       string // {provisioning_url}directory/{mac}/{make}.xml (a phone), directory/{make}.xml (common files)
}

// Server is the LDAP server as Snom, Grandstream and Fanvil take it: the host, with the
// ldaps:// scheme when LDAPS is set (a bare host is plain LDAP).
func (p Phonebook) Server() string {
	if p.LDAPS {
		return "ldaps://" + p.LDAPHost
	}
	return p.LDAPHost
}

// HostPort is the server as Cisco's LDAP_Server takes it: host:port, with ldaps:// when
// LDAPS is set.
func (p Phonebook) HostPort() string {
	return p.Server() + ":" + strconv.Itoa(p.LDAPPort)
}

// TLSMode is Yealink's ldap.tls_mode: 0 plain LDAP, 2 LDAPS (1 would be StartTLS).
func (p Phonebook) TLSMode() int {
	if p.LDAPS {
		return 2
	}
	return 0
}

// Transport is Poly's dir.corp.transport: TCP, or TLS for LDAPS.
func (p Phonebook) Transport() string {
	if p.LDAPS {
		return "TLS"
	}
	return "TCP"
}

// TrustedCA is a CA certificate a phone is told to trust: where to fetch it (always
// plain HTTP: a phone cannot check the TLS connection that would bring it its trust
// anchor) and the certificate itself, for makes that take it inline.
type TrustedCA struct {
	URL string // http://{public-host}:{http port}/ca.pem
	PEM string
	// Verify: the phone is pointed at https:// and told to check servers against
	// its trusted certificates.
	Verify bool
}

// Firmware is the model's target firmware, when the admin set one.
type Firmware struct {
	URL     string // {provisioning_url}fw/{file}
	File    string
	Version string
}

// MergeSettings merges raw settings layers from the least to the most
// specific (tenant, model, phone): a later layer's key wins.
func MergeSettings(layers ...map[string]string) map[string]string {
	n := 0
	for _, l := range layers {
		n += len(l)
	}
	if n == 0 {
		return nil
	}
	out := make(map[string]string, n)
	for _, l := range layers {
		for k, v := range l {
			out[k] = v
		}
	}
	return out
}

// ProvisioningURLWithCredentials is ProvisioningURL with the phone's credentials in
// its userinfo (RFC 3986 §3.2.1), for makes that take them only there (Snom's
// setting_server); ProvisioningURL itself when there are none.
func (p *Profile) ProvisioningURLWithCredentials() string {
	scheme, rest, ok := strings.Cut(p.ProvisioningURL, "://")
	if p.ProvisioningUser == "" || !ok {
		return p.ProvisioningURL
	}
	return scheme + "://" + url.UserPassword(p.ProvisioningUser, p.ProvisioningPassword).String() + "@" + rest
}
