package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set by the Makefile with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage:
  dialtone serve [flags]        run every service (the default)
  dialtone version
  dialtone backup FILE (--passphrase-file F | --plaintext) [--data DIR]
  dialtone verify-backup FILE [--passphrase-file F]
  dialtone restore FILE --data DIR [--passphrase-file F]
  dialtone import-users FILE --tenant SLUG [--dry-run] [--data DIR]
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !isFlag(args[0]) {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serveCommand(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "dialtone", version)
	case "backup":
		err = backupCommand(args, stdout, stderr)
	case "restore":
		err = restoreCommand(args, stdout, stderr)
	case "verify-backup":
		err = verifyBackupCommand(args, stdout, stderr)
	case "import-users":
		err = importUsersCommand(args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "dialtone: unknown command %q\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "dialtone: %v\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "dialtone: %v\n", err)
		return 1
	}
}

func isFlag(s string) bool { return len(s) > 0 && s[0] == '-' }

func serveCommand(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeConfig(args, os.LookupEnv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	m, err := NewMain(cfg, log, stdout)
	if err != nil {
		return err
	}
	defer m.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return m.Run(ctx)
}
