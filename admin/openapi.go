package admin

import (
	"encoding/json"
	"strings"
	"sync"

	"github.com/dialtone/dialtone/store"
)

// The OpenAPI 3 description is written by hand here (not generated from the router);
// TestOpenAPICoversRoutes (and package docs' test, over Routes) walk the route table and
// fail when a route is missing from it, or when it describes a route that does not exist.
// How to read it: docs/api.md.

type opDoc struct {
	method, path, summary string
	body                  string // schema name of the request body ("" none; "csv", "image")
	answer                string // schema name of the answer ("" for 204)
	status                string
	public                bool
	query                 []string
	// more lists answers beyond errorStatuses (status: description), e.g. 410 Gone.
	more map[string]string
	// optionalBody: the JSON body may be left out.
	optionalBody bool
}

var operations = []opDoc{
	{method: "GET", path: "/api/v1/openapi.json", summary: "This document", answer: "Object", status: "200", public: true},
	{method: "POST", path: "/api/v1/auth/login", summary: "Log in with email and password; 429 throttled (too many failures from the address) or busy (password checks at capacity, or this account's already running), with Retry-After", body: "Login", answer: "Session", status: "200", public: true},
	{method: "POST", path: "/api/v1/auth/set-password", summary: "Set a password with a one-time link from a welcome or reset mail (valid 72 h, single use); 410 when used, expired or unknown", body: "SetPassword", answer: "Object", status: "200", public: true,
		more: map[string]string{"410": "The link was used, has expired or is unknown; ask for a new one"}},
	{method: "POST", path: "/api/v1/tenants/{slug}/users/{id}/welcome", summary: "Queue the welcome mail again, with a new link (users.manage; 403 when the user ranks above you or holds an extra permission, managed tenant or, at your rank, a department you lack)", answer: "Object", status: "202"},
	{method: "POST", path: "/api/v1/tenants/{slug}/users/{id}/reset-password", summary: "Reset another user's password (users.manage; 403 when the user ranks above you or holds an extra permission, managed tenant or, at your rank, a department you lack): the old one stops working and their sessions end; the new one is shown once (200), or with {\"mail\":true} a reset mail with a one-time set-password link is queued and no password is answered (202; 409 without an email)", body: "ResetPassword", answer: "ResetAnswer", status: "200", optionalBody: true,
		more: map[string]string{"202": "Reset; the reset mail is queued"}},
	{method: "DELETE", path: "/api/v1/tenants/{slug}/users/{id}/pin-lock", summary: "Lift the flex lock of the user's extensions (after wrong PINs from several phones) before it runs out (users.manage); a password login by the user lifts it too", answer: "PINUnlock", status: "200"},
	{method: "POST", path: "/api/v1/auth/forgot-password", summary: "Ask for a mail with a link to set a new password; 202 whatever the address (only a known login is mailed, at most 3 times an hour); 429 after 5 asks an hour from one address", body: "ForgotPassword", answer: "Object", status: "202", public: true},
	{method: "POST", path: "/api/v1/auth/logout", summary: "End this session; a console (cookie) view-as session returns to the actor's own (200 {restored, csrf_token})", status: "204"},
	{method: "POST", path: "/api/v1/auth/view-as", summary: "Get a session acting as another user (users.view_as)", body: "ViewAs", answer: "Session", status: "201"},
	{method: "GET", path: "/api/v1/me", summary: "The acting user and effective permissions", answer: "User", status: "200"},
	{method: "PATCH", path: "/api/v1/me", summary: "Self-service: own PIN, language, password (old_password required; wrong ones count as failed logins of your address, 429 when locked out)", body: "UserPatch", answer: "User", status: "200"},
	{method: "GET", path: "/api/v1/tls", summary: "The certificate phones and browsers trust: source, CA PEM, its SHA-256 fingerprint and expiry (tenant admins)", answer: "TLS", status: "200"},
	{method: "GET", path: "/api/v1/me/phones", summary: "My phones (self.manage): those assigned to me and the flex phones I am logged in at, with who is logged in since when", answer: "MyPhonePage", status: "200"},
	{method: "POST", path: "/api/v1/me/flex-logout", summary: "Log me out of every flex phone I am logged in at (self.manage); logged_out lists their MACs, empty when there were none", answer: "MyFlexLogout", status: "200"},
	{method: "GET", path: "/api/v1/me/audit", summary: "Audit events about me, including view-as requests made as me", answer: "AuditPage", status: "200", query: []string{"limit", "cursor"}},
	{method: "GET", path: "/api/v1/me/calls", summary: "My calls (as caller or callee), newest first; from and to take a time (RFC 3339) or a date in the tenant's time zone (to includes that day)", answer: "CallPage", status: "200", query: []string{"limit", "cursor", "from", "to", "result"}},

	{method: "GET", path: "/api/v1/tenants", summary: "Tenants the caller reaches (home and managed)", answer: "TenantPage", status: "200", query: []string{"limit", "cursor"}},
	{method: "POST", path: "/api/v1/tenants", summary: "Create a tenant (tenant.settings in tenant default)", body: "TenantCreate", answer: "Tenant", status: "201"},
	{method: "GET", path: "/api/v1/tenants/{slug}", summary: "A tenant; provisioning and LDAP credentials for admins", answer: "Tenant", status: "200"},
	{method: "PATCH", path: "/api/v1/tenants/{slug}", summary: "Change tenant settings (tenant.settings)", body: "TenantPatch", answer: "Tenant", status: "200"},
	{method: "POST", path: "/api/v1/tenants/{slug}/provisioning-token/rotate", summary: "New provisioning token, answered in the tenant (tenant.settings); the old one is accepted until the grace ends (0: refused at once), a token still in an earlier grace is refused", body: "TokenRotate", answer: "Tenant", status: "200"},

	{method: "GET", path: "/api/v1/tenants/{slug}/departments", summary: "List departments", answer: "DepartmentPage", status: "200", query: []string{"limit", "cursor"}},
	{method: "POST", path: "/api/v1/tenants/{slug}/departments", summary: "Create a department (departments.manage)", body: "DepartmentCreate", answer: "Department", status: "201"},
	{method: "GET", path: "/api/v1/tenants/{slug}/departments/{id}", summary: "A department", answer: "Department", status: "200"},
	{method: "PATCH", path: "/api/v1/tenants/{slug}/departments/{id}", summary: "Rename (departments.manage) or set language/time zone (department.settings)", body: "DepartmentPatch", answer: "Department", status: "200"},
	{method: "DELETE", path: "/api/v1/tenants/{slug}/departments/{id}", summary: "Delete a department; 409 with members unless move_members_to=ID or -", status: "204", query: []string{"move_members_to"}},

	{method: "GET", path: "/api/v1/tenants/{slug}/users", summary: "List users (colleagues), in id order; with q (every word found in the names, email, mobile, extensions or external numbers) or sort (name, last_name, email, extension, department, role; -name descending) the whole tenant is searched and sorted, and the cursor follows on from the last page", answer: "UserPage", status: "200", query: []string{"limit", "cursor", "department_id", "q", "sort"}},
	{method: "POST", path: "/api/v1/tenants/{slug}/users", summary: "Create a user; generated PIN and password are returned once", body: "UserCreate", answer: "User", status: "201"},
	{method: "POST", path: "/api/v1/tenants/{slug}/users/import", summary: "CSV import (docs/roles.md), all or nothing; a row matching an existing person (same email, or same first and last name without email) is a warning and, by on_duplicate, skipped (default), updated or created again", body: "csv", answer: "Object", status: "200", query: []string{"dry_run", "on_duplicate", "async"},
		more: map[string]string{"202": "async=true: the import runs as a job (ImportJob); follow it at …/users/import/jobs/{id}. One job per tenant at a time, else 429 busy"}},
	{method: "GET", path: "/api/v1/tenants/{slug}/users/import/jobs/{id}", summary: "An import job started with async=true, for the person who started it (users.manage over the tenant): state queued, checking, importing, done (with result, the import's report) or failed (with error and details, as the synchronous import answers them); done of total rows in the current phase. Kept an hour after it ends", answer: "ImportJob", status: "200"},
	{method: "GET", path: "/api/v1/tenants/{slug}/users/{id}", summary: "A user", answer: "User", status: "200"},
	{method: "PATCH", path: "/api/v1/tenants/{slug}/users/{id}", summary: "Change a user (roles and permissions per docs/roles.md)", body: "UserPatch", answer: "User", status: "200"},
	{method: "DELETE", path: "/api/v1/tenants/{slug}/users/{id}", summary: "Delete a user and every reference to them", status: "204"},
	{method: "GET", path: "/api/v1/tenants/{slug}/users/{id}/delete-preview", summary: "What deleting the user would take with them, changing nothing: extensions and external numbers freed, phones left without a user, photo, sessions, SIP registrations, flex logins, queued mails (users.manage; 403 and 409 as the delete)", answer: "DeletePreview", status: "200"},
	{method: "GET", path: "/api/v1/tenants/{slug}/users/{id}/keys", summary: "The user's BLF and speed-dial keys, placed after one line key per extension on their phones (self.manage for one's own, users.manage)", answer: "PhoneKeys", status: "200"},
	{method: "PUT", path: "/api/v1/tenants/{slug}/users/{id}/keys", summary: "Replace the user's BLF and speed-dial keys (at most 60; a BLF key watches an extension of the tenant); their phones re-provision (self.manage for one's own, users.manage)", body: "PhoneKeys", answer: "PhoneKeys", status: "200"},
	{method: "PUT", path: "/api/v1/tenants/{slug}/users/{id}/photo", summary: "Set the photo (JPEG or PNG, at most 2 MiB and 4096×4096 pixels, else 422; scaled to 256 px)", body: "image", status: "204"},
	{method: "GET", path: "/api/v1/tenants/{slug}/users/{id}/photo", summary: "The photo, as JPEG", answer: "jpeg", status: "200"},
	{method: "DELETE", path: "/api/v1/tenants/{slug}/users/{id}/photo", summary: "Remove the photo", status: "204"},
	{method: "POST", path: "/api/v1/tenants/{slug}/users/{id}/sip-credentials", summary: "New SIP user names and passwords for the user's extensions", answer: "ExtensionPage", status: "200"},

	{method: "GET", path: "/api/v1/tenants/{slug}/extensions", summary: "Extensions; SIP credentials for users.manage (in scope) or phones.manage; with free=true the numbers of the tenant's range no one holds (users.manage)", answer: "ExtensionPage", status: "200", query: []string{"limit", "cursor", "free"}},
	{method: "GET", path: "/api/v1/tenants/{slug}/external-numbers", summary: "External numbers (DIDs) in number order, each with its user's name and extensions (directory.read)", answer: "ExternalNumberPage", status: "200", query: []string{"limit", "cursor"}},
	{method: "GET", path: "/api/v1/tenants/{slug}/phones", summary: "List phones; user_id gives one user's, unassigned=true those without a user", answer: "PhonePage", status: "200", query: []string{"limit", "cursor", "user_id", "unassigned"}},
	{method: "POST", path: "/api/v1/tenants/{slug}/phones", summary: "Add a phone (phones.manage); MAC in any notation. A MAC another tenant holds is refused like a malformed one (400, field mac). The model must be one GET …/models lists (any case), else 422 unknown_model naming the closest; a discovered phone takes the make and model it told", body: "PhoneCreate", answer: "Phone", status: "201"},
	{method: "POST", path: "/api/v1/tenants/{slug}/phones/actions", summary: "Resync or reboot one phone, a department's, a model's or all phones with each make's NOTIFY, paced at the tenant's action_rate (phones per second); audited once with the count (phones.manage); 429 when the tenant's queue is full", body: "PhoneAction", answer: "ActionReport", status: "202"},
	{method: "GET", path: "/api/v1/tenants/{slug}/phones/actions/{id}", summary: "An action's result per phone: queued, notified (NOTIFY answered 2xx), no_binding, failed, fetched (the phone fetched a file after the NOTIFY); the last 32 actions per tenant, until a restart (phones.manage)", answer: "ActionReport", status: "200"},
	{method: "GET", path: "/api/v1/tenants/{slug}/phones/{mac}", summary: "A phone", answer: "Phone", status: "200"},
	{method: "PATCH", path: "/api/v1/tenants/{slug}/phones/{mac}", summary: "Change or assign a phone; a model GET …/models does not list is 422 unknown_model", body: "PhonePatch", answer: "Phone", status: "200"},
	{method: "DELETE", path: "/api/v1/tenants/{slug}/phones/{mac}", summary: "Remove a phone (phones.manage)", status: "204"},
	{method: "POST", path: "/api/v1/tenants/{slug}/phones/{mac}/provisioning-credentials", summary: "New HTTP Digest credentials for the phone's own files, shown once (phones.manage); a phone that proved the old ones fetches with them once more and receives the new", answer: "Phone", status: "200"},
	{method: "POST", path: "/api/v1/tenants/{slug}/phones/{mac}/move", summary: "Move a phone to another tenant in one step (system_owner): it keeps model, flex mode and settings, leaves its user, flex login and guest account behind; gets a new web-admin password and new provisioning credentials (shown once: the old tenant saw the old ones); audited in both tenants", body: "PhoneMove", answer: "Phone", status: "200"},
	{method: "POST", path: "/api/v1/tenants/{slug}/phones/{mac}/resync", summary: "Send check-sync to the phone (phones.manage)", answer: "Object", status: "202"},
	{method: "POST", path: "/api/v1/tenants/{slug}/phones/{mac}/login", summary: "Flex login with extension and PIN", body: "FlexLogin", answer: "Object", status: "200"},
	{method: "POST", path: "/api/v1/tenants/{slug}/phones/{mac}/logout", summary: "Flex logout", answer: "Object", status: "200"},

	{method: "GET", path: "/api/v1/tenants/{slug}/registrations", summary: "Live SIP registrations (phones.manage or reports.read)", answer: "ItemPage", status: "200"},
	{method: "GET", path: "/api/v1/tenants/{slug}/audit", summary: "Audit log, newest first (reports.read); filters: subject (a user id: events about, by or as them), action (a prefix, e.g. user.), since and until (RFC 3339, inclusive)", answer: "AuditPage", status: "200", query: []string{"limit", "cursor", "subject", "action", "since", "until"}},
	{method: "GET", path: "/api/v1/tenants/{slug}/calls", summary: "Call history, newest first, kept call_history_days: every call for reports.read (department scope: calls whose caller or callee is in your departments), else only your own (a user filter naming someone else is 403); from and to take a time (RFC 3339) or a date in the tenant's time zone (to includes that day)", answer: "CallPage", status: "200", query: []string{"limit", "cursor", "user", "from", "to", "result"}},
	{method: "GET", path: "/api/v1/tenants/{slug}/outbox", summary: "Mail not yet handed to an SMTP server", answer: "ItemPage", status: "200", query: []string{"limit", "cursor"}},

	{method: "POST", path: "/api/v1/tenants/{slug}/firmware", summary: "Upload a firmware file as the body, at most 1 GiB (phones.manage); 409 if the name exists. With model, the answer offers to make it the target (none yet) or to stage it; target=true makes it the model's target at once", body: "binary", answer: "Firmware", status: "201", query: []string{"name", "model", "version", "target"}},
	{method: "GET", path: "/api/v1/tenants/{slug}/firmware", summary: "Firmware files with SHA-256, size and the models targeting them (phones.manage)", answer: "FirmwarePage", status: "200"},
	{method: "DELETE", path: "/api/v1/tenants/{slug}/firmware/{name}", summary: "Delete a firmware file; 409 while a model targets it (phones.manage)", status: "204"},
	{method: "GET", path: "/api/v1/tenants/{slug}/models", summary: "Every known phone model with the tenant's target firmware and raw settings (phones.manage)", answer: "ModelPage", status: "200"},
	{method: "GET", path: "/api/v1/tenants/{slug}/models/{model}", summary: "A model's target firmware and raw settings (phones.manage)", answer: "ModelProfile", status: "200"},
	{method: "PUT", path: "/api/v1/tenants/{slug}/models/{model}", summary: "Set a model's target firmware (\"\" none) and raw settings, both replaced (phones.manage)", body: "ModelProfileBody", answer: "ModelProfile", status: "200"},
	{method: "POST", path: "/api/v1/tenants/{slug}/models/{model}/firmware/target", summary: "Make a firmware file the target of every phone of the model (\"\" none), settings untouched; the old target is kept for rollback (phones.manage)", body: "FirmwareTarget", answer: "ModelProfile", status: "200"},
	{method: "POST", path: "/api/v1/tenants/{slug}/models/{model}/firmware/stage", summary: "Stage a firmware for some of the model's phones first: listed MACs (at most 1000) or a percentage chosen stably by MAC hash; the others keep the target (phones.manage)", body: "FirmwareStage", answer: "ModelProfile", status: "200"},
	{method: "POST", path: "/api/v1/tenants/{slug}/models/{model}/firmware/rollout", summary: "The staged firmware becomes the target of every phone of the model (phones.manage)", answer: "ModelProfile", status: "200"},
	{method: "POST", path: "/api/v1/tenants/{slug}/models/{model}/firmware/rollback", summary: "Drop the stage, or (none) go back to the previous target (phones.manage)", answer: "ModelProfile", status: "200"},
	{method: "GET", path: "/api/v1/tenants/{slug}/templates", summary: "Template names, embedded and/or overridden (phones.manage)", answer: "TemplatePage", status: "200"},
	{method: "GET", path: "/api/v1/tenants/{slug}/templates/{name}", summary: "The template text in use; X-Template-Source says override or embedded (phones.manage)", answer: "text", status: "200"},
	{method: "PUT", path: "/api/v1/tenants/{slug}/templates/{name}", summary: "Override a template for the whole installation; parsed and tried first, a fault is a 400 with its line (phones.manage + system_owner/system_admin of tenant default)", body: "text", status: "204"},
	{method: "DELETE", path: "/api/v1/tenants/{slug}/templates/{name}", summary: "Remove an override: back to the embedded template (phones.manage + system_owner/system_admin of tenant default)", status: "204"},
	{method: "GET", path: "/api/v1/tenants/{slug}/provisioning-log", summary: "Files served to (or refused) phones, newest first (reports.read); mac= only one phone's", answer: "ProvisionLogPage", status: "200", query: []string{"limit", "cursor", "mac"}},
	{method: "GET", path: "/api/v1/tenants/{slug}/discovered-phones", summary: "Unknown phones that asked for their files; POST …/phones with the MAC assigns one (phones.manage)", answer: "DiscoveredPage", status: "200", query: []string{"limit", "cursor"}},
	{method: "DELETE", path: "/api/v1/tenants/{slug}/discovered-phones/{mac}", summary: "Dismiss a discovered phone (phones.manage)", status: "204"},
	{method: "POST", path: "/api/v1/tenants/{slug}/trust/device-cas", summary: "Trust vendor CA certificates for phones' device certificates (device_auth): one or more PEM CERTIFICATE blocks as the body, each a CA (basic constraints CA:TRUE) in force now; all stored or none, 409 for one trusted already (tenant.settings)", body: "pem", answer: "DeviceCAPage", status: "201"},
	{method: "GET", path: "/api/v1/tenants/{slug}/trust/device-cas", summary: "The tenant's trusted vendor CAs (tenant.settings or phones.manage)", answer: "DeviceCAPage", status: "200"},
	{method: "DELETE", path: "/api/v1/tenants/{slug}/trust/device-cas/{id}", summary: "Stop trusting a vendor CA; 409 for the last one while device_auth is prefer or require (tenant.settings)", status: "204"},
	{method: "GET", path: "/api/v1/tenants/{slug}/upstream", summary: "The tenant's upstream (provider trunk or PBX for outside and emergency calls) and, in register mode, its registration's state; never the password; 404 without one (tenant.settings)", answer: "Upstream", status: "200"},
	{method: "PUT", path: "/api/v1/tenants/{slug}/upstream", summary: "Set the tenant's upstream, replaced whole; a password left out keeps the stored one; 409 when trusted overlaps another tenant's upstream (tenant.settings)", body: "UpstreamPut", answer: "Upstream", status: "200"},
	{method: "DELETE", path: "/api/v1/tenants/{slug}/upstream", summary: "Remove the tenant's upstream: outside and emergency calls have nowhere to go (tenant.settings)", status: "204"},
}

