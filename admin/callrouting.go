package admin

import "github.com/dialtone/dialtone/store"

// callRoutingPatch changes a tenant's call routing settings (store.CallRouting, read by
// package dialplan); tx.SaveTenant checks them.
type callRoutingPatch struct {
	MainNumber          *string   `json:"main_number"`
	MainNumberExtension *string   `json:"main_number_extension"`
	EmergencyCallerID   *string   `json:"emergency_caller_id"`
	CountryCode         *string   `json:"country_code"`
	InternationalPrefix *string   `json:"international_prefix"`
	NationalPrefix      *string   `json:"national_prefix"`
	AllowedCountryCodes *[]string `json:"allowed_country_codes"`
	BlockedPrefixes     *[]string `json:"blocked_prefixes"`
	AllowPremium        *bool     `json:"allow_premium"`
	DailyOutsideCalls   *int      `json:"daily_outside_calls"`
}

func (p callRoutingPatch) apply(c *store.CallRouting) {
	setString(&c.MainNumber, p.MainNumber)
	setString(&c.MainNumberExtension, p.MainNumberExtension)
	setString(&c.EmergencyCallerID, p.EmergencyCallerID)
	setString(&c.CountryCode, p.CountryCode)
	setString(&c.InternationalPrefix, p.InternationalPrefix)
	setString(&c.NationalPrefix, p.NationalPrefix)
	if p.AllowedCountryCodes != nil {
		c.AllowedCountryCodes = *p.AllowedCountryCodes
	}
	if p.BlockedPrefixes != nil {
		c.BlockedPrefixes = *p.BlockedPrefixes
	}
	if p.AllowPremium != nil {
		c.AllowPremium = *p.AllowPremium
	}
	if p.DailyOutsideCalls != nil {
		c.DailyOutsideCalls = *p.DailyOutsideCalls
	}
}

// callRoutingDoc describes the call routing settings in a tenant and its patch.
func callRoutingDoc() map[string]any {
	s := func(d string) map[string]any { return map[string]any{"type": "string", "description": d} }
	list := func(d string) map[string]any {
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": d}
	}
	return map[string]any{
		"main_number":           s("E.164: caller ID of outside calls from users without an external number; inbound calls to it ring main_number_extension"),
		"main_number_extension": s("the extension a call to the main number rings (none: 404)"),
		"emergency_caller_id":   s("E.164: caller ID of emergency calls when the phone and the department set none (none: the caller's external number, else the main number)"),
		"country_code":          s("the tenant's country calling code, e.g. 31 (none: the main number's); the only country outside calls reach by default"),
		"international_prefix":  map[string]any{"type": "string", "default": "00", "description": "dialled before a country code (NANP: 011)"},
		"national_prefix":       map[string]any{"type": "string", "default": "0", "description": "dialled before a national number (NANP: 1)"},
		"allowed_country_codes": list("further country codes outside calls may reach (toll-fraud guard); others are 403 destination not allowed"),
		"blocked_prefixes":      list("E.164 prefixes refused besides the built-in premium-rate ranges, e.g. +31906"),
		"allow_premium":         map[string]any{"type": "boolean", "default": false, "description": "lift the built-in premium-rate and satellite ranges"},
		"daily_outside_calls": map[string]any{"type": "integer", "minimum": 0, "maximum": store.MaxDailyOutsideCalls, "default": store.DefaultDailyOutsideCalls,
			"description": "outside calls per user per day in the tenant's time zone (0: the default); emergency calls never count"},
	}
}
