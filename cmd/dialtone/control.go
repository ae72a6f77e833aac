package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/userimport"
)

// controlSocketName is the Unix socket in the data directory through which backup and
// import-users reach a running serve (BadgerDB allows one process per directory). Only
// whoever may open the data directory may connect: the socket is 0600.
const controlSocketName = "control.sock"

func listenControl(dataDir string) (net.Listener, error) {
	path := filepath.Join(dataDir, controlSocketName)
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("another dialtone serves this data directory (%s answers)", path)
	}
	os.Remove(path) // a stale socket from a killed process
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// controlService answers one command per connection:
//
//	backup\n                              → the backup payload (backupformat.go)
//	import SLUG DRY(0|1) LENGTH [ONDUP]\n BODY → the import result as JSON
//	reset-password SLUG|- EMAIL\n         → {"tenant","email","password"}
//	dhcp SLUG\n                           → the tenant's DHCP facts as JSON (dhcp.go)
//
// Every answer starts with "ok\n" or "error MESSAGE\n".
func (m *Main) controlService() service {
	return service{name: "control", serve: func(ctx context.Context) error {
		go func() { <-ctx.Done(); m.control.Close() }()
		for {
			c, err := m.control.Accept()
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			go m.handleControl(ctx, c)
		}
	}}
}

func (m *Main) handleControl(ctx context.Context, c net.Conn) {
	defer c.Close()
	defer crash.Recover(m.log, "control", "command")
	r := bufio.NewReader(io.LimitReader(c, maxImportBytes+4096))
	line, err := r.ReadString('\n')
	if err != nil {
		return
	}
	w := bufio.NewWriter(c)
	defer w.Flush()
	fields := strings.Fields(line)
	if len(fields) == 0 {
		fmt.Fprintf(w, "error empty command\n")
		return
	}
	switch fields[0] {
	case "backup":
		// The payload ends with its end record; a failure after "ok" sends an X record
		// (and a cut connection none), so the client never takes a short stream for whole.
		fmt.Fprintf(w, "ok\n")
		if err := writePayload(w, m.cfg.Data, m.store); err != nil {
			m.backupCounts().WithLabelValues("online", "failed").Inc()
			m.log.Error("online backup failed", "svc", "control", "err", err)
			writeRecord(w, recFailed, "", []byte(err.Error()))
		} else {
			m.backupCounts().WithLabelValues("online", "ok").Inc()
			m.backupTaken(time.Now())
		}
	case "import":
		if len(fields) != 4 && len(fields) != 5 {
			fmt.Fprintf(w, "error usage: import SLUG DRY LENGTH [ON_DUPLICATE]\n")
			return
		}
		onDup, ok := userimport.DuplicateSkip, true
		if len(fields) == 5 {
			onDup, ok = userimport.ParseOnDuplicate(fields[4])
		}
		if !ok {
			fmt.Fprintf(w, "error on-duplicate is skip, update or create\n")
			return
		}
		n, err := strconv.Atoi(fields[3])
		if err != nil || n < 0 || n > maxImportBytes {
			fmt.Fprintf(w, "error CSV larger than %d bytes\n", maxImportBytes)
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			fmt.Fprintf(w, "error short body\n")
			return
		}
		var mailer welcomer
		if m.mailer != nil {
			mailer = m.mailer
		}
		res, err := runImport(ctx, m.store, mailer, fields[1], body, fields[2] == "1", onDup, nil)
		writeImportAnswer(w, res, err)
	case "reset-password":
		if len(fields) != 3 {
			fmt.Fprintf(w, "error usage: reset-password SLUG|- EMAIL\n")
			return
		}
		slug := fields[1]
		if slug == "-" {
			slug = ""
		}
		ans, err := resetPassword(m.store, slug, fields[2])
		if err != nil {
			fmt.Fprintf(w, "error %s\n", err)
			return
		}
		fmt.Fprintf(w, "ok\n")
		json.NewEncoder(w).Encode(ans)
	case "dhcp":
		if len(fields) != 2 {
			fmt.Fprintf(w, "error usage: dhcp SLUG\n")
			return
		}
		f, err := m.dhcpFacts(fields[1])
		if err != nil {
			fmt.Fprintf(w, "error %s\n", err)
			return
		}
		fmt.Fprintf(w, "ok\n")
		json.NewEncoder(w).Encode(f)
	default:
		fmt.Fprintf(w, "error unknown command %q\n", fields[0])
	}
}

// dialControl connects to a running serve on dataDir, or says there is none.
func dialControl(dataDir string) (net.Conn, bool) {
	c, err := net.DialTimeout("unix", filepath.Join(dataDir, controlSocketName), 2*time.Second)
	if err != nil {
		return nil, false
	}
	return c, true
}

// readControlStatus reads the "ok" / "error …" line of an answer.
func readControlStatus(r *bufio.Reader) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	line = strings.TrimSuffix(line, "\n")
	if line == "ok" {
		return nil
	}
	return errors.New(strings.TrimPrefix(line, "error "))
}