func obj(props map[string]any, required ...string) map[string]any {
	m := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		m["required"] = required
	}
	return m
}

var (
	str     = map[string]any{"type": "string"}
	boolean = map[string]any{"type": "boolean"}
	integer = map[string]any{"type": "integer"}
	strs    = map[string]any{"type": "array", "items": str}
	stamp   = map[string]any{"type": "string", "format": "date-time"}
	anyObj  = map[string]any{"type": "object"}
)

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
func pageOf(name string) map[string]any {
	return obj(map[string]any{"items": map[string]any{"type": "array", "items": ref(name)}, "next_cursor": str}, "items", "next_cursor")
}

// sessionMode is the "session" member of a login or view-as body (cookiesession.go).
var sessionMode = map[string]any{"type": "string", "enum": []string{"bearer", "cookie"}, "default": "bearer",
	"description": "cookie: the session goes into the HttpOnly dialtone_session cookie and the answer carries csrf_token instead of token"}

func schemas() map[string]any {
	userFields := map[string]any{
		"first_name": str, "last_name": str, "email": str, "role": ref("Role"), "department_id": str,
		"departments": strs, "language": str, "timezone": str, "mobile": str, "pin": str, "password": str,
		"extensions": strs, "external_numbers": strs, "managed_tenants": strs,
		"extra_permissions": map[string]any{"type": "array", "items": ref("Permission")},
	}
	patch := map[string]any{"old_password": str, "reset_pin": boolean, "reset_password": boolean}
	for k, v := range userFields {
		patch[k] = v
	}
	user := map[string]any{"id": str, "tenant": str, "photo": boolean, "created": stamp, "updated": stamp,
		"permissions": map[string]any{"type": "array", "items": obj(map[string]any{"name": ref("Permission"), "source": map[string]any{"type": "string", "enum": []string{"role", "extra"}}})}}
	for k, v := range userFields {
		user[k] = v
	}
	// The digest algorithms the registrar offers, in order (MD5 first by default).
	sipDigest := map[string]any{"type": "string", "enum": store.SIPDigests, "default": store.DefaultSIPDigest}
	modelDigest := map[string]any{"type": "string", "enum": append([]string{""}, store.SIPDigests...),
		"description": "overrides the tenant's sip_digest for this model; \"\" keeps it"}
	sipTransport := map[string]any{"type": "string", "enum": store.SIPTransports, "default": "udp",
		"description": "how phones register, written into their configs; tls uses the --sips port"}
	srtp := map[string]any{"type": "string", "enum": store.SRTPModes, "default": "off",
		"description": "media encryption written into phone configs: off, optional (offered) or required"}
	tenantFields := map[string]any{"name": str, "sip_domain": str, "language": str, "timezone": str,
		"ext_min": integer, "ext_max": integer}
	tpatch := map[string]any{"anonymous_ldap": boolean, "emergency_numbers": strs, "auto_logout": str,
		"flex_multi_login": boolean, "pin_min_length": integer, "audit_retention_days": integer, "sip_digest": sipDigest,
		"call_history_days": map[string]any{"type": "integer", "minimum": 1, "maximum": store.MaxCallHistoryDays, "default": store.DefaultCallHistoryDays,
			"description": "days the call history keeps a call"},
		"sip_transport": sipTransport, "srtp": srtp,
		"provisioning_auth": map[string]any{"type": "string", "enum": []string{"token", "digest"},
			"description": "digest: a phone's own files need its HTTP Digest credentials after its first fetch"},
		"tftp_bare_names":  map[string]any{"type": "boolean", "description": "default tenant only: TFTP names without a token reach it"},
		"phonebook_mobile": map[string]any{"type": "boolean", "description": "mobile numbers in the XML phonebooks"},
		"device_auth": map[string]any{"type": "string", "enum": []string{"off", "prefer", "require"},
			"description": "phones' own files need a device certificate from a trusted vendor CA naming their MAC, over HTTPS: require (else 403), prefer (checked when sent; a wrong one is refused), off; prefer and require need a device CA (400) and HTTPS on (422)"},
		"settings": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "object", "additionalProperties": str}}}
	tpatch["action_rate"] = map[string]any{"type": "integer", "minimum": 1, "maximum": store.MaxActionRate, "default": store.DefaultActionRate,
		"description": "phones per second told by a remote resync or reboot (POST …/phones/actions)"}
	tpatch["max_calls"] = map[string]any{"type": "integer", "minimum": 0, "maximum": store.MaxMaxCalls, "default": store.DefaultMaxCalls,
		"description": "calls in progress at once through the proxy for the tenant (0: the default); over it a call is answered 503; emergency calls never"}
	tpatch["max_calls_per_user"] = map[string]any{"type": "integer", "minimum": 0, "maximum": store.MaxMaxCalls, "default": store.DefaultMaxCallsPerUser,
		"description": "calls in progress at once for one user, placed or received (0: the default); over it the caller gets 503, a call to them 486"}
	tpatch["provisioning_https_only"] = boolean // refuse phones' own files over plain HTTP and TFTP
	tpatch["pnp_subnets"] = map[string]any{"type": "array", "maxItems": store.MaxPnPSubnets, "items": str,
		"description": "subnets (CIDR) whose SIP plug-and-play SUBSCRIBEs this tenant answers; 409 when one overlaps a subnet another tenant claims"}
	for k, v := range tenantFields {
		tpatch[k] = v
	}
	for k, v := range callRoutingDoc() {
		tpatch[k] = v
	}
	tpatch["ldap_require_tls"] = map[string]any{"type": "boolean", "default": true,
		"description": "people's LDAP binds with their login password need TLS (LDAPS or StartTLS); in clear they get confidentialityRequired"}
	tpatch["ldap_phonebook_cleartext"] = map[string]any{"type": "boolean", "default": true,
		"description": "the phonebook account may bind without TLS, for phones without LDAPS; false needs phonebook_ldaps"}
	tpatch["phonebook_ldaps"] = map[string]any{"type": "boolean", "default": false,
		"description": "phone configs point the LDAP phonebook at ldaps:// on the --ldaps port"}
	tenant := map[string]any{"slug": str, "created": stamp, "ldap_base_dn": str, "provisioning_token": str,
		"provisioning_url": str, "ldap_bind_dn": str, "ldap_bind_password": str, "previous_token_expires": stamp}
	for k, v := range tpatch {
		tenant[k] = v
	}
	tcreate := map[string]any{"slug": str}
	for k, v := range tenantFields {
		tcreate[k] = v
	}
	ecid := map[string]any{"type": "string", "description": "E.164 caller ID of emergency calls (where the phone stands)"}
	userName := map[string]any{"type": "string", "description": "the display name of the user (with directory.read)"}
	dept := map[string]any{"name": str, "language": str, "timezone": str, "emergency_caller_id": ecid}
	settings := map[string]any{"type": "object", "additionalProperties": str}
	roles, perms := roleNames(), permissionNames()
	return map[string]any{
		"Error":          obj(map[string]any{"error": obj(map[string]any{"code": str, "message": str, "field": str}, "code", "message")}, "error"),
		"Role":           map[string]any{"type": "string", "enum": roles},
		"Permission":     map[string]any{"type": "string", "enum": perms},
		"Object":         anyObj,
		"PINUnlock":      obj(map[string]any{"id": str, "unlocked": strs}, "id", "unlocked"),
		"Login":          obj(map[string]any{"email": str, "password": str, "tenant": str, "session": sessionMode}, "email", "password"),
		"ForgotPassword": obj(map[string]any{"email": str}, "email"),
		"SetPassword":    obj(map[string]any{"token": str, "password": str}, "token", "password"),
		"ResetPassword": obj(map[string]any{"mail": map[string]any{"type": "boolean", "default": false,
			"description": "mail the user a one-time link instead of answering a password"}}),
		"ResetAnswer": map[string]any{"type": "object", "properties": map[string]any{"id": str,
			"password": map[string]any{"type": "string", "description": "the new password, shown once (without mail)"},
			"queued":   boolean, "to": map[string]any{"type": "string", "description": "where the reset mail goes (with mail)"}}},
		"ViewAs": obj(map[string]any{"tenant": str, "user_id": str, "session": sessionMode}, "user_id"),
		"DeletePreview": obj(map[string]any{"extensions": strs, "external_numbers": strs, "phones": strs, "photo": boolean,
			"sessions": integer, "bindings": integer, "flex_logins": integer, "mails": integer},
			"extensions", "external_numbers", "phones", "photo", "sessions", "bindings", "flex_logins", "mails"),
		"Session": obj(map[string]any{"token": map[string]any{"type": "string", "description": "the bearer token (not with session cookie)"},
			"csrf_token": map[string]any{"type": "string", "description": "with session cookie: send it as X-CSRF-Token on every change"},
			"expires":    stamp, "user": ref("User")}, "user"),
		"User":         map[string]any{"type": "object", "properties": user},
		"UserCreate":   obj(userFields, "first_name", "last_name"),
		"UserPatch":    obj(patch),
		"UserPage":     pageOf("User"),
		"Tenant":       map[string]any{"type": "object", "properties": tenant},
		"TenantCreate": obj(tcreate, "slug"),
		"TenantPatch":  obj(tpatch),
		"TenantPage":   pageOf("Tenant"),
		"TokenRotate":  obj(map[string]any{"grace": map[string]any{"type": "string", "description": "how long the old token still works, e.g. 24h; 0 refuses it at once"}}),
		"TLS": map[string]any{"type": "object", "properties": map[string]any{
			"source":    map[string]any{"type": "string", "enum": []string{"private-ca", "files", "acme"}},
			"ca_sha256": str, "ca_pem": str, "not_after": stamp, "ca_url": str}},
		"Department": map[string]any{"type": "object", "properties": map[string]any{"id": str, "tenant": str,
			"name": str, "language": str, "timezone": str, "emergency_caller_id": ecid, "created": stamp}},
		"DepartmentCreate": obj(dept, "name"),
		"DepartmentPatch":  obj(dept),
		"DepartmentPage":   pageOf("Department"),
		"Extension":        obj(map[string]any{"number": str, "user_id": str, "user_name": userName, "sip_username": str, "sip_password": str}, "number"),
		"ExtensionPage":    pageOf("Extension"),
		"ExternalNumber": obj(map[string]any{"number": str, "user_id": str, "user_name": userName,
			"user_extensions": map[string]any{"type": "array", "items": str}}, "number", "user_id"),
		"ExternalNumberPage": pageOf("ExternalNumber"),
		"Phone": map[string]any{"type": "object", "properties": map[string]any{"mac": map[string]any{"type": "string", "pattern": "^[0-9a-f]{12}$"},
			"tenant": str, "make": str, "model": str, "user_id": str, "user_name": userName, "flex": boolean,
			"guest": obj(map[string]any{"sip_username": str, "sip_password": str}), "settings": settings,
			"admin_password": map[string]any{"type": "string", "description": "the phone's own web admin password (phones.manage)"},
			"provisioning_credentials": map[string]any{"type": "object", "description": "HTTP Digest credentials for the phone's own files, shown once (create, rotate, move)",
				"properties": map[string]any{"username": str, "password": str}},
			"last_seen": stamp, "last_addr": str, "user_agent": str, "firmware": str, "created": stamp, "emergency_caller_id": ecid,
			"logged_in": obj(map[string]any{"user_id": str, "user_name": userName, "extension": str, "since": stamp, "until": stamp, "how": str, "by": str})}},
		"PhoneCreate": obj(map[string]any{"mac": str, "model": str, "user_id": str, "flex": boolean, "settings": settings}, "mac"),
		"PhonePatch":  obj(map[string]any{"model": str, "user_id": str, "flex": boolean, "settings": settings, "emergency_caller_id": ecid}),
		"PhonePage":   pageOf("Phone"),
		"PhoneMove":   obj(map[string]any{"tenant": str}, "tenant"),
		"PhoneKeys": map[string]any{"type": "array", "maxItems": store.MaxUserKeys, "items": obj(map[string]any{
			"type":  map[string]any{"type": "string", "enum": []string{store.KeyBLF, store.KeySpeedDial}},
			"value": map[string]any{"type": "string", "description": "blf: an extension of the tenant; speed_dial: a number (0-9 + * #)"},
			"label": map[string]any{"type": "string", "maxLength": 32}}, "type", "value")},
		"FlexLogin": obj(map[string]any{"extension": str, "pin": str}, "extension", "pin"),
		"PhoneAction": obj(map[string]any{"action": map[string]any{"type": "string", "enum": []string{"resync", "reboot"}},
			"mac": str, "department_id": str, "model": str, "all": boolean}, "action"),
		"ActionReport": obj(map[string]any{"id": str, "action": str, "rate": integer, "created": stamp, "done": boolean,
			"counts": map[string]any{"type": "object", "additionalProperties": integer},
			"phones": map[string]any{"type": "array", "items": obj(map[string]any{"mac": str,
				"state": map[string]any{"type": "string", "enum": []string{"queued", "notified", "no_binding", "failed", "fetched"}},
				"error": str, "sent": stamp, "answered": stamp, "fetched": stamp}, "mac", "state")}}, "id", "action", "phones"),
		"AuditEvent": map[string]any{"type": "object", "properties": map[string]any{"id": str, "tenant": str, "time": stamp,
			"actor_tenant": str, "actor_id": str, "actor_email": str, "view_as": str, "source": str,
			"action": str, "object": str, "subject": str, "before": anyObj, "after": anyObj}},
		"AuditPage": pageOf("AuditEvent"),
		"CallRecord": map[string]any{"type": "object", "properties": map[string]any{"id": str, "tenant": str, "call_id": str,
			"caller": obj(map[string]any{"user_id": str, "extension": str, "number": map[string]any{"type": "string", "description": "the number shown: extension or caller ID"}}),
			"callee": obj(map[string]any{"user_id": str, "extension": str, "number": map[string]any{"type": "string", "description": "the number dialled"}}),
			"route":  map[string]any{"type": "string", "enum": []string{"internal", "upstream", "emergency", "refused"}},
			"start":  stamp, "answer": stamp, "end": stamp,
			"result":      map[string]any{"type": "string", "enum": store.CallResults},
			"code":        map[string]any{"type": "integer", "description": "the final SIP status"},
			"rang":        map[string]any{"type": "array", "items": str, "description": "the phones that rang (MACs, or contacts)"},
			"answered_by": strs}},
		"CallPage": pageOf("CallRecord"),
		"ItemPage": obj(map[string]any{"items": map[string]any{"type": "array", "items": anyObj}, "next_cursor": str}),
		"Firmware": map[string]any{"type": "object", "properties": map[string]any{"tenant": str, "name": str, "size": integer,
			"sha256": str, "make": str, "model": str, "version": str, "uploaded": stamp, "target_of": strs,
			"offer": map[string]any{"type": "string", "description": "on an upload for a model: how to make it the target (none yet) or stage it"}}},
		"FirmwarePage": pageOf("Firmware"),
		"Upstream":     upstreamDoc(false),
		"UpstreamPut":  upstreamDoc(true),
		"ModelProfile": obj(map[string]any{"make": str, "model": str, "firmware": str, "settings": settings, "sip_digest": modelDigest,
			"stage": obj(map[string]any{"firmware": str, "macs": strs, "percent": integer}), "previous_firmware": str}),
		"FirmwareStage":    obj(map[string]any{"firmware": str, "macs": strs, "percent": map[string]any{"type": "integer", "minimum": 1, "maximum": 100}}, "firmware"),
		"FirmwareTarget":   obj(map[string]any{"firmware": str}, "firmware"),
		"ModelProfileBody": obj(map[string]any{"firmware": str, "settings": settings, "sip_digest": modelDigest}),
		"ModelPage":        pageOf("ModelProfile"),
		"Template":         map[string]any{"type": "object", "properties": map[string]any{"name": str, "embedded": boolean, "overridden": boolean, "size": integer, "modified": stamp}},
		"TemplatePage":     pageOf("Template"),
		"ProvisionLogEntry": map[string]any{"type": "object", "properties": map[string]any{"seq": integer, "time": stamp, "mac": str,
			"file": str, "protocol": str, "make": str, "model": str, "firmware": str, "image": str, "image_version": str, "addr": str, "user_agent": str,
			"status": integer, "bytes": integer, "count": integer,
			"device": map[string]any{"type": "string", "enum": []string{"verified", "missing", "refused"}}, "reason": str}},
		"DeviceCA":         obj(map[string]any{"id": str, "subject": str, "sha256": str, "not_before": stamp, "not_after": stamp, "added": stamp}),
		"DeviceCAPage":     pageOf("DeviceCA"),
		"ProvisionLogPage": pageOf("ProvisionLogEntry"),
		"Discovered": map[string]any{"type": "object", "properties": map[string]any{"tenant": str, "mac": str, "make": str,
			"model": str, "firmware": str, "addr": str, "user_agent": str, "first_seen": stamp, "last_seen": stamp}},
		"DiscoveredPage": pageOf("Discovered"),
		"MyPhone": obj(map[string]any{"mac": str, "make": str, "model": str, "flex": boolean, "assigned": boolean, "last_seen": stamp,
			"logged_in": obj(map[string]any{"user_id": str, "extension": str, "since": stamp, "until": stamp, "how": str, "by": str})}, "mac"),
		"MyPhonePage":  pageOf("MyPhone"),
		"MyFlexLogout": obj(map[string]any{"logged_out": strs}, "logged_out"),
		"ImportJob": obj(map[string]any{"id": str,
			"state":   map[string]any{"type": "string", "enum": []string{"queued", "checking", "importing", "done", "failed"}},
			"dry_run": boolean, "done": integer, "total": integer, "started": stamp, "finished": stamp,
			"result":  map[string]any{"type": "object", "description": "when done: the import's report, as the synchronous import answers it"},
			"error":   obj(map[string]any{"status": integer, "code": str, "message": str, "field": str}),
			"details": map[string]any{"type": "object", "description": "when failed on a rejected file: every error by line and column"}}, "id", "state", "done", "total"),
	}
}

