package store

import "time"

// Tenant is one office (or customer of an installer): its own users, phones, numbers,
// SIP domain, provisioning token and LDAP subtree.
type Tenant struct {
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	SIPDomain string `json:"sip_domain"`
	Language  string `json:"language"`
	Timezone  string `json:"timezone"` // IANA name, e.g. Europe/Amsterdam
	// Extensions are taken from [ExtMin, ExtMax] when a user is created without one.
	ExtMin int `json:"ext_min"`
	ExtMax int `json:"ext_max"`
	// ProvisioningToken selects the tenant in /p/{token}/… and TFTP {token}/….
	ProvisioningToken string `json:"provisioning_token"`
	// PreviousToken is the token before the last rotation, still accepted until
	// PreviousTokenExpires (both indexed like the token).
	PreviousToken        string    `json:"previous_token,omitempty"`
	PreviousTokenExpires time.Time `json:"previous_token_expires,omitzero"`
	// ProvisioningAuth is what a phone's own files need besides the token: "" (the
	// token alone) or ProvisioningDigest (the phone's HTTP Digest credentials).
	ProvisioningAuth string `json:"provisioning_auth,omitempty"`
	// TFTPBareNames lets TFTP names without a token ("{file}") reach this tenant; only
	// the default tenant can have them.
	TFTPBareNames bool `json:"tftp_bare_names,omitempty"`
	// PhonebookMobile puts people's mobile numbers into the XML phonebooks.
	PhonebookMobile bool `json:"phonebook_mobile,omitempty"`
	// PhonebookPassword (sealed) is the password of cn=phonebook,o={slug},dc=dialtone.
	PhonebookPassword string `json:"phonebook_password"`
	// PhoneAdminPassword (sealed) was the tenant-wide web admin password; a phone
	// saved before it had its own (Phone.AdminPassword) still gets this one.
	PhoneAdminPassword string   `json:"phone_admin_password"`
	AnonymousLDAP      bool     `json:"anonymous_ldap,omitempty"`
	EmergencyNumbers   []string `json:"emergency_numbers,omitempty"`
	// Flex login policy.
	FlexMultiLogin bool   `json:"flex_multi_login,omitempty"` // a user may be logged in on several phones
	AutoLogout     string `json:"auto_logout,omitempty"`      // "never", "after:8h", "daily:03:00" (default)
	// PIN policy and audit retention (store/pin.go); 0 means the default (6 digits, 400 days).
	PINMinLength       int `json:"pin_min_length,omitempty"`
	AuditRetentionDays int `json:"audit_retention_days,omitempty"`
	// CallHistoryDays is how long call records are kept (store/cdr.go; 0: 90 days).
	CallHistoryDays int `json:"call_history_days,omitempty"`
	// DeviceAuth: off (""), prefer or require, checked against the tenant's DeviceCAs.
	DeviceAuth string `json:"device_auth,omitempty"`

	// LDAP over TLS (ldapdir), stored so that the zero value is the default: people bind
	// with their login password over TLS only, the phonebook account may bind in clear,
	// phones are pointed at plain LDAP. See LDAPRequireTLS and LDAPPhonebookCleartext.
	LDAPUserCleartext    bool `json:"ldap_user_cleartext,omitempty"`     // people may bind without TLS
	LDAPPhonebookTLSOnly bool `json:"ldap_phonebook_tls_only,omitempty"` // the phonebook account binds over TLS only
	PhonebookLDAPS       bool `json:"phonebook_ldaps,omitempty"`         // configs point phones at ldaps://

	// ProvisioningHTTPSOnly refuses files that carry secrets (a phone's own files) over
	// plain HTTP and TFTP, and writes https:// provisioning URLs into configs.
	ProvisioningHTTPSOnly bool `json:"provisioning_https_only,omitempty"`
	// SIPDigest is the digest algorithms the registrar offers, in order (SIPDigests;
	// "" is DefaultSIPDigest). A model profile may override it per model.
	SIPDigest string `json:"sip_digest,omitempty"`
	// SIPTransport is how the tenant's phones register (SIPTransports; "" is udp), and
	// SRTP whether their calls encrypt media (SRTPModes; "" is off). Both are written
	// into every phone's config (sip_security.go).
	SIPTransport string `json:"sip_transport,omitempty"`
	SRTP         string `json:"srtp,omitempty"`
	// PnPSubnets are the subnets (CIDR) whose SIP plug-and-play SUBSCRIBEs this tenant
	// answers; no two tenants claim overlapping subnets (store/pnp.go).
	PnPSubnets []string `json:"pnp_subnets,omitempty"`
	// Settings are raw phone settings for every phone of the tenant, by make then key.
	Settings map[string]map[string]string `json:"settings,omitempty"`
	Created  time.Time                    `json:"created"`
	// ActionRate is how many phones per second a remote resync or reboot tells
	// (0: DefaultActionRate).
	ActionRate int `json:"action_rate,omitempty"`
	// MaxCalls and MaxCallsPerUser bound the calls in progress at once through the
	// proxy, for the whole tenant and for one user (0: DefaultMaxCalls,
	// DefaultMaxCallsPerUser). Emergency calls are never refused by them.
	MaxCalls        int `json:"max_calls,omitempty"`
	MaxCallsPerUser int `json:"max_calls_per_user,omitempty"`
	// CallRouting: main number, caller IDs and toll-fraud guard (callrouting.go).
	CallRouting
}

