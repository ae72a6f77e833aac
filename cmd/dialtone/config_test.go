package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "dialtone.conf")
	os.WriteFile(file, []byte("# comment\nhttp = :9000\nldap = :3890\nsip = \":5070\"\nbackup-dir = /var/backups/dialtone\nbackup-keep = 14\n"), 0o600)
	env := envMap(map[string]string{"DIALTONE_CONFIG": file, "DIALTONE_LDAP": ":3999", "DIALTONE_TFTP": ""})
	c, err := parseServeConfig([]string{"--sip", ":5080", "--public-host", "pbx.example"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]string{
		"http (file)":            {c.HTTP, ":9000"},
		"ldap (env over file)":   {c.LDAP, ":3999"},
		"sip (flag over file)":   {c.SIP, ":5080"},
		"tftp (empty env = off)": {c.TFTP, ""},
		"data (default)":         {c.Data, "./dialtone-data"},
		"sips (default)":         {c.SIPS, ":5061"},
		"mail-from (derived)":    {c.MailFrom, "dialtone@pbx.example"},
		"backup-dir (file)":      {c.BackupDir, "/var/backups/dialtone"},
		"backup-keep (file)":     {c.BackupKeep, "14"},
		"backup-every (default)": {c.BackupEvery, "24h"},
	}
	for name, v := range checks {
		if v[0] != v[1] {
			t.Errorf("%s = %q, want %q", name, v[0], v[1])
		}
	}
}

func TestConfigFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("htp = :9000\n"), 0o600)
	if _, err := parseServeConfig([]string{"--config", bad}, envMap(nil), io.Discard); err == nil {
		t.Error("unknown setting accepted")
	}
	os.WriteFile(bad, []byte("just words\n"), 0o600)
	if _, err := parseServeConfig([]string{"--config", bad}, envMap(nil), io.Discard); err == nil {
		t.Error("line without = accepted")
	}
	if _, err := parseServeConfig([]string{"--config", filepath.Join(dir, "missing")}, envMap(nil), io.Discard); err == nil {
		t.Error("missing file accepted")
	}
}

// backup and import-users find the data directory where serve does: --data, then
// DIALTONE_DATA, then the config file's data.
func TestDataDirLikeServe(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "dialtone.conf")
	os.WriteFile(conf, []byte("data = /srv/from-config\n"), 0o600)
	t.Setenv("DIALTONE_DATA", "")
	t.Setenv("DIALTONE_CONFIG", "")
	resolve := func(args ...string) string {
		t.Helper()
		fs := flag.NewFlagSet("backup", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		dir := dataDirFlag(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		d, err := dir()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := resolve(); d != "./dialtone-data" {
		t.Errorf("default: %s", d)
	}
	if d := resolve("--config", conf); d != "/srv/from-config" {
		t.Errorf("--config: %s", d)
	}
	t.Setenv("DIALTONE_CONFIG", conf)
	if d := resolve(); d != "/srv/from-config" {
		t.Errorf("DIALTONE_CONFIG: %s", d)
	}
	t.Setenv("DIALTONE_DATA", "/srv/from-env")
	if d := resolve(); d != "/srv/from-env" {
		t.Errorf("DIALTONE_DATA: %s", d)
	}
	if d := resolve("--data", "/srv/flag"); d != "/srv/flag" {
		t.Errorf("--data: %s", d)
	}
}