var errorStatuses = map[string]string{
	"400": "Invalid input; field names the member", "401": "No, bad or expired token",
	"403": "Not allowed", "404": "Not found", "409": "Conflict or duplicate", "413": "Body too large",
	"422": "Semantically wrong", "429": "Throttled", "503": "A service this call needs is not running",
}

func buildOpenAPI() map[string]any {
	paths := map[string]any{}
	for _, op := range operations {
		item, _ := paths[op.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.path] = item
		}
		o := map[string]any{"summary": op.summary, "operationId": opID(op)}
		var params []any
		for _, seg := range strings.Split(op.path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": str})
			}
		}
		for _, q := range op.query {
			s := str
			if q == "limit" {
				s = map[string]any{"type": "integer", "minimum": 1, "maximum": maxLimit}
			}
			params = append(params, map[string]any{"name": q, "in": "query", "schema": s})
		}
		if params != nil {
			o["parameters"] = params
		}
		switch op.body {
		case "":
		case "csv":
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"text/csv": map[string]any{"schema": str}}}
		case "binary":
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
		case "text":
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"text/plain": map[string]any{"schema": str}}}
		case "pem":
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/x-pem-file": map[string]any{"schema": str}}}
		case "image":
			bin := map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"image/jpeg": bin, "image/png": bin}}
		default:
			o["requestBody"] = map[string]any{"required": !op.optionalBody, "content": map[string]any{"application/json": map[string]any{"schema": ref(op.body)}}}
		}
		resp := map[string]any{}
		switch op.answer {
		case "":
			resp[op.status] = map[string]any{"description": "Done"}
		case "text":
			resp[op.status] = map[string]any{"description": "OK", "content": map[string]any{"text/plain": map[string]any{"schema": str}}}
		case "jpeg":
			resp[op.status] = map[string]any{"description": "OK", "content": map[string]any{"image/jpeg": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
		default:
			resp[op.status] = map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": ref(op.answer)}}}
		}
		for code, desc := range errorStatuses {
			resp[code] = map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
		}
		for code, desc := range op.more {
			schema := ref("Error")
			if code[0] == '2' {
				schema = ref(op.answer)
			}
			resp[code] = map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
		}
		o["responses"] = resp
		if op.public {
			o["security"] = []any{}
		}
		item[strings.ToLower(op.method)] = o
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Dialtone admin API", "version": "1",
			"description": "Users, roles, departments, phones and numbers of Dialtone. Errors: {\"error\":{\"code\",\"message\",\"field\"}}. Lists take ?limit=&cursor= and answer {\"items\",\"next_cursor\"}."},
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie,
					"description": "the console's session; every change also needs the X-CSRF-Token header"}},
			"schemas": schemas(),
		},
	}
}

func opID(op opDoc) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.method))
	for _, seg := range strings.Split(strings.TrimPrefix(op.path, "/api/v1/"), "/") {
		seg = strings.Trim(seg, "{}")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

var (
	openAPIOnce sync.Once
	openAPIJSON []byte
)

// OpenAPIDocument is the document GET /api/v1/openapi.json serves, byte for byte.
func OpenAPIDocument() []byte {
	openAPIOnce.Do(func() { openAPIJSON, _ = json.MarshalIndent(buildOpenAPI(), "", "  ") })
	return openAPIJSON
}

// openAPI: GET /api/v1/openapi.json.
func (a *API) openAPI(r *request) (any, error) {
	return rawAnswer{contentType: "application/json", body: OpenAPIDocument()}, nil
}
