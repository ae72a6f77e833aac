package admin

import (
	"github.com/dialtone/dialtone/store"
)

type deptBody struct {
	Name              string `json:"name"`
	Language          string `json:"language"`
	Timezone          string `json:"timezone"`
	EmergencyCallerID string `json:"emergency_caller_id"`
}

type deptPatch struct {
	Name              *string `json:"name"`
	Language          *string `json:"language"`
	Timezone          *string `json:"timezone"`
	EmergencyCallerID *string `json:"emergency_caller_id"`
}

// listDepartments: GET …/departments (directory.read).
func (a *API) listDepartments(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermDirectoryRead)
	if err != nil {
		return nil, err
	}
	limit, cursor, err := r.paging()
	if err != nil {
		return nil, err
	}
	var ds []store.Department
	if err := a.view(func(tx *store.Tx) (err error) { ds, err = tx.Departments(sc.tenant, cursor, limit+1); return err }); err != nil {
		return nil, err
	}
	return paginate(ds, limit, func(d store.Department) string { return d.ID }), nil
}

// getDepartment: GET …/departments/{id} (directory.read).
func (a *API) getDepartment(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermDirectoryRead)
	if err != nil {
		return nil, err
	}
	var d store.Department
	err = a.view(func(tx *store.Tx) (err error) { d, err = tx.Department(sc.tenant, r.param("id")); return err })
	return d, err
}

// createDepartment: POST …/departments (departments.manage).
func (a *API) createDepartment(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermDepartmentsManage)
	if err != nil {
		return nil, err
	}
	var in deptBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	var d store.Department
	err = a.update(func(tx *store.Tx) error {
		if d, err = tx.CreateDepartment(sc.tenant, store.Department{Name: in.Name, Language: in.Language, Timezone: in.Timezone, EmergencyCallerID: in.EmergencyCallerID}); err != nil {
			return err
		}
		return r.audit(tx, sc.tenant, "department.create", "department/"+d.ID, "", nil, d)
	})
	if err != nil {
		return nil, err
	}
	r.status = 201
	return d, nil
}

// patchDepartment: PATCH …/departments/{id}. A rename needs departments.manage; language
// and time zone need department.settings over that department (or departments.manage).
func (a *API) patchDepartment(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	var in deptPatch
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	var d store.Department
	err = a.update(func(tx *store.Tx) error {
		prev, err := tx.Department(sc.tenant, r.param("id"))
		if err != nil {
			return err
		}
		if in.Name != nil && *in.Name != prev.Name {
			if err := sc.need(store.PermDepartmentsManage); err != nil {
				return err
			}
		}
		if (in.Language != nil || in.Timezone != nil || in.EmergencyCallerID != nil) && !sc.can(store.PermDepartmentsManage) {
			if err := sc.need(store.PermDepartmentSetting); err != nil {
				return err
			}
			if !sc.deptInScope(prev.ID) {
				return forbidden("department.settings reaches only your own departments")
			}
		}
		next := prev
		setString(&next.Name, in.Name)
		setString(&next.Language, in.Language)
		setString(&next.Timezone, in.Timezone)
		setString(&next.EmergencyCallerID, in.EmergencyCallerID)
		if err := tx.SaveDepartment(prev, next); err != nil {
			return err
		}
		if d, err = tx.Department(sc.tenant, prev.ID); err != nil {
			return err
		}
		return r.audit(tx, sc.tenant, "department.update", "department/"+d.ID, "", prev, d)
	})
	return d, err
}

// deleteDepartment: DELETE …/departments/{id}[?move_members_to=ID|-] (departments.manage).
// A department with members answers 409 unless the request says where they go.
func (a *API) deleteDepartment(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermDepartmentsManage)
	if err != nil {
		return nil, err
	}
	moveTo := string(r.ctx.QueryArgs().Peek("move_members_to"))
	err = a.update(func(tx *store.Tx) error {
		d, err := tx.Department(sc.tenant, r.param("id"))
		if err != nil {
			return err
		}
		members, err := tx.DeleteDepartment(sc.tenant, d.ID, moveTo)
		if err != nil {
			return err
		}
		after := map[string]any{"members": members, "moved_to": moveTo}
		return r.audit(tx, sc.tenant, "department.delete", "department/"+d.ID, "", d, after)
	})
	if err != nil {
		return nil, err
	}
	r.status = 204
	return nil, nil
}
