package userimport

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/dialtone/dialtone/store"
)

// errDryRun and errRowErrors end the import transaction so the store throws it away.
var (
	errDryRun    = errors.New("dry run")
	errRowErrors = errors.New("rows have errors")
)

// Import reads a CSV file and creates its users in tenant, all or nothing, in one store
// transaction. With opts.DryRun it does the same work and writes nothing.
//
// Errors: ErrTooLarge (over MaxBytes or MaxRows, or too big for one transaction);
// ErrRejected when Result.Errors lists row or file errors (nothing written, also for a
// dry run that found errors); a store.ErrNotFound for an unknown tenant; else a store
// failure. Result.Warnings are never fatal.
func Import(st *store.Store, tenant string, r io.Reader, opts Options) (Result, error) {
	res := Result{DryRun: opts.DryRun, Users: []CreatedUser{}, DepartmentsCreated: []CreatedDepartment{},
		Warnings: []Issue{}, Errors: []Issue{}, Duplicates: []Duplicate{}}
	if _, err := st.Tenant(tenant); err != nil {
		return res, fmt.Errorf("tenant %q: %w", tenant, err)
	}
	body, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return res, fmt.Errorf("read CSV: %w", err)
	}
	if len(body) > MaxBytes {
		return res, fmt.Errorf("%w: the file is over %d MiB", ErrTooLarge, MaxBytes>>20)
	}
	sh, err := readSheet(body)
	var fe *fileError
	if errors.As(err, &fe) {
		res.Errors = append(res.Errors, fe.Issue)
		return res, ErrRejected
	}
	if err != nil {
		return res, err
	}
	res.Rows = len(sh.rows)
	plans, rowErrs, rowWarns := sh.planAll()

	im := &importer{st: st, slug: tenant, sh: sh, plans: plans, opts: opts, invalidRows: len(rowErrs) > 0}
	err = st.Update(im.run)
	res.Warnings = sortIssues(append(append(sh.warnings, rowWarns...), im.warnings...), "warnings")
	res.Duplicates = append([]Duplicate{}, im.dups...)
	res.Errors = sortIssues(append(rowErrs, im.errors...), "errors")
	switch {
	case errors.Is(err, errDryRun):
		err = nil
	case errors.Is(err, errRowErrors):
		err = ErrRejected
	case err != nil && errors.Is(err, store.ErrInvalid) && strings.Contains(err.Error(), "transaction too large"):
		err = fmt.Errorf("%w: %d rows do not fit in one transaction (about 20,000 plain rows or 15,000 with DIDs and phones do); split the file", ErrTooLarge, res.Rows)
	}
	if err == nil && len(res.Errors) > 0 {
		err = ErrRejected
	}
	if opts.DryRun {
		// Nothing was made: no ids, and no secrets that would never work.
		for i := range im.users {
			im.users[i].ID, im.users[i].PIN, im.users[i].Password = "", "", ""
		}
		for i := range im.depts {
			im.depts[i].ID = ""
		}
	}
	if err == nil || opts.DryRun {
		res.Users, res.DepartmentsCreated = append(res.Users, im.users...), append(res.DepartmentsCreated, im.depts...)
	}
	return res, err
}

// planAll validates every row on its own, then finds duplicates within the file: the
// later row of a pair is the one in error.
func (s *sheet) planAll() (plans []plan, errs, warns []Issue) {
	plans = make([]plan, 0, len(s.rows))
	first := map[column]map[string]int{colEmail: {}, colNumber: {}, colDID: {}, colMAC: {}}
	for _, r := range s.rows {
		p, e, w := s.planRow(r)
		dup := func(col column, key, what string) {
			if key == "" {
				return
			}
			if line, ok := first[col][key]; ok {
				e = append(e, Issue{Line: p.line, Column: s.columnName(col), col: int(col),
					Message: fmt.Sprintf("%s %s is also on line %d", what, key, line)})
				p.bad = true
				return
			}
			first[col][key] = p.line
		}
		dup(colEmail, p.in.Email, "email")
		dup(colNumber, p.number, "extension")
		for _, d := range p.in.ExternalNumbers {
			dup(colDID, d, "DID")
		}
		dup(colMAC, p.mac, "MAC")
		plans = append(plans, p)
		errs, warns = append(errs, e...), append(warns, w...)
	}
	return plans, errs, warns
}

