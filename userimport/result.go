package userimport

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/dialtone/dialtone/store"
)

const (
	// MaxBytes is the largest CSV accepted (the API answers 413 above it).
	MaxBytes = 20 << 20
	// MaxRows is the most data rows one file may hold: the whole file is one store
	// transaction, and BadgerDB bounds a transaction's size.
	MaxRows = 100_000
	// maxIssues bounds the errors (and, separately, the warnings) listed, so a file of
	// 100,000 bad rows does not make a report of a million lines.
	maxIssues = 10_000
)

var (
	// ErrTooLarge: the file is over MaxBytes, has over MaxRows rows, or does not fit in one
	// transaction. Nothing was written. The API maps it to 413.
	ErrTooLarge = fmt.Errorf("import too large: %w", store.ErrInvalid)
	// ErrRejected: Result.Errors says why (lines and columns); nothing was written. Also
	// returned by a dry run that found errors.
	ErrRejected = fmt.Errorf("import rejected, nothing written: %w", store.ErrInvalid)
)

// Actor is who imports, for the audit event.
type Actor struct {
	Tenant string // the actor's own tenant (an installer may import into a managed one)
	ID     string
	Email  string
	ViewAs string // the user acted as, in a view-as session
	Source string // remote address, or "cli"
}

// Options steer Import.
type Options struct {
	DryRun bool
	Actor  Actor
	// Progress, when set, is called as rows are written (done of total), from the
	// importing goroutine. It may be called again from 0 if the transaction is retried.
	Progress func(done, total int)
	// AllowRole, when set, is asked about each row's role (store.RoleUser when the row
	// names none); an error becomes that row's error on the Role column. The admin API
	// enforces "no one above your own role, only system_owner gives system_admin" here.
	AllowRole func(store.Role) error
	// AllowDepartment, when set, is asked about each row's department: its id, or "" when
	// the import would create it. An error becomes the row's error on the Department
	// column. The admin API enforces department scope and departments.manage here.
	AllowDepartment func(name, id string) error
	// Models, when set, is the model table: a row's Model must be one of them (any
	// case; stored as the table writes it), else the row fails naming the closest.
	Models []store.PhoneModel
	// OnDuplicate is what a row matching an existing person does (default skip).
	OnDuplicate OnDuplicate
}

// Issue is one warning or error, at a line of the file (1 = the header) and a column (the
// header name as the file writes it; empty for the whole line or file).
type Issue struct {
	Line    int    `json:"line"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
	col     int    // column order within a line, for sorting
}

func (i Issue) String() string {
	if i.Column == "" {
		return fmt.Sprintf("line %d: %s", i.Line, i.Message)
	}
	return fmt.Sprintf("line %d, column %s: %s", i.Line, i.Column, i.Message)
}

// CreatedUser is a user the import made (or, in a dry run, would make). PIN and Password
// are the generated secrets, shown this once and stored only as keyed hashes; a dry run
// generates none.
type CreatedUser struct {
	Line            int        `json:"line"`
	ID              string     `json:"id,omitempty"`
	Name            string     `json:"name"`
	FirstName       string     `json:"first_name"`
	LastName        string     `json:"last_name"`
	Email           string     `json:"email,omitempty"`
	Role            store.Role `json:"role"`
	Department      string     `json:"department,omitempty"`
	Extensions      []string   `json:"extensions"`
	ExternalNumbers []string   `json:"external_numbers,omitempty"`
	MAC             string     `json:"mac,omitempty"`
	PIN             string     `json:"pin,omitempty"`
	Password        string     `json:"password,omitempty"`
}

// LogValue keeps the secrets out of any log the value is handed to.
func (u CreatedUser) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("line", u.Line), slog.String("id", u.ID),
		slog.String("email", u.Email), slog.Any("extensions", u.Extensions))
}

// CreatedDepartment is a department the import made because a row named it.
type CreatedDepartment struct {
	Line int    `json:"line"` // first row naming it
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// Result is the answer of an import or a dry run.
type Result struct {
	DryRun             bool                `json:"dry_run"`
	Rows               int                 `json:"rows"`
	Users              []CreatedUser       `json:"users"`
	DepartmentsCreated []CreatedDepartment `json:"departments_created"`
	Warnings           []Issue             `json:"warnings"`
	Errors             []Issue             `json:"errors"`
	// Duplicates are the rows that matched an existing person (each also a warning).
	Duplicates []Duplicate `json:"duplicates"`
}

// LogValue summarises a result without its secrets.
func (r Result) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("dry_run", r.DryRun), slog.Int("rows", r.Rows),
		slog.Int("users", len(r.Users)), slog.Int("departments_created", len(r.DepartmentsCreated)),
		slog.Int("warnings", len(r.Warnings)), slog.Int("errors", len(r.Errors)))
}

// sortIssues orders by line, then by column position, and bounds the list.
func sortIssues(list []Issue, what string) []Issue {
	slices.SortStableFunc(list, func(a, b Issue) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.col, b.col))
	})
	if len(list) > maxIssues {
		more := len(list) - maxIssues
		list = append(list[:maxIssues:maxIssues], Issue{Line: list[maxIssues].Line,
			Message: fmt.Sprintf("%d further %s not listed", more, what)})
	}
	return list
}

// storeIssue turns a store.FieldError met while writing a row into that row's issue, at
// the CSV column the field came from. Other errors are not the row's fault: ok is false.
func (s *sheet) storeIssue(line int, err error) (Issue, bool) {
	var fe *store.FieldError
	if !errors.As(err, &fe) {
		return Issue{}, false
	}
	is := Issue{Line: line, Message: fe.Msg, col: -1}
	if c, ok := fieldColumn(fe.Field); ok {
		is.Column, is.col = s.columnName(c), int(c)
	}
	return is, true
}

func fieldColumn(field string) (column, bool) {
	switch field {
	case "first_name":
		return colFirstName, true
	case "last_name":
		return colLastName, true
	case "email":
		return colEmail, true
	case "role":
		return colRole, true
	case "language":
		return colLanguage, true
	case "mobile":
		return colMobile, true
	case "extensions":
		return colNumber, true
	case "external_numbers":
		return colDID, true
	case "pin":
		return colPIN, true
	case "mac":
		return colMAC, true
	case "model":
		return colModel, true
	case "department_id", "name":
		return colDepartment, true
	}
	return 0, false
}
