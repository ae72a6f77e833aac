package admin

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dialtone/dialtone/store"
	"github.com/dialtone/dialtone/userimport"
)

// importUsers: POST …/users/import?dry_run=true|false, body text/csv (≤ 20 MiB), run by
// package userimport. It needs users.manage over the whole tenant (rows name any
// department) and applies the escalation rules to the file's Role column: every row is
// checked in a dry run first, and a row giving a role the caller may not give rejects the
// file before anything is written. With async=true the same work runs as a job
// (importjobs.go): 202 with the job, whose progress GET …/users/import/jobs/{id} reports.
func (a *API) importUsers(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermUsersManage)
	if err != nil {
		return nil, err
	}
	if !sc.wide {
		return nil, forbidden("CSV import needs users.manage over the whole tenant")
	}
	dry, err := boolQuery(r, "dry_run")
	if err != nil {
		return nil, err
	}
	async, err := boolQuery(r, "async")
	if err != nil {
		return nil, err
	}
	onDup, ok := userimport.ParseOnDuplicate(string(r.ctx.QueryArgs().Peek("on_duplicate")))
	if !ok {
		return nil, badRequest("on_duplicate", "on_duplicate is skip (the default), update or create")
	}
	body := r.ctx.Request.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("", "a CSV body is required")
	}
	c := r.caller
	opts := userimport.Options{Actor: userimport.Actor{Tenant: c.actor.Tenant, ID: c.actor.ID,
		Email: c.actor.Email, Source: r.source}}
	if c.viewAs {
		opts.Actor.ViewAs = c.user.ID
	}
	if a.cfg.Provisioning != nil {
		opts.Models = a.cfg.Provisioning.PhoneModels()
	}
	opts.OnDuplicate = onDup
	if async {
		// The request's buffers are reused once the handler returns: the job keeps a copy.
		job, err := a.imports.start(sc.tenant, c.actor, bytes.Clone(body), dry)
		if err != nil {
			return nil, err
		}
		go a.runImportJob(job, sc, c, opts)
		r.status = 202
		return job.view(), nil
	}
	res, err := a.runImport(sc, c, body, dry, opts, nil)
	if err == nil && !dry {
		r.status = 201
	}
	return res, err
}

// boolQuery reads a true/false query parameter (absent is false).
func boolQuery(r *request, name string) (bool, error) {
	switch s := string(r.ctx.QueryArgs().Peek(name)); s {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, badRequest(name, name+" is true or false")
}

// runImport checks the file in a dry run, applies the escalation rules to its roles and,
// unless dry, imports it. progress, when set, hears each phase ("checking", then
// "importing") with its rows done of total.
func (a *API) runImport(sc *scope, c *caller, body []byte, dry bool, opts userimport.Options,
	progress func(phase string, done, total int)) (userimport.Result, error) {
	phase := func(name string) func(done, total int) {
		if progress == nil {
			return nil
		}
		return func(done, total int) { progress(name, done, total) }
	}
	// The dry run validates the file and tells which roles it gives.
	opts.DryRun = true
	opts.Progress = phase("checking")
	res, err := userimport.Import(a.st, sc.tenant, bytes.NewReader(body), opts)
	if err != nil {
		return res, importProblem(res, err)
	}
	for _, u := range res.Users {
		if err := a.checkGrant(sc, nil, u.Role, nil, nil, nil, c); err != nil {
			p, _ := toProblem(err)
			return res, &Problem{Status: 403, Code: "forbidden", Field: "Role",
				Message: fmt.Sprintf("line %d: %s", u.Line, p.Message)}
		}
	}
	// An update changes an existing person: the same rules as PATCH of their role.
	for _, d := range res.Duplicates {
		if d.Action != "updated" {
			continue
		}
		var prev store.User
		if err := a.view(func(tx *store.Tx) (err error) { prev, err = tx.User(sc.tenant, d.ExistingID); return err }); err != nil {
			return res, err
		}
		if err := a.checkGrant(sc, &prev, d.Role, prev.ExtraPermissions, prev.ManagedTenants, prev.ManagedTenants, c); err != nil {
			p, _ := toProblem(err)
			return res, &Problem{Status: 403, Code: "forbidden", Field: "Role",
				Message: fmt.Sprintf("line %d: %s", d.Line, p.Message)}
		}
	}
	if dry {
		return res, nil
	}
	opts.DryRun = false
	opts.Progress = phase("importing")
	res, err = userimport.Import(a.st, sc.tenant, bytes.NewReader(body), opts)
	if err != nil {
		return res, importProblem(res, err)
	}
	a.welcomeAll(sc.tenant, res.Users)
	return res, nil
}

// importProblem answers a refused import with its report: 413 for a file too large,
// 422 with every error by line and column for a rejected one.
func importProblem(res userimport.Result, err error) error {
	switch {
	case errors.Is(err, userimport.ErrTooLarge):
		return &Problem{Status: 413, Code: "too_large", Message: err.Error()}
	case errors.Is(err, userimport.ErrRejected):
		return &Problem{Status: 422, Code: "import_rejected", Details: res,
			Message: fmt.Sprintf("%d errors; nothing was written", len(res.Errors))}
	}
	return err
}

// welcomeAll queues the welcome mails of an import's users that have an email, when
// mail is wired; a mail not queued is logged (the admin resends it from the user).
func (a *API) welcomeAll(tenant string, users []userimport.CreatedUser) {
	if a.cfg.Welcome == nil {
		return
	}
	var ids []string
	for _, u := range users {
		if u.Email != "" {
			ids = append(ids, u.ID)
		}
	}
	for id, err := range a.cfg.Welcome.QueueWelcomes(tenant, ids) {
		a.log.Warn("welcome mail not queued", "tenant", tenant, "user", id, "err", err)
	}
}

// welcome queues the welcome mail of one new user with an email, when mail is wired.
func (a *API) welcome(tenant, id, email string) {
	if a.cfg.Welcome == nil || email == "" {
		return
	}
	if err := a.cfg.Welcome.QueueWelcome(tenant, id); err != nil {
		a.log.Warn("welcome mail not queued", "tenant", tenant, "user", id, "err", err)
	}
}
