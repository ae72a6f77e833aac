package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dialtone/dialtone/store"
)

// A backup file is a short header, the key file (without it the sealed SIP passwords and
// PIN hashes of the backup are useless) and BadgerDB's own backup stream:
//
//	DIALTONE-BACKUP 1\n
//	key <64 hex digits>\n
//	<badger backup stream>
//
// It holds every secret of the installation: it is written 0600, keep it so.
const backupMagic = "DIALTONE-BACKUP 1\n"

func writeBackup(w io.Writer, dataDir string, st *store.Store) error {
	key, err := os.ReadFile(filepath.Join(dataDir, store.KeyFileName))
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	if _, err := fmt.Fprintf(w, "%skey %s\n", backupMagic, strings.TrimSpace(string(key))); err != nil {
		return err
	}
	return st.Backup(w)
}

func backupCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataDirFlag(fs)
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	dir, err := dataDir()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(file+".partial", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(file + ".partial")
	bw := bufio.NewWriterSize(out, 1<<20)
	if c, ok := dialControl(dir); ok { // serve runs: ask it
		defer c.Close()
		if _, err := io.WriteString(c, "backup\n"); err != nil {
			return err
		}
		r := bufio.NewReader(c)
		if err := readControlStatus(r); err != nil {
			return fmt.Errorf("online backup: %w", err)
		}
		if _, err := io.Copy(bw, r); err != nil {
			return fmt.Errorf("online backup: %w", err)
		}
	} else {
		if _, err := os.Stat(filepath.Join(dir, "db")); err != nil {
			return fmt.Errorf("--data %s: no store there", dir)
		}
		st, err := store.Open(store.Options{Dir: dir})
		if err != nil {
			return err
		}
		err = writeBackup(bw, dir, st)
		st.Close()
		if err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := out.Sync(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := checkBackupFile(file + ".partial"); err != nil {
		return err
	}
	if err := os.Rename(file+".partial", file); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", file)
	return nil
}

// checkBackupFile refuses a backup that is missing its header (a serve that failed
// mid-answer leaves a short file).
func checkBackupFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = readBackupHeader(bufio.NewReader(f))
	return err
}

func readBackupHeader(r *bufio.Reader) (key string, err error) {
	magic, err := r.ReadString('\n')
	if err != nil || magic != backupMagic {
		return "", errors.New("not a Dialtone backup (bad header)")
	}
	line, err := r.ReadString('\n')
	key, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "key ")
	if err != nil || !ok || len(key) != 64 {
		return "", errors.New("not a Dialtone backup (no key line)")
	}
	return key, nil
}

func restoreCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "empty data directory to restore into (required)")
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	if *data == "" {
		return fmt.Errorf("%w: restore needs --data DIR", errUsage)
	}
	if entries, err := os.ReadDir(*data); err == nil && len(entries) > 0 {
		return fmt.Errorf("--data %s: not empty; restore only into an empty directory", *data)
	}
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer in.Close()
	r := bufio.NewReaderSize(in, 1<<20)
	key, err := readBackupHeader(r)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*data, store.KeyFileName), []byte(key+"\n"), 0o600); err != nil {
		return err
	}
	st, err := store.Open(store.Options{Dir: *data})
	if err != nil {
		return err
	}
	if err := st.Restore(r); err != nil {
		st.Close()
		return fmt.Errorf("restore: %w", err)
	}
	if err := st.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s\n", file, *data)
	return nil
}

// parseWithFile parses flags that may stand before or after the one FILE argument.
func parseWithFile(fs *flag.FlagSet, args []string) (string, error) {
	var file string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		if file != "" {
			return "", fmt.Errorf("%w: more than one file given", errUsage)
		}
		file, args = fs.Arg(0), fs.Args()[1:]
	}
	if file == "" {
		return "", fmt.Errorf("%w: %s needs a FILE", errUsage, fs.Name())
	}
	return file, nil
}
