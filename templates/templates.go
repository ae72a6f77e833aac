// Package templates holds the vendor configuration templates that provision
// renders, embedded into the binary with go:embed.
//
// One file per make and file kind, named {make}-{kind}.tmpl (kind: boot, common,
// phone, master, user, override). A model may get its own file
// {make}-{model}-{kind}.tmpl, which wins over the make's. models.csv lists every
// known model: adding a model is a row there (and, when it needs one, a template
// file), never code. A file of the same name in the data directory's override
// folder wins over the embedded one (provision.New takes that folder as an fs.FS).
//
// Templates are Go text/template. The data they see is provision's view of a
// Profile (provision/profile.go, provision/render.go): the Profile's fields, .Lang (the
// make's name for the language), .TZ (a provision.Zone: offsets and DST rules in
// each make's notation), .MACUpper, and the raw-settings helpers that write one
// setting in the make's syntax, the admin's raw value winning over the default:
// .Y "key" default (Yealink "key = value"), .A (Poly attribute), .E (XML element;
// a dotted key uses its last part as the element name, for Fanvil's sections),
// .S (Snom element; "name[n]" gives idx="n"); .Rest lists the raw settings the
// template did not write, to append at the end.
//
// Formats: Yealink text, Poly UC Software XML (master, {mac}-user.cfg, common.cfg),
// Snom XML settings, Cisco MPP flat-profile, Grandstream gs_provision version 1
// (P-values), Fanvil sysConf XML (firmware 2.2.10 and later; the legacy
// <<VOIP CONFIG FILE>> text format is not used).
package templates

import "embed"

// FS is the embedded set of templates and the model table.
//
//go:embed *.tmpl models.csv
var FS embed.FS
