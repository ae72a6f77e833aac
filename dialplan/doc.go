// Package dialplan decides where a call goes: it implements sip.Dialplan over the store.
//
// Outbound (an INVITE from a registered, authenticated line), in this order:
//
//  1. The tenant's emergency numbers (emergency_numbers) → sip.RouteEmergency, from any
//     line, a flex phone's guest line included, never refused by the limits below. Its
//     caller ID is the first set of: the phone's emergency_caller_id (where it stands),
//     the caller's department's, the tenant's, the caller's external number, the
//     tenant's main_number.
//  2. Feature codes (flex login) are answered by the registrar before the plan is asked;
//     a guest line may dial nothing else: 403 "guest line: emergency calls only".
//  3. The tenant's internal numbers → sip.RouteInternal to every line (SIP account) of
//     the extension's user: a flex phone the user is logged in at registers with those
//     same accounts, so it rings too. A free number inside the tenant's extension range
//     is 404 "number not in use". Anything but digits (with one leading "+") is 404.
//  4. The tenant's own external numbers, dialled in any form (a user's DID, the main
//     number with its main_number_extension) → sip.RouteInternal, as Inbound would
//     route them: no trip through the upstream, no outside call counted.
//  5. Everything else → sip.RouteUpstream, with the caller's first external number (DID)
//     as caller ID, else the tenant's main_number.
//
// Numbers sent upstream are normalized with the tenant's prefixes (international_prefix,
// default "00"; national_prefix, default "0"): "+CC…" stays, "00CC…" becomes "+CC…",
// "0…" becomes "+" country_code "…"; a number with neither prefix (a local or short
// number) is sent as dialled. The tenant's country_code is the one set, else the main
// number's (country codes are read with the E.164 rule that they are prefix-free: 1 and
// 7 are one digit, a fixed list two, all others three).
//
// Toll-fraud guard (outside calls only, never emergency calls): an E.164 destination
// outside the tenant's country and its allowed_country_codes is refused with 403
// "destination not allowed" (a tenant whose country is unknown reaches local numbers
// only); premium-rate and shared-cost prefixes (+979, +808, +870, +881–+883 and some
// countries' national ranges, e.g. +31900/906/909, +1900) are refused unless
// allow_premium, and the tenant's blocked_prefixes always; a local number (neither
// prefix) is checked against these both as "+" country_code "…" and as "+…" (the
// upstream may read it as E.164 without its "+"), so the NANP's 900… and 1900… are
// premium however dialled. Country code 1 is the whole
// North American Numbering Plan. Each user may place daily_outside_calls outside calls a
// day (default 200), counted in memory when the call is routed, per user (all their
// lines together), reset at midnight in the tenant's time zone and on restart; over it,
// 403 "daily outside call limit reached".
//
// Outbound reads the store once per calling line and once per number dialled: what it
// read (the caller's tenant, user, department and phone; where an internal or own
// number goes) is kept in memory (cache.go, at most 20,000 of each) until any change
// committed to the store but a binding's, so the next call after an admin's change
// routes by it. Measured with bench/calls.sh (2026-12): the store reads and their
// decoding were 14% of the server's CPU a call; server CPU a call 420 µs before the
// cache, 374 µs with it and sip forwarding responses uncopied (medians of four runs).
//
// Inbound (an INVITE from the tenant's upstream): the number is read as E.164 with or
// without "+", or in the tenant's international or national form. A DID of a user rings
// all their lines; the tenant's main_number rings main_number_extension's user; anything
// else is 404, and a DID of a user without extensions 480.
package dialplan
