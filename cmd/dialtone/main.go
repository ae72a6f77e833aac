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

const usage = `dialtone: one binary that provisions, registers and lists desk phones.

usage: dialtone COMMAND [flags]   (no command: serve)

commands:
  serve            run every service over the store in --data (serve --help lists its flags)
  reset-password   EMAIL [--tenant SLUG] [--data DIR]: set a new generated password, shown once
  dhcp-options     [--tenant SLUG] [serve's flags]: DHCP options 66/160/150 and server snippets
  import-users     FILE --tenant SLUG [--dry-run] [--on-duplicate skip|update|create] [--data DIR]: people from CSV
  backup           FILE (--passphrase-file F | --plaintext) [--data DIR]: back up, also while serve runs
  verify-backup    FILE [--passphrase-file F]: check a backup file whole
  restore          FILE --data DIR [--passphrase-file F]: restore into an empty directory
  install          [--prefix /usr/local] [--data /var/lib/dialtone] [--dry-run]: install as a systemd service
  version          print the version (also --version)
  help             this list (also --help, -h)
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !isFlag(args[0]) {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 {
		switch args[0] { // root flags: the command list and the version, not serve's
		case "-h", "-help", "--help":
			cmd = "help"
		case "-version", "--version", "-v":
			cmd = "version"
		}
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
	case "reset-password":
		err = resetPasswordCommand(args, stdout, stderr)
	case "dhcp-options":
		err = dhcpOptionsCommand(args, stdout, stderr)
	case "install":
		err = installCommand(args, stdout, stderr)
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
