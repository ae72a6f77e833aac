package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/store"
)

// raw does one API request with a body that is not JSON and returns status and body.
func (e *e2e) raw(method, path, contentType string, body []byte) (int, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url(path), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// officeFiles gives a running serve what a backup must carry besides the store: a user
// with a SIP line, a firmware image, a phone template override (through the API) and a
// mail template override (on disk, as an admin edits it). It returns the files by path
// under --data.
func officeFiles(e *e2e) map[string][]byte {
	e.t.Helper()
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Bram", "last_name": "Bos", "extensions": []string{"202"}}, 201, nil)
	image := bytes.Repeat([]byte("T46U firmware block\n"), 150000) // 3 MiB: several records
	if st, b := e.raw("POST", "/api/v1/tenants/default/firmware?name=T46U-108.86.0.90.rom&model=T46U&version=108.86.0.90", "application/octet-stream", image); st != 201 {
		e.t.Fatalf("firmware upload: %d %s", st, b)
	}
	st, tmpl := e.raw("GET", "/api/v1/tenants/default/templates/yealink-phone.tmpl", "", nil)
	if st != 200 {
		e.t.Fatalf("template: %d", st)
	}
	override := append(tmpl, "\n## override of the Ghent office\n"...)
	if st, b := e.raw("PUT", "/api/v1/tenants/default/templates/yealink-phone.tmpl", "text/plain", override); st != 204 {
		e.t.Fatalf("template override: %d %s", st, b)
	}
	mailOverride := []byte("Subject: Welkom bij Dialtone\n\nHallo {{.FirstName}}\n")
	if err := os.WriteFile(filepath.Join(e.data, "templates", "mail", "welcome.nl.txt"), mailOverride, 0o640); err != nil {
		e.t.Fatal(err)
	}
	return map[string][]byte{
		"firmware/default/T46U-108.86.0.90.rom": image,
		"templates/yealink-phone.tmpl":          override,
		"templates/mail/welcome.nl.txt":         mailOverride,
	}
}

func writePassphrase(t *testing.T, pass string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "passphrase")
	if err := os.WriteFile(path, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkRestored opens a restored store and finds the user, a readable SIP password and
// every file byte for byte.
func checkRestored(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("restored %s: %d bytes, want %d (%v)", name, len(got), len(want), err)
		}
	}
	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ext, err := st.Extension(store.DefaultTenant, "202")
	if err != nil {
		t.Fatalf("restored extension: %v", err)
	}
	if pw, err := st.SIPPassword(ext); err != nil || len(pw) < 16 {
		t.Errorf("restored SIP password unreadable: %v", err)
	}
}

// assertNothingRestored: a refused restore leaves the target absent or empty.
func assertNothingRestored(t *testing.T, dir, what string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s: restore wrote %v", what, names)
	}
}