// importer writes the planned rows inside one transaction. run may be called again when
// the store retries the transaction after a conflict, so it starts from scratch.
type importer struct {
	st          *store.Store
	slug        string
	sh          *sheet
	plans       []plan
	opts        Options
	invalidRows bool // rows failed validation: check the rest against the store, then roll back

	users  []CreatedUser
	depts  []CreatedDepartment
	errors []Issue
	deptID map[string]string // lower-case name -> id

	warnings []Issue               // rows that matched existing people
	dups     []Duplicate           // and what became of them
	updated  []string              // ids of people updated (on_duplicate=update)
	byName   map[string]store.User // the tenant's people before the import, by name
}

func (im *importer) run(tx *store.Tx) error {
	im.users, im.depts, im.errors, im.deptID = nil, nil, nil, map[string]string{}
	im.warnings, im.dups, im.updated, im.byName = nil, nil, nil, nil
	// The name index is of the people there before this file, so two rows of one name
	// in the file do not match each other.
	for _, p := range im.plans {
		if !p.bad && p.in.Email == "" {
			if _, err := im.people(tx); err != nil {
				return err
			}
			break
		}
	}
	var named []string
	for _, p := range im.plans {
		if p.number != "" {
			named = append(named, p.number)
		}
	}
	// Numbers named later in the file are not handed to earlier rows without one.
	tx.ReserveExtensions(im.slug, named)
	total := len(im.plans)
	step := max(1, total/200)
	for i, p := range im.plans {
		if im.opts.Progress != nil && i%step == 0 {
			im.opts.Progress(i, total)
		}
		if p.bad {
			continue
		}
		if err := im.row(tx, p); err != nil {
			return err
		}
	}
	if im.opts.Progress != nil {
		im.opts.Progress(total, total)
	}
	switch {
	case im.invalidRows || len(im.errors) > 0:
		return errRowErrors
	case im.opts.DryRun:
		return errDryRun
	}
	return tx.Audit(im.auditEvent())
}

// row checks one valid row against the store and creates its user (and department and
// phone). A problem of the row is recorded; only a store failure is returned.
func (im *importer) row(tx *store.Tx, p plan) error {
	before := len(im.errors)
	fail := func(col column, format string, args ...any) {
		im.errors = append(im.errors, Issue{Line: p.line, Column: im.sh.columnName(col), col: int(col),
			Message: fmt.Sprintf(format, args...)})
	}
	if p.mac != "" && p.model != "" && im.opts.Models != nil {
		if m, closest, ok := store.ResolveModel(im.opts.Models, p.model); ok {
			p.model, p.phoneMake = m.Name, m.Make
		} else {
			fail(colModel, "%q is not a phone model Dialtone knows; closest: %s", p.model, strings.Join(closest, ", "))
			return nil
		}
	}
	if u, by, ok, err := im.match(tx, p); err != nil {
		return err
	} else if ok {
		if done, err := im.duplicate(tx, p, u, by); err != nil || done {
			return err
		}
	}
	if p.in.Email != "" {
		if taken, err := found(tx.UserByEmail(im.slug, p.in.Email)); err != nil {
			return err
		} else if taken {
			fail(colEmail, "email %s is taken by an existing user", p.in.Email)
		}
	}
	if p.number != "" {
		if taken, err := found(tx.Extension(im.slug, p.number)); err != nil {
			return err
		} else if taken {
			fail(colNumber, "extension %s is taken", p.number)
		}
	}
	for _, d := range p.in.ExternalNumbers {
		if taken, err := found(tx.ExternalNumber(im.slug, d)); err != nil {
			return err
		} else if taken {
			fail(colDID, "DID %s is taken", d)
		}
	}
	if p.mac != "" {
		if taken, err := found(tx.Phone(p.mac)); err != nil {
			return err
		} else if taken {
			fail(colMAC, "phone %s already exists", p.mac)
		}
	}
	if im.opts.AllowRole != nil {
		role := p.in.Role
		if role == "" {
			role = store.RoleUser
		}
		if err := im.opts.AllowRole(role); err != nil {
			fail(colRole, "%v", err)
		}
	}
	deptID, err := im.department(tx, p)
	if err != nil {
		return err
	}
	if len(im.errors) > before {
		return nil
	}
	in := p.in
	in.DepartmentID = deptID
	// The store normalises these in place; a retried transaction needs the originals.
	in.Extensions, in.ExternalNumbers = slices.Clone(p.in.Extensions), slices.Clone(p.in.ExternalNumbers)
	u, gen, err := tx.CreateUser(im.slug, in)
	if err != nil {
		return im.rowError(p, err)
	}
	if p.mac != "" {
		if _, err := tx.CreatePhone(store.Phone{MAC: p.mac, Tenant: im.slug, Make: p.phoneMake, Model: p.model, UserID: u.ID}); err != nil {
			return im.rowError(p, err)
		}
	}
	im.users = append(im.users, CreatedUser{
		Line: p.line, ID: u.ID, Name: u.DisplayName(), FirstName: u.FirstName, LastName: u.LastName,
		Email: u.Email, Role: u.Role, Department: p.dept, Extensions: u.Extensions,
		ExternalNumbers: u.ExternalNumbers, MAC: p.mac, PIN: gen.PIN, Password: gen.Password,
	})
	return nil
}

