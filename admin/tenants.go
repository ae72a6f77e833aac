package admin

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/dialtone/dialtone/store"
)

// tenantView is a tenant as the API shows it; the Admin part is for holders of
// tenant.settings or phones.manage there.
type tenantView struct {
	Slug             string                       `json:"slug"`
	Name             string                       `json:"name"`
	SIPDomain        string                       `json:"sip_domain"`
	Language         string                       `json:"language"`
	Timezone         string                       `json:"timezone"`
	ExtMin           int                          `json:"ext_min"`
	ExtMax           int                          `json:"ext_max"`
	AnonymousLDAP    bool                         `json:"anonymous_ldap"`
	EmergencyNumbers []string                     `json:"emergency_numbers"`
	AutoLogout       string                       `json:"auto_logout"`
	FlexMultiLogin   bool                         `json:"flex_multi_login"`
	ProvisioningAuth string                       `json:"provisioning_auth"` // token or digest
	TFTPBareNames    bool                         `json:"tftp_bare_names"`
	PhonebookMobile  bool                         `json:"phonebook_mobile"`
	PINMinLength     int                          `json:"pin_min_length"`
	AuditRetention   int                          `json:"audit_retention_days"`
	CallHistoryDays  int                          `json:"call_history_days"`
	DeviceAuth       string                       `json:"device_auth"`
	HTTPSOnly        bool                         `json:"provisioning_https_only"`
	SIPDigest        string                       `json:"sip_digest"`
	SIPTransport     string                       `json:"sip_transport"`
	SRTP             string                       `json:"srtp"`
	ActionRate       int                          `json:"action_rate"`
	MaxCalls         int                          `json:"max_calls"`
	MaxCallsPerUser  int                          `json:"max_calls_per_user"`
	PnPSubnets       []string                     `json:"pnp_subnets"`
	Settings         map[string]map[string]string `json:"settings,omitempty"`
	Created          time.Time                    `json:"created"`
	LDAPBaseDN       string                       `json:"ldap_base_dn"`
	ldapTLSView
	store.CallRouting
	*tenantSecrets
}

type tenantSecrets struct {
	ProvisioningToken string `json:"provisioning_token"`
	ProvisioningURL   string `json:"provisioning_url"`
	// PreviousTokenExpires is when the token before the last rotation stops working.
	PreviousTokenExpires *time.Time `json:"previous_token_expires,omitempty"`
	LDAPBindDN           string     `json:"ldap_bind_dn"`
	LDAPBindPassword     string     `json:"ldap_bind_password"`
}

func (a *API) tenantView(t store.Tenant, admin bool) (tenantView, error) {
	v := tenantView{
		Slug: t.Slug, Name: t.Name, SIPDomain: t.SIPDomain, Language: t.Language, Timezone: t.Timezone,
		ExtMin: t.ExtMin, ExtMax: t.ExtMax, AnonymousLDAP: t.AnonymousLDAP,
		EmergencyNumbers: t.EmergencyNumbers, AutoLogout: t.AutoLogout, FlexMultiLogin: t.FlexMultiLogin,
		SIPDigest: t.SIPDigestOffer(), SIPTransport: t.Transport(), SRTP: t.SRTPMode(), Settings: t.Settings, Created: t.Created, LDAPBaseDN: "o=" + t.Slug + ",dc=dialtone",
		ldapTLSView: ldapTLSView{LDAPRequireTLS: t.LDAPRequireTLS(), LDAPPhonebookCleartext: t.LDAPPhonebookCleartext(), PhonebookLDAPS: t.PhonebookLDAPS},
		CallRouting: t.CallRouting,
		HTTPSOnly:   t.ProvisioningHTTPSOnly, PnPSubnets: t.PnPSubnets, ActionRate: t.ActionPace(),
		DeviceAuth:       t.DeviceAuthMode(),
		ProvisioningAuth: cmp.Or(t.ProvisioningAuth, "token"), TFTPBareNames: t.TFTPBareNames, PhonebookMobile: t.PhonebookMobile,
	}
	if v.PnPSubnets == nil {
		v.PnPSubnets = []string{}
	}
	v.PINMinLength, v.AuditRetention = t.PINLength(), int(t.AuditRetention().Hours()/24)
	v.MaxCalls, v.MaxCallsPerUser = t.CallLimits()
	v.CallHistoryDays = int(t.CallHistory().Hours() / 24)
	if v.EmergencyNumbers == nil {
		v.EmergencyNumbers = []string{}
	}
	if admin {
		pw, err := a.st.PhonebookPassword(t)
		if err != nil {
			return v, err
		}
		v.tenantSecrets = &tenantSecrets{
			ProvisioningToken: t.ProvisioningToken, ProvisioningURL: a.provisioningURL(t),
			LDAPBindDN: "cn=phonebook," + v.LDAPBaseDN, LDAPBindPassword: pw,
		}
		if t.PreviousToken != "" && a.st.Now().Before(t.PreviousTokenExpires) {
			exp := t.PreviousTokenExpires
			v.PreviousTokenExpires = &exp
		}
	}
	return v, nil
}