// TestBackupCarriesFilesRoundTrip: firmware images and template overrides under --data are
// in the backup of a running serve and come back with the store (issue 12.6: they were not
// in the backup).
func TestBackupCarriesFilesRoundTrip(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	files := officeFiles(e)
	file := filepath.Join(t.TempDir(), "dialtone.bak")
	var out bytes.Buffer
	if err := backupCommand([]string{file, "--data", e.data, "--plaintext"}, &out, io.Discard); err != nil {
		t.Fatalf("online backup: %v", err)
	}
	if !strings.Contains(out.String(), "backup written") || !strings.Contains(out.String(), "3 files") {
		t.Errorf("backup said %q", out.String())
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if err := restoreCommand([]string{file, "--data", restored}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	checkRestored(t, restored, files)

	// With serve stopped, backup opens the store itself: the same content.
	e.stop()
	err := <-e.done
	e.done <- err // for the cleanup
	e.m.Close()
	offline := filepath.Join(t.TempDir(), "offline.bak")
	if err := backupCommand([]string{offline, "--data", e.data, "--plaintext"}, &out, io.Discard); err != nil {
		t.Fatalf("offline backup: %v", err)
	}
	restored = filepath.Join(t.TempDir(), "restored")
	if err := restoreCommand([]string{offline, "--data", restored}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	checkRestored(t, restored, files)
}

// TestDamagedBackupRefused: a backup cut by one byte, or with one byte changed anywhere, is
// refused by verify-backup and by restore, and restore writes nothing (issue 12.6: restore
// wrote the key file and part of the store before it found out, or took the damage whole).
func TestDamagedBackupRefused(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	officeFiles(e)
	file := filepath.Join(t.TempDir(), "dialtone.bak")
	if err := backupCommand([]string{file, "--data", e.data, "--plaintext"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(file)
	flip := func(at int) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0x20
		return b
	}
	damaged := map[string][]byte{
		"cut by one byte":           good[:len(good)-1],
		"cut in half":               good[:len(good)/2],
		"a byte of the store":       flip(len(backupMagic) + 200),
		"a byte of the firmware":    flip(len(good) / 2),
		"the last byte before end":  flip(len(good) - trailerLen - 1),
		"a byte of the trailer sum": flip(len(good) - 10),
	}
	for what, b := range damaged {
		bad := filepath.Join(t.TempDir(), "bad.bak")
		os.WriteFile(bad, b, 0o600)
		if err := verifyBackupCommand([]string{bad}, io.Discard, io.Discard); err == nil {
			t.Errorf("%s: verify-backup accepted it", what)
		}
		target := filepath.Join(t.TempDir(), "restored")
		if err := restoreCommand([]string{bad, "--data", target}, io.Discard, io.Discard); err == nil {
			t.Errorf("%s: restore accepted it", what)
		}
		assertNothingRestored(t, target, what)
	}
}

// TestOnlineBackupCutShortIsNoBackup: a serve whose answer stops short of the end (it sent
// "ok", then the stream broke) gives an error and no file (issue 12.6: "backup written" was
// printed for a truncated stream). The stream is a real one, taken from a running serve
// through its control socket and replayed cut by one byte on another data directory's
// socket.
func TestOnlineBackupCutShortIsNoBackup(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	officeFiles(e)
	c, ok := dialControl(e.data)
	if !ok {
		t.Fatal("no control socket")
	}
	io.WriteString(c, "backup\n")
	whole, err := io.ReadAll(c)
	c.Close()
	if err != nil || !bytes.HasPrefix(whole, []byte("ok\n")) {
		t.Fatalf("control answer: %v %.20q", err, whole)
	}
	// A socket path must stay short: a directory of its own under /tmp.
	cutDir, err := os.MkdirTemp("", "dt")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(cutDir)
	ln, err := net.Listen("unix", filepath.Join(cutDir, controlSocketName))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(c).ReadString('\n')
			c.Write(whole[:len(whole)-1])
			c.Close()
		}
	}()
	outDir := t.TempDir()
	file := filepath.Join(outDir, "dialtone.bak")
	var out bytes.Buffer
	err = backupCommand([]string{file, "--data", cutDir, "--plaintext"}, &out, io.Discard)
	if err == nil || strings.Contains(out.String(), "backup written") {
		t.Fatalf("cut stream: err %v, said %q", err, out.String())
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
		t.Errorf("a failed backup left %v", entries)
	}

	// A serve that fails after "ok" says why, and the client passes it on.
	os.Rename(filepath.Join(e.data, store.KeyFileName), filepath.Join(e.data, "moved.key"))
	err = backupCommand([]string{file, "--data", e.data, "--plaintext"}, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "key file") {
		t.Errorf("serve failing mid-answer: %v", err)
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
		t.Errorf("a failed backup left %v", entries)
	}
}

// TestEncryptedBackupRoundTrip: with --passphrase-file the master key is not in the file in
// clear; restore needs the passphrase (a clear error without it, a refusal with a wrong
// one, nothing written either way) and brings back store and files with it. Without either
// --passphrase-file or --plaintext no backup is written (issue 12.6: the master key sat in
// clear at the head of every backup).
func TestEncryptedBackupRoundTrip(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	files := officeFiles(e)
	outDir := t.TempDir()
	file := filepath.Join(outDir, "dialtone.bak")
	if err := backupCommand([]string{file, "--data", e.data}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--passphrase-file") {
		t.Fatalf("backup without a passphrase or --plaintext: %v", err)
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
		t.Fatalf("refused backup left %v", entries)
	}
	pass := writePassphrase(t, "correct horse battery staple")
	if err := backupCommand([]string{file, "--data", e.data, "--passphrase-file", pass}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	keyHex, _ := os.ReadFile(filepath.Join(e.data, store.KeyFileName))
	sealed, _ := os.ReadFile(file)
	if bytes.Contains(sealed, bytes.TrimSpace(keyHex)) || bytes.Contains(sealed, files["templates/yealink-phone.tmpl"][:200]) {
		t.Fatal("encrypted backup holds the key or a template in clear")
	}

	target := filepath.Join(t.TempDir(), "restored")
	err := restoreCommand([]string{file, "--data", target}, io.Discard, io.Discard)
	if !errors.Is(err, errNeedPassphrase) {
		t.Errorf("restore without passphrase: %v", err)
	}
	assertNothingRestored(t, target, "no passphrase")
	wrong := writePassphrase(t, "incorrect horse battery staple")
	if err := restoreCommand([]string{file, "--data", target, "--passphrase-file", wrong}, io.Discard, io.Discard); !errors.Is(err, errWrongPassphrase) {
		t.Errorf("restore with a wrong passphrase: %v", err)
	}
	assertNothingRestored(t, target, "wrong passphrase")
	if err := verifyBackupCommand([]string{file, "--passphrase-file", pass}, io.Discard, io.Discard); err != nil {
		t.Errorf("verify-backup: %v", err)
	}
	if err := restoreCommand([]string{file, "--data", target, "--passphrase-file", pass}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	checkRestored(t, target, files)

	// Chunks moved: the last sealed chunk dropped and the trailer recomputed still fails.
	body := sealed[:len(sealed)-trailerLen]
	for _, cut := range []int{sealChunk + 16, 1} {
		short := body[:len(body)-cut]
		sum := sha256.Sum256(short)
		forged := filepath.Join(t.TempDir(), "forged.bak")
		os.WriteFile(forged, fmt.Appendf(bytes.Clone(short), "%s%016x %x\n", backupTrailerID, len(short), sum), 0o600)
		if err := verifyBackupCommand([]string{forged, "--passphrase-file", pass}, io.Discard, io.Discard); err == nil {
			t.Errorf("sealed body cut by %d bytes with a fresh trailer accepted", cut)
		}
	}
}

// TestScheduledBackups: serve with --backup-dir writes encrypted backups on its schedule,
// each one whole, and keeps only --backup-keep of them.
func TestScheduledBackups(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "backups")
	pass := writePassphrase(t, "nightly backup passphrase")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a backup"), 0o600)
	e := startMainOn(t, t.TempDir(), func(c *Config) {
		c.BackupDir, c.BackupEvery, c.BackupKeep, c.BackupPassphraseFile = dir, "20ms", "2", pass
	})
	okCount := regexp.MustCompile(`dialtone_backups_total\{kind="scheduled",result="ok"\} (\d+)`)
	testkit.Eventually(t, 30*time.Second, "3 scheduled backups", func() bool {
		m := okCount.FindStringSubmatch(e.scrape())
		n := 0
		if m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		return n >= 3
	})
	e.stop()
	err := <-e.done
	e.done <- err // for the cleanup
	entries, _ := os.ReadDir(dir)
	var backups []string
	for _, en := range entries {
		if scheduledBackupName.MatchString(en.Name()) {
			backups = append(backups, en.Name())
		} else if en.Name() != "notes.txt" {
			t.Errorf("stray file %s", en.Name())
		}
	}
	if len(backups) != 2 {
		t.Fatalf("backups kept: %v, want 2", backups)
	}
	for _, b := range backups {
		if err := verifyBackupCommand([]string{filepath.Join(dir, b), "--passphrase-file", pass}, io.Discard, io.Discard); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Error("pruning removed a file that is not a scheduled backup")
	}
}

// TestScheduledBackupSettings: a schedule without a passphrase or an explicit plaintext,
// or with a bad interval, stops the start and names its flag.
func TestScheduledBackupSettings(t *testing.T) {
	t.Parallel()
	base := Config{Data: t.TempDir(), HTTP: "127.0.0.1:0", PublicHost: "127.0.0.1", BackupDir: t.TempDir(), BackupEvery: "24h", BackupKeep: "7"}
	for _, tc := range []struct {
		mutate func(*Config)
		want   string
	}{
		{func(c *Config) {}, "--passphrase-file"},
		{func(c *Config) { c.BackupPlaintext = "yes please" }, "--backup-plaintext"},
		{func(c *Config) { c.BackupPlaintext, c.BackupEvery = "true", "24" }, "--backup-every"},
		{func(c *Config) { c.BackupPlaintext, c.BackupKeep = "true", "0" }, "--backup-keep"},
		{func(c *Config) { c.BackupPassphraseFile = filepath.Join(t.TempDir(), "none") }, "passphrase file"},
	} {
		cfg := base
		tc.mutate(&cfg)
		if _, err := scheduleFromConfig(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error naming %s", cfg, err, tc.want)
		}
	}
}

// TestScheduledBackupFailureLogged: a scheduled backup that fails is logged and counted,
// leaves no file, and the log never holds the passphrase.
func TestScheduledBackupFailureLogged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	passFile := writePassphrase(t, "first nightly passphrase")
	cfg := Config{Data: t.TempDir(), HTTP: "127.0.0.1:0", PublicHost: "127.0.0.1", AdminPassword: testAdminPassword,
		BackupDir: dir, BackupEvery: "20ms", BackupKeep: "3", BackupPassphraseFile: passFile}
	var logs testkit.Buffer
	m, err := NewMain(cfg, slog.New(slog.NewTextHandler(&logs, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done; m.Close() }()
	// A passphrase too short to seal with: the next backups fail.
	os.WriteFile(passFile, []byte("Zq9short\n"), 0o600)
	testkit.Eventually(t, 30*time.Second, "a scheduled backup failure in the log", func() bool {
		return strings.Contains(logs.String(), "scheduled backup failed")
	})
	cancel()
	<-done
	done <- nil
	if l := logs.String(); strings.Contains(l, "Zq9short") || strings.Contains(l, "first nightly passphrase") {
		t.Errorf("a passphrase in the log:\n%s", l)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !scheduledBackupName.MatchString(e.Name()) {
			t.Errorf("a failed backup left %s", e.Name())
		}
	}
}

// TestBackupDueAfterNewest: the first scheduled backup of a serve is due an interval after
// the newest one in the directory, so a nightly restart does not postpone it forever; with
// none, or an overdue one, it is due at once.
func TestBackupDueAfterNewest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC)
	if got := firstBackupDue(dir, 24*time.Hour, now); !got.Equal(now) {
		t.Errorf("empty directory: due %v, want now", got)
	}
	for _, name := range []string{"dialtone-20260110T020000.000Z.bak", "dialtone-20260112T020000.000Z.bak", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o600)
	}
	if got, want := firstBackupDue(dir, 24*time.Hour, now), time.Date(2026, 1, 13, 2, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("due %v, want %v", got, want)
	}
	if got := firstBackupDue(dir, time.Hour, now); !got.Equal(now) {
		t.Errorf("overdue: due %v, want now", got)
	}
}