// rowError records a store FieldError as the row's issue, or passes a failure on.
func (im *importer) rowError(p plan, err error) error {
	if is, ok := im.sh.storeIssue(p.line, err); ok {
		im.errors = append(im.errors, is)
		return nil
	}
	return err
}

// department finds the row's department by name, creating it the first time a missing
// one is named.
func (im *importer) department(tx *store.Tx, p plan) (string, error) {
	if p.dept == "" {
		return "", nil
	}
	key := strings.ToLower(p.dept)
	if id, ok := im.deptID[key]; ok {
		return id, nil
	}
	d, err := tx.DepartmentByName(im.slug, p.dept)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if im.opts.AllowDepartment != nil {
		if err := im.opts.AllowDepartment(p.dept, d.ID); err != nil {
			im.errors = append(im.errors, Issue{Line: p.line, Column: im.sh.columnName(colDepartment),
				col: int(colDepartment), Message: err.Error()})
			return "", nil
		}
	}
	if d.ID != "" {
		im.deptID[key] = d.ID
		return d.ID, nil
	}
	d, err = tx.CreateDepartment(im.slug, store.Department{Name: p.dept})
	if err != nil {
		return "", im.rowError(p, err)
	}
	im.deptID[key] = d.ID
	im.depts = append(im.depts, CreatedDepartment{Line: p.line, ID: d.ID, Name: d.Name})
	return d.ID, nil
}

// auditEvent is the one event that records the import: counts, the departments made and
// the ids of the users made (never their secrets). A record value must stay small (the
// store keeps values under 64 KiB), so long lists are cut at auditListMax.
func (im *importer) auditEvent() store.AuditEvent {
	var ids, depts []string
	for _, u := range im.users[:min(len(im.users), auditListMax)] {
		ids = append(ids, u.ID)
	}
	for _, d := range im.depts[:min(len(im.depts), auditListMax)] {
		depts = append(depts, d.Name)
	}
	after := map[string]any{"rows": len(im.plans), "users_created": len(im.users),
		"departments_created": len(im.depts), "department_names": depts, "user_ids": ids}
	if len(im.dups) > 0 {
		after["duplicates"] = len(im.dups)
		after["users_updated"] = im.updated[:min(len(im.updated), auditListMax)]
	}
	if len(im.users) > auditListMax || len(im.depts) > auditListMax {
		after["lists_cut_at"] = auditListMax
	}
	a := im.opts.Actor
	return store.AuditEvent{
		Tenant: im.slug, ActorTenant: a.Tenant, ActorID: a.ID, ActorEmail: a.Email, ViewAs: a.ViewAs,
		Source: a.Source, Action: "users.import", Object: "tenant/" + im.slug + "/users", After: after,
	}
}

// auditListMax bounds the ids and names in the audit event: 200 × (12-character id or
// 100-character name) stays well under the store's 64 KiB value limit.
const auditListMax = 200

// found turns a store lookup into "exists?", keeping real failures.
func found[T any](_ T, err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, err
}
