package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dialtone/dialtone/store"
)

// resetAnswer is a reset's outcome: the new password, shown once.
type resetAnswer struct {
	Tenant   string `json:"tenant"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

func resetPassword(st *store.Store, tenant, email string) (resetAnswer, error) {
	u, pw, err := st.ResetPasswordByEmail(tenant, email, "cli")
	if err != nil {
		return resetAnswer{}, err
	}
	return resetAnswer{Tenant: u.Tenant, Email: u.Email, Password: pw}, nil
}

// resetPasswordCommand: dialtone reset-password EMAIL [--tenant SLUG] [--data DIR]. The
// way back in when the admin password is lost: offline over the store, or through the
// control socket while serve holds it. Whoever may open the data directory may do this.
func resetPasswordCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reset-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenant := fs.String("tenant", "", "tenant slug (default: the one tenant that has the email)")
	dataDir := dataDirFlag(fs)
	var email string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		if email != "" {
			return fmt.Errorf("%w: reset-password takes one EMAIL", errUsage)
		}
		email, args = fs.Arg(0), fs.Args()[1:]
	}
	if email == "" || strings.ContainsAny(email, " \t\r\n") {
		return fmt.Errorf("%w: reset-password needs an EMAIL", errUsage)
	}
	if strings.ContainsAny(*tenant, " \t\r\n") {
		return fmt.Errorf("%w: --tenant is a slug", errUsage)
	}
	dir, err := dataDir()
	if err != nil {
		return err
	}
	var ans resetAnswer
	if c, ok := dialControl(dir); ok {
		defer c.Close()
		slug := *tenant
		if slug == "" {
			slug = "-"
		}
		if _, err := fmt.Fprintf(c, "reset-password %s %s\n", slug, email); err != nil {
			return err
		}
		r := bufio.NewReader(c)
		if err := readControlStatus(r); err != nil {
			return err
		}
		if err := json.NewDecoder(r).Decode(&ans); err != nil {
			return fmt.Errorf("control answer: %w", err)
		}
	} else {
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("--data %s: %w", dir, err)
		}
		st, err := store.Open(store.Options{Dir: dir})
		if err != nil {
			return fmt.Errorf("--data %s: %w", dir, err)
		}
		defer st.Close()
		if ans, err = resetPassword(st, *tenant, email); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "New password for %s (tenant %s): %s\n(shown once; every session of this user has ended)\n", ans.Email, ans.Tenant, ans.Password)
	return nil
}
