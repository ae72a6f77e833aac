package store

import (
	"strings"
)

// CallRouting is a tenant's settings for where calls go (package dialplan reads them).
// It is embedded in Tenant, so its fields sit beside the tenant's others in JSON.
type CallRouting struct {
	// MainNumber (E.164) is the caller ID of outside calls from users without an
	// external number of their own, and a number inbound calls may arrive on.
	MainNumber string `json:"main_number,omitempty"`
	// MainNumberExtension is the extension a call to the main number rings ("": 404).
	MainNumberExtension string `json:"main_number_extension,omitempty"`
	// EmergencyCallerID (E.164) is the caller ID of emergency calls when neither the
	// phone nor the caller's department sets one ("": the caller's external number, else
	// the main number).
	EmergencyCallerID string `json:"emergency_caller_id,omitempty"`
	// CountryCode is the tenant's own country calling code (1 to 3 digits, e.g. "31"):
	// numbers dialled with the national prefix are in it, and it is always allowed.
	// "": taken from MainNumber.
	CountryCode string `json:"country_code,omitempty"`
	// InternationalPrefix and NationalPrefix are what the tenant's users dial before a
	// country code and before a national number ("": "00" and "0"; NANP: "011" and "1").
	InternationalPrefix string `json:"international_prefix,omitempty"`
	NationalPrefix      string `json:"national_prefix,omitempty"`
	// AllowedCountryCodes are further country codes outside calls may go to (toll-fraud
	// guard: by default only the tenant's own country is reachable).
	AllowedCountryCodes []string `json:"allowed_country_codes,omitempty"`
	// BlockedPrefixes are E.164 prefixes refused besides the built-in premium-rate ones
	// (e.g. "+31906"); AllowPremium lifts the built-in list (not these).
	BlockedPrefixes []string `json:"blocked_prefixes,omitempty"`
	AllowPremium    bool     `json:"allow_premium,omitempty"`
	// DailyOutsideCalls caps each user's outside calls per day in the tenant's time
	// zone (0: DefaultDailyOutsideCalls). Emergency calls never count.
	DailyOutsideCalls int `json:"daily_outside_calls,omitempty"`
}

// DefaultDailyOutsideCalls and MaxDailyOutsideCalls bound CallRouting.DailyOutsideCalls.
const (
	DefaultDailyOutsideCalls = 200
	MaxDailyOutsideCalls     = 100000
)

// OutsideCallCap is the tenant's daily cap of outside calls per user, or the default.
func (c CallRouting) OutsideCallCap() int {
	if c.DailyOutsideCalls <= 0 {
		return DefaultDailyOutsideCalls
	}
	return c.DailyOutsideCalls
}

// Country is the tenant's country code: the one set, or the main number's; "" when
// neither is known.
func (c CallRouting) Country() string {
	if c.CountryCode != "" {
		return c.CountryCode
	}
	return CountryCodeOf(c.MainNumber)
}

// Prefixes are the international and national prefixes, defaults filled in.
func (c CallRouting) Prefixes() (international, national string) {
	international, national = c.InternationalPrefix, c.NationalPrefix
	if international == "" {
		international = "00"
	}
	if national == "" {
		national = "0"
	}
	return international, national
}

// twoDigitCodes are the country calling codes of two digits (ITU-T E.164 Annex,
// "List of ITU-T Recommendation E.164 assigned country codes"); 1 and 7 are the one-digit
// codes and every other code has three digits, since the codes are prefix-free.
var twoDigitCodes = map[string]bool{
	"20": true, "27": true, "30": true, "31": true, "32": true, "33": true, "34": true,
	"36": true, "39": true, "40": true, "41": true, "43": true, "44": true, "45": true,
	"46": true, "47": true, "48": true, "49": true, "51": true, "52": true, "53": true,
	"54": true, "55": true, "56": true, "57": true, "58": true, "60": true, "61": true,
	"62": true, "63": true, "64": true, "65": true, "66": true, "81": true, "82": true,
	"84": true, "86": true, "90": true, "91": true, "92": true, "93": true, "94": true,
	"95": true, "98": true,
}

