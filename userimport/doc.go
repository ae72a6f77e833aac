// Package userimport turns a CSV file of people into users of one tenant, all or nothing.
//
// It owns the CSV format of docs/roles.md ("CSV import"): UTF-8 with or without BOM, comma,
// semicolon or tab separated (detected from the header, or an Excel "sep=;" line), header
// names case-insensitive with aliases, the seed's three columns (FirstName, LastName,
// Department) up to the 3CX v20 export (XML role column, many columns it ignores with a
// warning). It validates every row, finds duplicates within the file and against the
// store, then writes every user, department, extension, DID and phone in one store
// transaction — or nothing, with every error listed by line and column. A dry run does the
// same work in a transaction that is thrown away. A PIN in the file follows the tenant's
// PIN policy like one set over the API (store.CheckNewPIN): a weak one is an error at its
// line in the PIN column, which never repeats the PIN.
//
// Rows about people already there (duplicate.go): a row matches an existing user by its
// email, or, without an email, by first and last name (case folded; the people there
// before the file, so two rows of one name in a file do not match each other). Each match
// is a warning on the row and an entry in Result.Duplicates, in a dry run as in a real
// one, and Options.OnDuplicate decides: skip (the default: importing a file twice changes
// nothing), update (the row's non-empty name, department, role, language, timezone and
// mobile, and its phone; never extensions, DIDs or secrets) or create (another person of
// that name; an email match is then the row's error). With Options.Models set, a row's
// Model must be a known model (store.ResolveModel), else the row fails naming the closest.
//
// It does not own HTTP or the CLI (admin and cmd/dialtone call Import), permissions (the
// caller checks users.manage before calling), nor mail: Result lists the created users'
// emails so the caller can queue welcome mails.
//
// Speed: generated PINs and passwords are keyed HMACs (store.Secrets), not a KDF, so
// 10,000 rows take seconds; the whole file is one transaction, bounded by MaxRows.
package userimport
