package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

func deptKey(slug, id string) string       { return "t/" + slug + "/dept/" + id }
func deptNameKey(slug, name string) string { return "t/" + slug + "/deptname/" + strings.ToLower(name) }

func checkDepartment(d *Department) error {
	d.Name = strings.TrimSpace(d.Name)
	if !ValidName(d.Name) {
		return invalid("name", "1 to 100 printable characters")
	}
	if d.Language != "" {
		lang, ok := NormalizeLanguage(d.Language)
		if !ok {
			return invalid("language", "unknown language %q", d.Language)
		}
		d.Language = lang
	}
	if d.Timezone != "" && !ValidTimezone(d.Timezone) {
		return invalid("timezone", "not an IANA time zone name")
	}
	return checkEmergencyCallerID(&d.EmergencyCallerID)
}

// CreateDepartment creates a department; its name is unique (case-insensitively) in the
// tenant.
func (tx *Tx) CreateDepartment(slug string, d Department) (Department, error) {
	if _, err := tx.Tenant(slug); err != nil {
		return Department{}, err
	}
	d.Tenant, d.ID, d.Created = slug, NewID(), tx.s.now().UTC()
	if err := checkDepartment(&d); err != nil {
		return Department{}, err
	}
	if ok, err := tx.exists(deptNameKey(slug, d.Name)); err != nil || ok {
		return Department{}, errors.Join(err, conflict("name", "department %q exists", d.Name))
	}
	return d, tx.putDepartment(nil, d)
}

// SaveDepartment writes a changed department.
func (tx *Tx) SaveDepartment(prev, next Department) error {
	next.ID, next.Tenant, next.Created = prev.ID, prev.Tenant, prev.Created
	if err := checkDepartment(&next); err != nil {
		return err
	}
	if !strings.EqualFold(prev.Name, next.Name) {
		if ok, err := tx.exists(deptNameKey(next.Tenant, next.Name)); err != nil || ok {
			return errors.Join(err, conflict("name", "department %q exists", next.Name))
		}
		if err := tx.del(deptNameKey(prev.Tenant, prev.Name)); err != nil {
			return err
		}
	}
	return tx.putDepartment(&prev, next)
}

func (tx *Tx) putDepartment(prev *Department, d Department) error {
	if err := tx.put(deptKey(d.Tenant, d.ID), d); err != nil {
		return err
	}
	if err := tx.putRaw(deptNameKey(d.Tenant, d.Name), d.ID); err != nil {
		return err
	}
	c := Change{Kind: KindDepartment, Op: OpPut, Tenant: d.Tenant, ID: d.ID, New: d}
	if prev != nil {
		c.Old = *prev
	}
	tx.Emit(c)
	return nil
}

// Department reads one department.
func (tx *Tx) Department(slug, id string) (Department, error) {
	var d Department
	if id == "" {
		return d, fmt.Errorf("department: %w", ErrNotFound)
	}
	if err := tx.get(deptKey(slug, id), &d); err != nil {
		return d, fmt.Errorf("department %q: %w", id, err)
	}
	return d, nil
}

// DepartmentByName finds a department by name, case-insensitively.
func (tx *Tx) DepartmentByName(slug, name string) (Department, error) {
	id, err := tx.getRaw(deptNameKey(slug, strings.TrimSpace(name)))
	if err != nil {
		return Department{}, err
	}
	return tx.Department(slug, id)
}

// Departments lists a tenant's departments in id order after cursor.
func (tx *Tx) Departments(slug, cursor string, limit int) ([]Department, error) {
	var out []Department
	err := scanValues(tx, "t/"+slug+"/dept/", cursor, limit, func(d Department) bool { out = append(out, d); return true })
	return out, err
}

// DeleteDepartment removes a department and answers the ids of the users whose main
// department it was. With such members it fails with ErrConflict unless moveTo names
// the department they move to ("-" moves them to no department); it also leaves every
// user's further memberships. One walk over the tenant's users finds both.
func (tx *Tx) DeleteDepartment(slug, id, moveTo string) (moved []string, err error) {
	d, err := tx.Department(slug, id)
	if err != nil {
		return nil, err
	}
	var touched []User // main department or a further membership
	err = tx.EachUser(slug, func(u User) bool {
		if u.DepartmentID == id {
			moved = append(moved, u.ID)
		}
		if u.DepartmentID == id || slices.Contains(u.Departments, id) {
			touched = append(touched, u)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	target := ""
	switch {
	case len(moved) == 0:
	case moveTo == "":
		return nil, conflict("move_members_to", "department %q has %d members; say where they go", d.Name, len(moved))
	case moveTo == id:
		return nil, invalid("move_members_to", "cannot move members to the department being deleted")
	case moveTo != "-":
		if _, err := tx.Department(slug, moveTo); err != nil {
			return nil, invalid("move_members_to", "no such department")
		}
		target = moveTo
	}
	for _, u := range touched {
		next := u
		next.Departments = slices.DeleteFunc(slices.Clone(u.Departments), func(d string) bool { return d == id })
		if u.DepartmentID == id {
			next.DepartmentID = target
		}
		if err := tx.SaveUser(u, next); err != nil {
			return nil, err
		}
	}
	if err := tx.del(deptKey(slug, id)); err != nil {
		return nil, err
	}
	if err := tx.del(deptNameKey(slug, d.Name)); err != nil {
		return nil, err
	}
	tx.Emit(Change{Kind: KindDepartment, Op: OpDelete, Tenant: slug, ID: id, Old: d})
	return moved, nil
}