// CountryCodeOf is the country calling code an E.164 number ("+…" or bare digits)
// starts with; "" when it is too short to tell.
func CountryCodeOf(e164 string) string {
	d := strings.TrimPrefix(e164, "+")
	switch {
	case d == "" || d[0] < '1' || d[0] > '9':
		return ""
	case d[0] == '1' || d[0] == '7':
		return d[:1]
	case len(d) >= 2 && twoDigitCodes[d[:2]]:
		return d[:2]
	case len(d) >= 3:
		return d[:3]
	}
	return ""
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// checkCallRouting validates and normalises a tenant's call routing settings.
func checkCallRouting(c *CallRouting) error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"main_number", &c.MainNumber}, {"emergency_caller_id", &c.EmergencyCallerID}} {
		if *f.v == "" {
			continue
		}
		n, ok := NormalizeE164(*f.v)
		if !ok {
			return invalid(f.name, "%q: an E.164 number, + and 8 to 15 digits", *f.v)
		}
		*f.v = n
	}
	if c.MainNumberExtension != "" && !ValidExtension(c.MainNumberExtension) {
		return invalid("main_number_extension", "%q: an extension, 2 to 8 digits", c.MainNumberExtension)
	}
	if c.CountryCode != "" && CountryCodeOf(c.CountryCode) != c.CountryCode {
		return invalid("country_code", "%q: a country calling code, e.g. 31 or 1", c.CountryCode)
	}
	if c.CountryCode != "" && c.MainNumber != "" && CountryCodeOf(c.MainNumber) != c.CountryCode {
		return invalid("country_code", "%q differs from the main number's country code %s", c.CountryCode, CountryCodeOf(c.MainNumber))
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"international_prefix", c.InternationalPrefix}, {"national_prefix", c.NationalPrefix}} {
		if f.v != "" && (len(f.v) > 4 || !allDigits(f.v)) {
			return invalid(f.name, "%q: 1 to 4 digits", f.v)
		}
	}
	if len(c.AllowedCountryCodes) > 300 {
		return invalid("allowed_country_codes", "at most 300 country codes")
	}
	for i, cc := range c.AllowedCountryCodes {
		cc = strings.TrimPrefix(strings.TrimSpace(cc), "+")
		if CountryCodeOf(cc) != cc {
			return invalid("allowed_country_codes", "%q: a country calling code, e.g. 49", c.AllowedCountryCodes[i])
		}
		c.AllowedCountryCodes[i] = cc
	}
	if len(c.BlockedPrefixes) > 100 {
		return invalid("blocked_prefixes", "at most 100 prefixes")
	}
	for i, p := range c.BlockedPrefixes {
		d := strings.TrimPrefix(strings.TrimSpace(p), "+")
		if len(d) < 1 || len(d) > 15 || !allDigits(d) {
			return invalid("blocked_prefixes", "%q: the start of an E.164 number, e.g. +31906", p)
		}
		c.BlockedPrefixes[i] = "+" + d
	}
	if c.DailyOutsideCalls < 0 || c.DailyOutsideCalls > MaxDailyOutsideCalls {
		return invalid("daily_outside_calls", "outside calls per user per day: 0 (default %d) to %d", DefaultDailyOutsideCalls, MaxDailyOutsideCalls)
	}
	return nil
}

// checkEmergencyCallerID normalises a department's or phone's emergency_caller_id.
func checkEmergencyCallerID(v *string) error {
	if *v == "" {
		return nil
	}
	n, ok := NormalizeE164(*v)
	if !ok {
		return invalid("emergency_caller_id", "%q: an E.164 number, + and 8 to 15 digits", *v)
	}
	*v = n
	return nil
}
