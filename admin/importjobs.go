package admin

import (
	"context"
	"sync"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/dialtone/dialtone/store"
	"github.com/dialtone/dialtone/userimport"
)

// An import job is a CSV import started with POST …/users/import?async=true: the answer
// is 202 with the job, and GET …/users/import/jobs/{id} reports its phase ("queued",
// "checking", "importing"), rows done of total, and at the end the same report the
// synchronous import answers ("done", with "result") or its error ("failed", with
// "error" in the error shape and "details" when the file was rejected). A browser draws
// a progress bar from it.
//
// Bounds: one job of a tenant at a time, at most maxImportJobsWaiting jobs not finished
// in the whole server (both answered 429 busy), and one import writing at a time (a
// ratelimit.Gate: each is one big store transaction, and two would fight for the same
// cores). A finished job is kept importJobTTL, then forgotten, and the table holds at
// most maxImportJobs; only the person who started a job reads it, since the report of a
// real import holds the generated PINs and passwords.
const (
	maxImportJobs        = 32
	maxImportJobsWaiting = 4
	importJobTTL         = time.Hour
	importGatePatience   = 30 * time.Minute
)

type importJob struct {
	id, tenant           string
	ownerTenant, ownerID string
	dryRun               bool

	mu       sync.Mutex
	state    string // queued, checking, importing, done, failed
	done     int
	total    int
	body     []byte // until the job runs
	result   *userimport.Result
	problem  *Problem
	started  time.Time
	finished time.Time
}

// importJobView is a job as GET …/users/import/jobs/{id} answers it.
type importJobView struct {
	ID       string             `json:"id"`
	State    string             `json:"state"`
	DryRun   bool               `json:"dry_run"`
	Done     int                `json:"done"`
	Total    int                `json:"total"`
	Started  time.Time          `json:"started"`
	Finished *time.Time         `json:"finished,omitempty"`
	Result   *userimport.Result `json:"result,omitempty"`
	Error    *jobError          `json:"error,omitempty"`
	Details  any                `json:"details,omitempty"`
}

// jobError is the error shape of admin/errors.go, inside a job.
type jobError struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (j *importJob) view() importJobView {
	j.mu.Lock()
	defer j.mu.Unlock()
	v := importJobView{ID: j.id, State: j.state, DryRun: j.dryRun, Done: j.done, Total: j.total,
		Started: j.started, Result: j.result}
	if !j.finished.IsZero() {
		f := j.finished
		v.Finished = &f
	}
	if p := j.problem; p != nil {
		v.Error = &jobError{Status: p.Status, Code: p.Code, Message: p.Message, Field: p.Field}
		v.Details = p.Details
	}
	return v
}

func (j *importJob) finishedBy(now time.Time) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return !j.finished.IsZero() && now.Sub(j.finished) > importJobTTL
}

func (j *importJob) running() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.finished.IsZero()
}

// importJobs is the server's table of jobs.
type importJobs struct {
	now  func() time.Time
	gate *ratelimit.Gate

	mu    sync.Mutex
	order []*importJob // oldest first
}

func newImportJobs(now func() time.Time) *importJobs {
	return &importJobs{now: now, gate: ratelimit.NewGate(1, importGatePatience)}
}

func busyImport(msg string) *Problem {
	return &Problem{Status: 429, Code: "busy", Message: msg, RetryAfter: 5 * time.Second}
}

// start records a queued job of tenant for the actor, or refuses when the bounds are met.
func (js *importJobs) start(tenant string, actor store.User, body []byte, dry bool) (*importJob, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	now := js.now()
	waiting := 0
	kept := js.order[:0]
	for _, j := range js.order {
		if j.finishedBy(now) {
			continue
		}
		kept = append(kept, j)
		if j.running() {
			waiting++
			if j.tenant == tenant {
				return nil, busyImport("an import of this tenant is already running; wait for it to finish")
			}
		}
	}
	js.order = kept
	if waiting >= maxImportJobsWaiting {
		return nil, busyImport("too many imports are running; try again shortly")
	}
	if len(js.order) >= maxImportJobs { // forget the oldest finished job
		for i, j := range js.order {
			if !j.running() {
				js.order = append(js.order[:i], js.order[i+1:]...)
				break
			}
		}
	}
	j := &importJob{id: store.NewID(), tenant: tenant, ownerTenant: actor.Tenant, ownerID: actor.ID,
		dryRun: dry, state: "queued", body: body, started: now}
	js.order = append(js.order, j)
	return j, nil
}

// get finds a job of tenant started by actor.
func (js *importJobs) get(tenant, id string, actor store.User) (*importJob, bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	now := js.now()
	for _, j := range js.order {
		if j.id == id && j.tenant == tenant && j.ownerTenant == actor.Tenant && j.ownerID == actor.ID && !j.finishedBy(now) {
			return j, true
		}
	}
	return nil, false
}

// runImportJob runs a job's import in its own goroutine, recording progress as it goes.
// A panic is reported (internal/crash) and fails the job, not the server.
func (a *API) runImportJob(j *importJob, sc *scope, c *caller, opts userimport.Options) {
	defer crash.RecoverWith(a.log, "http", "import job", func() {
		j.mu.Lock()
		defer j.mu.Unlock()
		j.finished, j.body = a.st.Now(), nil
		j.state, j.problem = "failed", &Problem{Status: 500, Code: "internal", Message: "internal error"}
	})
	progress := func(phase string, done, total int) {
		j.mu.Lock()
		j.state, j.done, j.total = phase, done, total
		j.mu.Unlock()
	}
	var res userimport.Result
	var err error
	gerr := a.imports.gate.Do(context.Background(), func() {
		j.mu.Lock()
		body := j.body
		j.body = nil
		j.mu.Unlock()
		res, err = a.runImport(sc, c, body, j.dryRun, opts, progress)
	})
	if gerr != nil {
		err = gerr
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.finished = a.st.Now()
	j.body = nil
	if err != nil {
		p, ok := toProblem(err)
		if !ok {
			a.log.Error("import job failed", "tenant", j.tenant, "job", j.id, "err", err)
		}
		j.state, j.problem = "failed", p
		return
	}
	j.state, j.result = "done", &res
	j.done = j.total
}

// importJob: GET …/users/import/jobs/{id} (users.manage over the tenant; only the person
// who started the job).
func (a *API) importJob(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermUsersManage)
	if err != nil {
		return nil, err
	}
	j, ok := a.imports.get(sc.tenant, r.param("id"), r.caller.actor)
	if !ok {
		return nil, notFound("no such import job (a finished job is kept an hour, until a restart)")
	}
	return j.view(), nil
}
