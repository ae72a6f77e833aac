package dialplan

import (
	"slices"
	"strings"

	"github.com/dialtone/dialtone/sip"
	"github.com/dialtone/dialtone/store"
)

// maxDialled bounds a dialled number's digits (E.164 has at most 15; some room for
// prefixes and national oddities).
const maxDialled = 32

// dialString says whether dialled is a number at all: digits, optionally after one "+".
// Anything else (letters, "*" and "#" codes the registrar did not know) is no number.
func dialString(dialled string) bool {
	d := strings.TrimPrefix(dialled, "+")
	return d != "" && len(d) <= maxDialled && strings.Trim(d, "0123456789") == ""
}

// Normalize turns a dialled outside number into E.164 where the tenant's prefixes tell
// how: "+CC…" stays, the international prefix ("00") becomes "+", the national prefix
// ("0") becomes "+" and the tenant's country code. A number without either prefix (a
// local number) is sent as dialled.
func Normalize(cr store.CallRouting, dialled string) string {
	if strings.HasPrefix(dialled, "+") {
		return dialled
	}
	intl, national := cr.Prefixes()
	if rest, ok := strings.CutPrefix(dialled, intl); ok && rest != "" {
		return "+" + rest
	}
	if rest, ok := strings.CutPrefix(dialled, national); ok && rest != "" && cr.Country() != "" {
		return "+" + cr.Country() + rest
	}
	return dialled
}

// inboundE164 reads the number an inbound call is for as E.164: with or without "+",
// or in the tenant's international or national form.
func inboundE164(cr store.CallRouting, number string) (string, bool) {
	if !dialString(number) {
		return "", false
	}
	n := number
	if !strings.HasPrefix(n, "+") {
		intl, national := cr.Prefixes()
		if rest, ok := strings.CutPrefix(n, intl); ok {
			n = "+" + rest
		} else if rest, ok := strings.CutPrefix(n, national); ok && cr.Country() != "" {
			n = "+" + cr.Country() + rest
		} else {
			n = "+" + n
		}
	}
	return store.NormalizeE164(n)
}

// premiumPrefixes are premium-rate and shared-cost ranges refused unless the tenant sets
// allow_premium: the international ones (ITU-T E.164: +979 premium rate, +808 shared
// cost, +870 and +881–+883 satellite and international networks, common toll-fraud
// destinations) and the national ones of some countries' numbering plans.
var premiumPrefixes = []string{
	"+979", "+808", "+870", "+881", "+882", "+883",
	"+1900", "+1976", // NANP
	"+31900", "+31906", "+31909", // Netherlands
	"+49900", "+49137", // Germany
	"+449",             // United Kingdom (09)
	"+3389",            // France (089)
	"+3290",            // Belgium (090x)
	"+43900", "+43930", // Austria
	"+41900", "+41901", "+41906", // Switzerland
	"+34803", "+34806", "+34807", "+34905", // Spain
	"+39899", "+39892", // Italy
}

// guard is the toll-fraud guard for an outside number: E.164 destinations outside the
// tenant's country and allowed_country_codes are refused, and so are premium-rate and
// blocked prefixes. A number that is not E.164 is local: in the tenant's country.
func guard(cr store.CallRouting, number string) (refusal sip.Route, refused bool) {
	if !strings.HasPrefix(number, "+") {
		return sip.Route{}, false
	}
	for _, p := range cr.BlockedPrefixes {
		if strings.HasPrefix(number, p) {
			return refusePremium, true
		}
	}
	if !cr.AllowPremium {
		for _, p := range premiumPrefixes {
			if strings.HasPrefix(number, p) {
				return refusePremium, true
			}
		}
	}
	cc := store.CountryCodeOf(number)
	if cc == "" || cc != cr.Country() && !slices.Contains(cr.AllowedCountryCodes, cc) {
		return refuseNotAllowed, true
	}
	return sip.Route{}, false
}
