package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dialtone/dialtone/dist"
	"github.com/dialtone/dialtone/internal/atomicfile"
)

// serviceUser is the account the unit runs as.
const serviceUser = "dialtone"

// installCommand: dialtone install [--prefix /usr/local] [--data /var/lib/dialtone]
// [--dry-run] [--root DIR]. It copies this binary to PREFIX/bin/dialtone, writes the
// systemd unit (dist/dialtone.service, with these paths) to
// /etc/systemd/system/dialtone.service, creates the service user when missing and the
// data directory (0750, owned by it). It starts nothing: it prints the systemctl line.
// --root prefixes every path written (a staging tree, or a test); under it no user is
// created and nothing is chowned.
func installCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("install", flag.ContinueOnError)
	fs.SetOutput(stderr)
	prefix := fs.String("prefix", "/usr/local", "the binary goes to PREFIX/bin/dialtone")
	data := fs.String("data", dist.DefaultData, "data directory of the service")
	dry := fs.Bool("dry-run", false, "print what would be done, change nothing")
	root := fs.String("root", "", "prefix every path with this directory (staging; no user, no chown)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: install takes no arguments (%q)", errUsage, fs.Arg(0))
	}
	for name, p := range map[string]string{"--prefix": *prefix, "--data": *data} {
		if !filepath.IsAbs(p) || strings.ContainsAny(p, " \t\r\n\"'\\$%;") {
			return fmt.Errorf("%w: %s must be an absolute path without spaces, quotes or $ (%q)", errUsage, name, p)
		}
	}
	if !*dry && *root == "" && os.Geteuid() != 0 {
		return errors.New("install needs root (try --dry-run to see what it would do)")
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this binary: %w", err)
	}
	bin := filepath.Join(filepath.Clean(*prefix), "bin", "dialtone")
	dataDir := filepath.Clean(*data)
	unitPath := "/etc/systemd/system/dialtone.service"
	envDir := "/etc/dialtone" // dialtone.env: DIALTONE_* settings (EnvironmentFile in the unit)
	unit := strings.ReplaceAll(dist.Unit, dist.DefaultBinary, bin)
	unit = strings.ReplaceAll(unit, dist.DefaultData, dataDir)
	at := func(p string) string { return filepath.Join(*root, p) }

	say := func(format string, a ...any) {
		if *dry {
			format = "would " + format
		}
		fmt.Fprintf(stdout, format+"\n", a...)
	}

	// 1. The service user.
	var uid, gid = -1, -1
	switch u, err := user.Lookup(serviceUser); {
	case *root != "":
		say("skip the user %s (under --root)", serviceUser)
	case err == nil:
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		fmt.Fprintf(stdout, "user %s exists (uid %s)\n", serviceUser, u.Uid)
	default:
		cmd := []string{"useradd", "--system", "--user-group", "--home-dir", dataDir, "--no-create-home",
			"--shell", "/usr/sbin/nologin", "--comment", "Dialtone", serviceUser}
		say("run: %s", strings.Join(cmd, " "))
		if !*dry {
			if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
				return fmt.Errorf("useradd: %v: %s", err, strings.TrimSpace(string(out)))
			}
			u, err := user.Lookup(serviceUser)
			if err != nil {
				return fmt.Errorf("user %s after useradd: %w", serviceUser, err)
			}
			uid, _ = strconv.Atoi(u.Uid)
			gid, _ = strconv.Atoi(u.Gid)
		}
	}

	// 2. The binary.
	say("copy %s to %s (0755)", self, at(bin))
	if !*dry {
		if err := os.MkdirAll(filepath.Dir(at(bin)), 0o755); err != nil {
			return err
		}
		src, err := os.Open(self)
		if err != nil {
			return err
		}
		err = atomicfile.Write(at(bin), 0o755, func(w io.Writer) error { _, err := io.Copy(w, src); return err })
		src.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", at(bin), err)
		}
	}

	// 3. The data directory.
	say("create %s (0750, owned by %s)", at(dataDir), serviceUser)
	if !*dry {
		if err := os.MkdirAll(at(dataDir), 0o750); err != nil {
			return err
		}
		if err := os.Chmod(at(dataDir), 0o750); err != nil {
			return err
		}
		if uid >= 0 {
			if err := os.Chown(at(dataDir), uid, gid); err != nil {
				return err
			}
		}
	}

	// 4. The unit, and the directory of its environment file (read if present).
	say("write %s (ExecStart=%s serve --data %s) and create %s", at(unitPath), bin, dataDir, at(envDir))
	if !*dry {
		if err := os.MkdirAll(at(envDir), 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(at(unitPath)), 0o755); err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(at(unitPath), 0o644, []byte(unit)); err != nil {
			return fmt.Errorf("%s: %w", at(unitPath), err)
		}
	}
	fmt.Fprintf(stdout, "next: systemctl daemon-reload && systemctl enable --now dialtone\n"+
		"      settings (DIALTONE_PUBLIC_HOST=…) go in /etc/dialtone/dialtone.env; the first start logs the admin password: journalctl -u dialtone\n")
	return nil
}
