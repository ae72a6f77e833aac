package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dialtone/dialtone/internal/crash"
)

// Scheduled backups: with --backup-dir, serve writes a backup there every --backup-every,
// named by the UTC time it was taken (dialtone-20260112T020000.000Z.bak), written and
// verified the way `dialtone backup` writes one, and then removes the oldest beyond
// --backup-keep. The next one is due --backup-every after the newest in the directory (at
// once when there is none or it is overdue), so restarting serve never postpones a backup. A
// failed backup is logged and counted (dialtone_backups_total{result="failed"}), removes
// nothing, and is tried again after retryBackup (or --backup-every when shorter).
type backupSchedule struct {
	dir       string
	every     time.Duration
	keep      int
	passFile  string // "" with plaintext
	plaintext bool
	counts    *prometheus.CounterVec
}

const backupTimeLayout = "20060102T150405.000Z"

var scheduledBackupName = regexp.MustCompile(`^dialtone-\d{8}T\d{6}\.\d{3}Z\.bak$`)

// scheduleFromConfig checks the backup settings; nil when --backup-dir is empty.
func scheduleFromConfig(c Config) (*backupSchedule, error) {
	if c.BackupDir == "" {
		return nil, nil
	}
	s := &backupSchedule{dir: c.BackupDir, passFile: c.BackupPassphraseFile}
	var err error
	if s.every, err = time.ParseDuration(c.BackupEvery); err != nil || s.every <= 0 {
		return nil, fmt.Errorf("--backup-every %q: want a positive duration such as 24h", c.BackupEvery)
	}
	if s.keep, err = strconv.Atoi(c.BackupKeep); err != nil || s.keep < 1 {
		return nil, fmt.Errorf("--backup-keep %q: want a number of backups, 1 or more", c.BackupKeep)
	}
	plaintext := c.BackupPlaintext
	if plaintext == "" {
		plaintext = "false"
	}
	if s.plaintext, err = strconv.ParseBool(plaintext); err != nil {
		return nil, fmt.Errorf("--backup-plaintext %q: want true or false", c.BackupPlaintext)
	}
	if _, err := backupPassphrase(s.passFile, s.plaintext); err != nil {
		return nil, fmt.Errorf("--backup-dir: %w", err)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("--backup-dir %s: %w", s.dir, err)
	}
	return s, nil
}

// backupService takes the scheduled backups until ctx ends.
func (m *Main) backupService(s *backupSchedule) service {
	s.counts = m.backupCounts()
	return service{name: "backup", serve: func(ctx context.Context) error {
		if newest, ok := newestScheduledBackup(s.dir); ok {
			m.backupTaken(newest)
		}
		next := firstBackupDue(s.dir, s.every, time.Now())
		for {
			t := time.NewTimer(time.Until(next))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			now, ok := time.Now(), false
			func() {
				defer crash.Recover(m.log, "backup", "scheduled") // a panic is a failed backup, retried below
				ok = m.scheduledBackup(s, now)
			}()
			if ok {
				next = now.Add(s.every)
			} else {
				next = now.Add(min(s.every, retryBackup))
			}
		}
	}}
}

// retryBackup is how soon a failed scheduled backup is tried again.
const retryBackup = time.Hour

// firstBackupDue is when the first scheduled backup of this serve is due: --backup-every
// after the newest scheduled backup in dir, or now.
func firstBackupDue(dir string, every time.Duration, now time.Time) time.Time {
	taken, ok := newestScheduledBackup(dir)
	if !ok || taken.Add(every).Before(now) {
		return now
	}
	return taken.Add(every)
}

// newestScheduledBackup is when the newest scheduled backup in dir was taken, by its name.
func newestScheduledBackup(dir string) (time.Time, bool) {
	names, _ := scheduledBackups(dir)
	if len(names) == 0 {
		return time.Time{}, false
	}
	newest := names[len(names)-1]
	taken, err := time.Parse(backupTimeLayout, strings.TrimSuffix(strings.TrimPrefix(newest, "dialtone-"), ".bak"))
	return taken, err == nil
}

func (m *Main) scheduledBackup(s *backupSchedule, now time.Time) bool {
	path := filepath.Join(s.dir, "dialtone-"+now.UTC().Format(backupTimeLayout)+".bak")
	err := func() error {
		// Read each time, so a changed passphrase file takes effect without a restart.
		pass, err := backupPassphrase(s.passFile, s.plaintext)
		if err != nil {
			return err
		}
		_, _, err = writeBackupFile(path, pass, func(w io.Writer) error { return writePayload(w, m.cfg.Data, m.store) })
		return err
	}()
	if err != nil {
		s.counts.WithLabelValues("scheduled", "failed").Inc()
		m.log.Error("scheduled backup failed", "svc", "backup", "file", path, "err", err)
		return false
	}
	s.counts.WithLabelValues("scheduled", "ok").Inc()
	m.backupTaken(now)
	m.log.Info("scheduled backup written", "svc", "backup", "file", path)
	if err := pruneBackups(s.dir, s.keep); err != nil {
		m.log.Warn("removing old backups", "svc", "backup", "err", err)
	}
	return true
}

// pruneBackups removes the oldest scheduled backups beyond keep; other files in the
// directory are left alone.
func pruneBackups(dir string, keep int) error {
	names, err := scheduledBackups(dir)
	if err != nil {
		return err
	}
	for len(names) > keep {
		if err := os.Remove(filepath.Join(dir, names[0])); err != nil {
			return err
		}
		names = names[1:]
	}
	return nil
}

// scheduledBackups lists the scheduled backups in dir, oldest first (the UTC time in the
// name sorts them).
func scheduledBackups(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && scheduledBackupName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}