func isTenantAdmin(sc *scope) bool {
	return sc.can(store.PermTenantSettings) || sc.can(store.PermPhonesManage)
}

// listTenants: GET /api/v1/tenants, the tenants the caller reaches (home and managed).
func (a *API) listTenants(r *request) (any, error) {
	limit, cursor, err := r.paging()
	if err != nil {
		return nil, err
	}
	slugs := append([]string{r.caller.user.Tenant}, r.caller.user.ManagedTenants...)
	slices.Sort(slugs)
	slugs = slices.Compact(slugs)
	var out []tenantView
	err = a.view(func(tx *store.Tx) error {
		for _, s := range slugs {
			if s <= cursor || len(out) > limit {
				continue
			}
			sc, ok := r.caller.scopeIn(s)
			if !ok {
				continue
			}
			t, err := tx.Tenant(s)
			if err != nil {
				continue // a managed tenant that was removed
			}
			v, err := a.tenantView(t, isTenantAdmin(sc))
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return paginate(out, limit, func(v tenantView) string { return v.Slug }), nil
}

// getTenant: GET /api/v1/tenants/{slug}.
func (a *API) getTenant(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	t, err := a.st.Tenant(sc.tenant)
	if err != nil {
		return nil, err
	}
	return a.tenantView(t, isTenantAdmin(sc))
}

type tenantBody struct {
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	SIPDomain string `json:"sip_domain"`
	Language  string `json:"language"`
	Timezone  string `json:"timezone"`
	ExtMin    int    `json:"ext_min"`
	ExtMax    int    `json:"ext_max"`
}

// createTenant: POST /api/v1/tenants. Tenants are made by the operators of the server:
// holders of tenant.settings in the default tenant. The new tenant joins the creator's
// managed tenants, so they can set it up.
func (a *API) createTenant(r *request) (any, error) {
	c := r.caller
	sc, ok := c.scopeIn(store.DefaultTenant)
	if !ok || c.user.Tenant != store.DefaultTenant || !sc.can(store.PermTenantSettings) || !sc.wide {
		return nil, forbidden("creating tenants needs tenant.settings in the default tenant")
	}
	if c.viewAs {
		return nil, forbidden("tenants cannot be created in a view-as session")
	}
	var in tenantBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	var view tenantView
	err := a.update(func(tx *store.Tx) error {
		t, err := tx.CreateTenant(store.NewTenant{Slug: in.Slug, Name: in.Name, SIPDomain: in.SIPDomain,
			Language: in.Language, Timezone: in.Timezone, ExtMin: in.ExtMin, ExtMax: in.ExtMax})
		if err != nil {
			return err
		}
		me, err := tx.User(c.user.Tenant, c.user.ID)
		if err != nil {
			return err
		}
		next := me
		next.ManagedTenants = append(slices.Clone(me.ManagedTenants), t.Slug)
		if err := tx.SaveUser(me, next); err != nil {
			return err
		}
		if view, err = a.tenantView(t, true); err != nil {
			return err
		}
		if err := r.audit(tx, t.Slug, "tenant.create", "tenant/"+t.Slug, "", nil, view); err != nil {
			return err
		}
		return r.audit(tx, me.Tenant, "user.update", "user/"+me.ID, me.ID,
			map[string]any{"managed_tenants": me.ManagedTenants}, map[string]any{"managed_tenants": next.ManagedTenants})
	})
	if err != nil {
		return nil, err
	}
	r.status = 201
	return view, nil
}

type tenantPatch struct {
	Name             *string                       `json:"name"`
	SIPDomain        *string                       `json:"sip_domain"`
	Language         *string                       `json:"language"`
	Timezone         *string                       `json:"timezone"`
	ExtMin           *int                          `json:"ext_min"`
	ExtMax           *int                          `json:"ext_max"`
	AnonymousLDAP    *bool                         `json:"anonymous_ldap"`
	EmergencyNumbers *[]string                     `json:"emergency_numbers"`
	AutoLogout       *string                       `json:"auto_logout"`
	FlexMultiLogin   *bool                         `json:"flex_multi_login"`
	ProvisioningAuth *string                       `json:"provisioning_auth"`
	TFTPBareNames    *bool                         `json:"tftp_bare_names"`
	PhonebookMobile  *bool                         `json:"phonebook_mobile"`
	PINMinLength     *int                          `json:"pin_min_length"`
	AuditRetention   *int                          `json:"audit_retention_days"`
	CallHistoryDays  *int                          `json:"call_history_days"`
	DeviceAuth       *string                       `json:"device_auth"`
	HTTPSOnly        *bool                         `json:"provisioning_https_only"`
	SIPDigest        *string                       `json:"sip_digest"`
	SIPTransport     *string                       `json:"sip_transport"`
	SRTP             *string                       `json:"srtp"`
	ActionRate       *int                          `json:"action_rate"`
	MaxCalls         *int                          `json:"max_calls"`
	MaxCallsPerUser  *int                          `json:"max_calls_per_user"`
	PnPSubnets       *[]string                     `json:"pnp_subnets"`
	Settings         *map[string]map[string]string `json:"settings"`
	ldapTLSPatch
	callRoutingPatch
}

// patchTenant: PATCH /api/v1/tenants/{slug} (tenant.settings).
func (a *API) patchTenant(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermTenantSettings)
	if err != nil {
		return nil, err
	}
	var in tenantPatch
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	var view tenantView
	err = a.update(func(tx *store.Tx) error {
		prev, err := tx.Tenant(sc.tenant)
		if err != nil {
			return err
		}
		next := prev
		setString(&next.Name, in.Name)
		setString(&next.SIPDomain, in.SIPDomain)
		setString(&next.Language, in.Language)
		setString(&next.Timezone, in.Timezone)
		if in.ExtMin != nil {
			next.ExtMin = *in.ExtMin
		}
		if in.ExtMax != nil {
			next.ExtMax = *in.ExtMax
		}
		if in.AnonymousLDAP != nil {
			next.AnonymousLDAP = *in.AnonymousLDAP
		}
		if in.FlexMultiLogin != nil {
			next.FlexMultiLogin = *in.FlexMultiLogin
		}
		if in.ProvisioningAuth != nil {
			switch *in.ProvisioningAuth {
			case "token":
				next.ProvisioningAuth = ""
			case store.ProvisioningDigest:
				next.ProvisioningAuth = store.ProvisioningDigest
			default:
				return badRequest("provisioning_auth", "token (the provisioning token alone) or digest (per-phone HTTP Digest credentials)")
			}
		}
		if in.TFTPBareNames != nil {
			next.TFTPBareNames = *in.TFTPBareNames
		}
		if in.PhonebookMobile != nil {
			next.PhonebookMobile = *in.PhonebookMobile
		}
		in.ldapTLSPatch.apply(&next) // the combination is checked by tx.SaveTenant
		in.callRoutingPatch.apply(&next.CallRouting)
		if in.HTTPSOnly != nil {
			if *in.HTTPSOnly && a.cfg.SecureBaseURL == "" {
				// Phones would be refused their files with nowhere else to fetch them.
				return problem(422, "unprocessable", "provisioning_https_only", "HTTPS is off on this server (serve --https)")
			}
			next.ProvisioningHTTPSOnly = *in.HTTPSOnly
		}
		// Emergency numbers and the auto-logout policy are checked by tx.SaveTenant.
		if in.EmergencyNumbers != nil {
			next.EmergencyNumbers = *in.EmergencyNumbers
		}
		if in.AutoLogout != nil {
			next.AutoLogout = *in.AutoLogout
		}
		if in.DeviceAuth != nil {
			if *in.DeviceAuth != store.DeviceAuthOff && *in.DeviceAuth != "" && a.cfg.SecureBaseURL == "" {
				// Device certificates arrive over HTTPS only: under require every phone
				// would be refused its file.
				return problem(422, "unprocessable", "device_auth", "HTTPS is off on this server (serve --https): no device certificate can arrive")
			}
			next.DeviceAuth = *in.DeviceAuth // checked by tx.SaveTenant
		}
		if err := patchPINPolicy(&next, in.PINMinLength, in.AuditRetention); err != nil {
			return err
		}
		if in.CallHistoryDays != nil {
			if *in.CallHistoryDays <= 0 { // 0 is how the store says "default"
				return badRequest("call_history_days", fmt.Sprintf("1 to %d days", store.MaxCallHistoryDays))
			}
			next.CallHistoryDays = *in.CallHistoryDays // the maximum is checked by tx.SaveTenant
		}
		setString(&next.SIPDigest, in.SIPDigest) // checked by tx.SaveTenant
		setString(&next.SIPTransport, in.SIPTransport)
		setString(&next.SRTP, in.SRTP)
		if in.ActionRate != nil {
			if *in.ActionRate < 1 || *in.ActionRate > store.MaxActionRate {
				return badRequest("action_rate", fmt.Sprintf("phones per second for remote actions: 1 to %d", store.MaxActionRate))
			}
			next.ActionRate = *in.ActionRate
		}
		if in.MaxCalls != nil {
			next.MaxCalls = *in.MaxCalls // checked by tx.SaveTenant
		}
		if in.MaxCallsPerUser != nil {
			next.MaxCallsPerUser = *in.MaxCallsPerUser
		}
		if in.PnPSubnets != nil {
			next.PnPSubnets = *in.PnPSubnets // checked by tx.SaveTenant (no overlap with another tenant)
		}
		if in.Settings != nil {
			if err := checkSettings(*in.Settings); err != nil {
				return err
			}
			if err := a.checkTenantSettingKeys(*in.Settings); err != nil {
				return err
			}
			next.Settings = *in.Settings
		}
		if err := tx.SaveTenant(prev, next); err != nil {
			return err
		}
		saved, err := tx.Tenant(sc.tenant)
		if err != nil {
			return err
		}
		before, _ := a.tenantView(prev, false)
		if view, err = a.tenantView(saved, true); err != nil {
			return err
		}
		after, _ := a.tenantView(saved, false)
		return r.audit(tx, sc.tenant, "tenant.update", "tenant/"+sc.tenant, "", before, after)
	})
	if err != nil {
		return nil, err
	}
	return view, nil
}

// ldapTLSView is the tenant's LDAP-over-TLS settings (ldapdir): whether people's binds
// with their login password need TLS, whether the phonebook account may bind in clear,
// and whether configs point phones at ldaps://.
type ldapTLSView struct {
	LDAPRequireTLS         bool `json:"ldap_require_tls"`
	LDAPPhonebookCleartext bool `json:"ldap_phonebook_cleartext"`
	PhonebookLDAPS         bool `json:"phonebook_ldaps"`
}

type ldapTLSPatch struct {
	LDAPRequireTLS         *bool `json:"ldap_require_tls"`
	LDAPPhonebookCleartext *bool `json:"ldap_phonebook_cleartext"`
	PhonebookLDAPS         *bool `json:"phonebook_ldaps"`
}

func (p ldapTLSPatch) apply(t *store.Tenant) {
	if p.LDAPRequireTLS != nil {
		t.LDAPUserCleartext = !*p.LDAPRequireTLS
	}
	if p.LDAPPhonebookCleartext != nil {
		t.LDAPPhonebookTLSOnly = !*p.LDAPPhonebookCleartext
	}
	if p.PhonebookLDAPS != nil {
		t.PhonebookLDAPS = *p.PhonebookLDAPS
	}
}

// checkSettings bounds raw phone settings: they end up in config files, so no line
// breaks, control characters or markup-breaking sizes.
func checkSettings(m map[string]map[string]string) error {
	n := 0
	for make, kv := range m {
		if !store.ValidSlug(make) {
			return badRequest("settings", "a phone make is lower-case letters and digits: "+make)
		}
		for k, v := range kv {
			n++
			if k == "" || len(k) > 128 || len(v) > 1024 || hasControl(k) || hasControl(v) {
				return badRequest("settings", "setting "+make+"/"+k+" has an empty or too long name or value, or control characters")
			}
		}
	}
	if n > 2000 {
		return badRequest("settings", "at most 2000 settings")
	}
	return nil
}

func hasControl(s string) bool {
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

type rotateTokenBody struct {
	Grace string `json:"grace"` // a Go duration: "24h", "90m", "0"
}

// rotateProvisioningToken: POST …/provisioning-token/rotate (tenant.settings). The new
// token is answered in the tenant; the old one is accepted until the grace ends.
func (a *API) rotateProvisioningToken(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermTenantSettings)
	if err != nil {
		return nil, err
	}
	var in rotateTokenBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	grace, err := time.ParseDuration(cmp.Or(in.Grace, "0"))
	if err != nil {
		return nil, badRequest("grace", "a duration such as 24h, 90m or 0 (refuse the old token at once)")
	}
	var view tenantView
	err = a.update(func(tx *store.Tx) error {
		prev, err := tx.Tenant(sc.tenant)
		if err != nil {
			return err
		}
		t, err := tx.RotateProvisioningToken(sc.tenant, grace)
		if err != nil {
			return err
		}
		if view, err = a.tenantView(t, true); err != nil {
			return err
		}
		return r.audit(tx, sc.tenant, "tenant.provisioning_token.rotate", "tenant/"+sc.tenant, "",
			map[string]any{"previous_token_expires": prev.PreviousTokenExpires},
			map[string]any{"grace": grace.String(), "previous_token_expires": t.PreviousTokenExpires})
	})
	if err != nil {
		return nil, err
	}
	return view, nil
}
