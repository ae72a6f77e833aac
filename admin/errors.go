package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/dialtone/dialtone/store"
)

// Problem is an error that carries its HTTP answer. Handlers return it, and so may the
// service implementations cmd wires in (FlexDesk, Resyncer, Importer, …) when they know
// better than "internal error".
type Problem struct {
	Status  int
	Code    string
	Message string
	Field   string
	// Details, when set, is answered beside "error" (e.g. an import's line-by-line report).
	Details any
	// RetryAfter, when set, is sent as Retry-After (whole seconds, rounded up) with a 429.
	RetryAfter time.Duration
}

func (p *Problem) Error() string {
	if p.Field != "" {
		return p.Field + ": " + p.Message
	}
	return p.Message
}

func problem(status int, code, field, msg string) *Problem {
	return &Problem{Status: status, Code: code, Field: field, Message: msg}
}

func badRequest(field, msg string) *Problem { return problem(400, "invalid", field, msg) }
func forbidden(msg string) *Problem         { return problem(403, "forbidden", "", msg) }
func forbiddenField(field, msg string) *Problem {
	return problem(403, "forbidden", field, msg)
}
func notFound(msg string) *Problem { return problem(404, "not_found", "", msg) }
func unavailable(what string) *Problem {
	return problem(503, "unavailable", "", what+" is not available in this server")
}

var errUnauthorized = problem(401, "unauthorized", "", "missing, bad or expired token")

// storeErrors is the one table that maps the store's sentinels to HTTP answers.
var storeErrors = []struct {
	err    error
	status int
	code   string
}{
	{store.ErrNotFound, http.StatusNotFound, "not_found"},
	{store.ErrConflict, http.StatusConflict, "conflict"},
	{store.ErrInvalid, http.StatusBadRequest, "invalid"},
}

// toProblem maps any error to its answer; ok is false for errors nobody mapped (a 500,
// whose detail goes to the log and not to the client).
func toProblem(err error) (p *Problem, ok bool) {
	if errors.As(err, &p) {
		return p, true
	}
	if errors.Is(err, ratelimit.ErrBusy) { // the password gate (store.Secrets) stayed full
		return &Problem{Status: http.StatusTooManyRequests, Code: "busy", Message: err.Error(),
			RetryAfter: store.PasswordPatience}, true
	}
	field, msg := "", err.Error()
	var fe *store.FieldError
	if errors.As(err, &fe) {
		field, msg = fe.Field, fe.Msg
	}
	for _, m := range storeErrors {
		if errors.Is(err, m.err) {
			return &Problem{Status: m.status, Code: m.code, Field: field, Message: msg}, true
		}
	}
	return &Problem{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}, false
}