// Defaults and ceilings of Tenant.MaxCalls and Tenant.MaxCallsPerUser.
const (
	DefaultMaxCalls        = 1000
	DefaultMaxCallsPerUser = 10
	MaxMaxCalls            = 100000
)

// CallLimits are the tenant's max_calls and max_calls_per_user, or the defaults.
func (t Tenant) CallLimits() (tenant, perUser int) {
	tenant, perUser = t.MaxCalls, t.MaxCallsPerUser
	if tenant <= 0 {
		tenant = DefaultMaxCalls
	}
	if perUser <= 0 {
		perUser = DefaultMaxCallsPerUser
	}
	return tenant, perUser
}

// DefaultActionRate and MaxActionRate bound Tenant.ActionRate (phones per second).
const (
	DefaultActionRate = 20
	MaxActionRate     = 1000
)

// ActionPace is the tenant's action_rate, or the default.
func (t Tenant) ActionPace() int {
	if t.ActionRate <= 0 {
		return DefaultActionRate
	}
	return t.ActionRate
}

// Department groups users; its language and time zone are taken over by members that set
// none of their own.
type Department struct {
	ID       string `json:"id"`
	Tenant   string `json:"tenant"`
	Name     string `json:"name"`
	Language string `json:"language,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	// EmergencyCallerID (E.164) is the caller ID of its members' emergency calls.
	EmergencyCallerID string    `json:"emergency_caller_id,omitempty"`
	Created           time.Time `json:"created"`
}

// User is a person: their login, role, department, PIN and the numbers and phones
// assigned to them.
type User struct {
	ID           string   `json:"id"`
	Tenant       string   `json:"tenant"`
	FirstName    string   `json:"first_name"`
	LastName     string   `json:"last_name"`
	Email        string   `json:"email,omitempty"`
	Role         Role     `json:"role"`
	DepartmentID string   `json:"department_id,omitempty"`
	Departments  []string `json:"departments,omitempty"` // further memberships
	Language     string   `json:"language,omitempty"`
	Timezone     string   `json:"timezone,omitempty"`
	Mobile       string   `json:"mobile,omitempty"`
	// PasswordHash is argon2id for chosen passwords, keyed HMAC for generated ones.
	PasswordHash string `json:"password_hash,omitempty"`
	// PINHash is Secrets.HashPIN(tenant/id, pin).
	PINHash          string       `json:"pin_hash,omitempty"`
	Extensions       []string     `json:"extensions,omitempty"`
	ExternalNumbers  []string     `json:"external_numbers,omitempty"`
	ManagedTenants   []string     `json:"managed_tenants,omitempty"`
	ExtraPermissions []Permission `json:"extra_permissions,omitempty"`
	Photo            bool         `json:"photo,omitempty"`
	// Keys are the BLF and speed-dial keys of the user's phones (keys.go).
	Keys    []PhoneKey `json:"keys,omitempty"`
	Created time.Time  `json:"created"`
	Updated time.Time  `json:"updated"`
}

// PINOwner is the owner string PINs are hashed with.
func (u *User) PINOwner() string { return u.Tenant + "/" + u.ID }

// DisplayName is "First Last".
func (u *User) DisplayName() string {
	switch {
	case u.FirstName == "":
		return u.LastName
	case u.LastName == "":
		return u.FirstName
	}
	return u.FirstName + " " + u.LastName
}

// Extension is an internal number and the SIP account that registers it.
type Extension struct {
	Tenant      string `json:"tenant"`
	Number      string `json:"number"`
	UserID      string `json:"user_id,omitempty"`
	SIPUsername string `json:"sip_username"`
	// SIPPassword is sealed with the key file; SIPPassword(ext) opens it.
	SIPPassword string `json:"sip_password"`
}

// ExternalNumber is a DID in E.164 form assigned to a user.
type ExternalNumber struct {
	Tenant string `json:"tenant"`
	Number string `json:"number"`
	UserID string `json:"user_id,omitempty"`
}

// Phone is a desk phone known by its MAC (12 lower-case hex digits).
type Phone struct {
	MAC    string `json:"mac"`
	Tenant string `json:"tenant"`
	Make   string `json:"make,omitempty"`
	Model  string `json:"model,omitempty"`
	UserID string `json:"user_id,omitempty"`
	Flex   bool   `json:"flex,omitempty"`
	// Guest is the SIP account a flex phone registers with while nobody is logged in.
	GuestUsername string `json:"guest_username,omitempty"`
	GuestPassword string `json:"guest_password,omitempty"` // sealed
	// AdminPassword (sealed) is the phone's own web admin password.
	AdminPassword string `json:"admin_password,omitempty"`
	// ProvisioningPassword (sealed) is the phone's HTTP Digest password for its own
	// files (user name: the MAC); ProvisioningPrevious the one before the last
	// rotation, accepted until a fetch authenticates with the new one.
	ProvisioningPassword string `json:"provisioning_password,omitempty"`
	ProvisioningPrevious string `json:"provisioning_previous,omitempty"`
	// ProvisioningIssued is when the credentials were handed out in a fetch without
	// them (allowed once); ProvisioningAuthenticated when a fetch first proved them.
	ProvisioningIssued        time.Time `json:"provisioning_issued,omitzero"`
	ProvisioningAuthenticated time.Time `json:"provisioning_authenticated,omitzero"`
	// Settings are raw settings for this phone only, in its make's own terms.
	Settings map[string]string `json:"settings,omitempty"`
	// EmergencyCallerID (E.164) is the caller ID of emergency calls from this phone
	// (its location), before the department's and the tenant's.
	EmergencyCallerID string `json:"emergency_caller_id,omitempty"`
	// What the phone last told us when it fetched its files.
	LastSeen  time.Time `json:"last_seen,omitzero"`
	LastAddr  string    `json:"last_addr,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	Firmware  string    `json:"firmware,omitempty"`
	Created   time.Time `json:"created"`
}

// Session is a logged-in API session, keyed by the hash of its bearer token.
type Session struct {
	TokenHash string    `json:"-"`
	Tenant    string    `json:"tenant"`
	UserID    string    `json:"user_id"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	// View-as: the session acts as Tenant/UserID on behalf of ActorTenant/ActorID.
	ActorTenant string `json:"actor_tenant,omitempty"`
	ActorID     string `json:"actor_id,omitempty"`
	Source      string `json:"source,omitempty"`
}

// AuditEvent records one change: who, from where, when, what, before and after (with
// secrets redacted by the writer).
type AuditEvent struct {
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant"`
	Time        time.Time `json:"time"`
	ActorTenant string    `json:"actor_tenant,omitempty"`
	ActorID     string    `json:"actor_id,omitempty"`
	ActorEmail  string    `json:"actor_email,omitempty"`
	// ViewAs is the user the actor acted as, when the change was made in a view-as session.
	ViewAs  string `json:"view_as,omitempty"`
	Source  string `json:"source,omitempty"`
	Action  string `json:"action"`
	Object  string `json:"object"`
	Before  any    `json:"before,omitempty"`
	After   any    `json:"after,omitempty"`
	Subject string `json:"subject,omitempty"` // user id the event concerns, for their own audit view
}
