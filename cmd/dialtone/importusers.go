package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dialtone/dialtone/mail"
	"github.com/dialtone/dialtone/provision"
	"github.com/dialtone/dialtone/store"
	"github.com/dialtone/dialtone/templates"
	"github.com/dialtone/dialtone/userimport"
)

// maxImportBytes is the largest CSV accepted, as for the API.
const maxImportBytes = 20 << 20

func importUsersCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import-users", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "tenant slug (required)")
	dry := fs.Bool("dry-run", false, "validate and report, write nothing")
	onDupFlag := fs.String("on-duplicate", "skip", "a row matching an existing person (same email, or same first and last name without email): skip, update or create")
	dataDir := dataDirFlag(fs)
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	dir, err := dataDir()
	if err != nil {
		return err
	}
	if *tenant == "" {
		return fmt.Errorf("%w: import-users needs --tenant SLUG", errUsage)
	}
	onDup, ok := userimport.ParseOnDuplicate(*onDupFlag)
	if !ok {
		return fmt.Errorf("%w: --on-duplicate is skip, update or create", errUsage)
	}
	body, err := readLimited(file, maxImportBytes)
	if err != nil {
		return err
	}
	var res importAnswer
	if c, ok := dialControl(dir); ok { // serve runs: it imports and queues the mail
		defer c.Close()
		dryFlag := "0"
		if *dry {
			dryFlag = "1"
		}
		fmt.Fprintf(stderr, "importing %s through the running server…\n", file)
		if _, err := fmt.Fprintf(c, "import %s %s %d %s\n", *tenant, dryFlag, len(body), onDup); err != nil {
			return err
		}
		if _, err := c.Write(body); err != nil {
			return err
		}
		r := bufio.NewReader(c)
		if err := readControlStatus(r); err != nil {
			return err
		}
		if err := json.NewDecoder(r).Decode(&res); err != nil {
			return fmt.Errorf("import answer: %w", err)
		}
	} else {
		st, err := store.Open(store.Options{Dir: dir})
		if err != nil {
			return fmt.Errorf("--data %s: %w", dir, err)
		}
		defer st.Close()
		// An empty store gets its first tenant and owner here, as serve would make them.
		created, generated, err := st.Bootstrap(os.Getenv("DIALTONE_ADMIN_PASSWORD"))
		if err != nil {
			return err
		}
		if created && generated != "" {
			fmt.Fprintf(stdout, "new store: admin login %s, password %s (shown once)\n", store.BootstrapAdminEmail, generated)
		}
		// Without serve there is no mailer running: the welcome mails go into the store's
		// outbox, from which serve sends them (with --smtp) when it next runs.
		mailer, err := mail.New(mail.Config{Store: st, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			return err
		}
		res, err = runImport(context.Background(), st, mailer, *tenant, body, *dry, onDup, userimport.ProgressBar(stderr))
		if err != nil && len(res.Errors) == 0 {
			return err
		}
	}
	return reportImport(stdout, res, *dry)
}

// importAnswer is an import's result and how many welcome mails it queued; it is also
// the control socket's answer.
type importAnswer struct {
	userimport.Result
	MailsQueued int `json:"mails_queued"`
	// MailErrors says, per user whose welcome mail could not be queued, why (the user is
	// imported all the same; an admin resends with POST …/users/{id}/welcome).
	MailErrors []string `json:"mail_errors,omitempty"`
}

// welcomer queues welcome mails (the mailer of serve, or one over the store offline).
type welcomer interface {
	QueueWelcomes(tenant string, userIDs []string) map[string]error
}

// runImport imports, and after a real (not dry) import queues a welcome mail for every
// row with an email, as the API's import does (docs/roles.md). A mail that cannot be queued
// is reported in MailErrors; the users stay imported.
func runImport(_ context.Context, st *store.Store, mailer welcomer, tenant string, body []byte, dry bool, onDup userimport.OnDuplicate, progress func(done, total int)) (importAnswer, error) {
	models, err := phoneModels()
	if err != nil {
		return importAnswer{}, err
	}
	res, err := userimport.Import(st, tenant, bytes.NewReader(body), userimport.Options{DryRun: dry, Progress: progress,
		Actor: userimport.Actor{Source: "cli"}, Models: models, OnDuplicate: onDup})
	ans := importAnswer{Result: res}
	if err != nil || dry || mailer == nil {
		return ans, err
	}
	var ids []string
	for _, u := range res.Users {
		if u.Email != "" {
			ids = append(ids, u.ID)
		}
	}
	failed := mailer.QueueWelcomes(tenant, ids)
	for _, u := range res.Users {
		if err := failed[u.ID]; err != nil {
			ans.MailErrors = append(ans.MailErrors, fmt.Sprintf("line %d (%s): welcome mail not queued: %v", u.Line, u.Email, err))
		}
	}
	ans.MailsQueued = len(ids) - len(failed)
	return ans, nil
}

func writeImportAnswer(w io.Writer, res importAnswer, err error) {
	if err != nil && len(res.Errors) == 0 {
		fmt.Fprintf(w, "error %s\n", err)
		return
	}
	fmt.Fprintf(w, "ok\n")
	json.NewEncoder(w).Encode(res)
}

// reportImport prints warnings, errors and the created users (with the secrets generated
// for them, once) and fails when any row failed.
func reportImport(w io.Writer, res importAnswer, dry bool) error {
	for _, x := range res.Warnings {
		fmt.Fprintf(w, "warning: line %d, column %s: %s\n", x.Line, x.Column, x.Message)
	}
	for _, x := range res.Errors {
		fmt.Fprintf(w, "error:   line %d, column %s: %s\n", x.Line, x.Column, x.Message)
	}
	if len(res.Errors) > 0 {
		return fmt.Errorf("%d row errors: nothing imported", len(res.Errors))
	}
	verb := "imported"
	if dry {
		verb = "would import"
	}
	fmt.Fprintf(w, "%s %d users (%d departments created)\n", verb, len(res.Users), len(res.DepartmentsCreated))
	if n := len(res.Duplicates); n > 0 {
		counts := map[string]int{}
		for _, d := range res.Duplicates {
			counts[d.Action]++
		}
		fmt.Fprintf(w, "%d rows matched existing people: %d skipped, %d updated, %d created again\n", n, counts["skipped"], counts["updated"], counts["created"])
	}
	if !dry {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "line\tname\temail\textensions\tpin\tpassword")
		for _, u := range res.Users {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.Line, u.Name, u.Email, strings.Join(u.Extensions, " "), u.PIN, u.Password)
		}
		tw.Flush()
		for _, e := range res.MailErrors {
			fmt.Fprintf(w, "warning: %s\n", e)
		}
		if res.MailsQueued > 0 {
			fmt.Fprintf(w, "%d welcome mails queued (sent by serve with --smtp; GET …/outbox lists them)\n", res.MailsQueued)
		}
	}
	return nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %s bytes", path, strconv.FormatInt(limit, 10))
	}
	return b, nil
}

// phoneModels is the embedded model table (templates/models.csv), as the API checks it.
func phoneModels() ([]store.PhoneModel, error) {
	cat, err := provision.LoadCatalogue(templates.FS)
	if err != nil {
		return nil, err
	}
	var out []store.PhoneModel
	for _, m := range cat.Models() {
		out = append(out, store.PhoneModel{Make: string(m.Make), Name: m.Name})
	}
	return out, nil
}
