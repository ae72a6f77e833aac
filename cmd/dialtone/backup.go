package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dialtone/dialtone/internal/atomicfile"
	"github.com/dialtone/dialtone/store"
)

// backupDirs are the directories under --data whose files a backup carries besides the
// store: uploaded firmware images (firmware/{tenant}/{name}) and template overrides
// (templates/, templates/mail/). Photos live in the store.
var backupDirs = []string{"firmware", "templates"}

// minPassphrase is the shortest passphrase a backup is sealed with.
const minPassphrase = 12

// writePayload writes the payload of a backup (backupformat.go): key, store, files, end.
func writePayload(w io.Writer, dataDir string, st *store.Store) error {
	keyHex, err := os.ReadFile(filepath.Join(dataDir, store.KeyFileName))
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(keyHex)))
	if err != nil || len(key) != 32 {
		return errors.New("key file: not 64 hex digits")
	}
	if err := writeRecord(w, recKey, "", key); err != nil {
		return err
	}
	sw := &recordWriter{w: w, kind: recStore}
	if err := st.Backup(sw); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	var files int64
	buf := make([]byte, maxRecordData)
	for _, top := range backupDirs {
		err := filepath.WalkDir(filepath.Join(dataDir, top), func(path string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && d == nil {
				return fs.SkipDir // no such directory yet
			}
			if err != nil {
				return err
			}
			// Regular files only; atomicfile's temporaries (".name.*.tmp") are half-written.
			if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
				return nil
			}
			rel, err := filepath.Rel(dataDir, path)
			if err != nil {
				return err
			}
			files++
			return writeFileRecords(w, filepath.ToSlash(rel), path, buf)
		})
		if err != nil {
			return err
		}
	}
	var end [16]byte
	binary.BigEndian.PutUint64(end[:8], uint64(files))
	binary.BigEndian.PutUint64(end[8:], uint64(sw.n))
	return writeRecord(w, recEnd, "", end[:])
}

func writeFileRecords(w io.Writer, name, path string, buf []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	kind := byte(recFile)
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 || kind == recFile {
			if werr := writeRecord(w, kind, name, buf[:n]); werr != nil {
				return werr
			}
			kind, name = recFileMore, ""
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

// writeBackupFile writes a backup file atomically: the payload fill writes is sealed (with
// a passphrase) and given its trailer, the file is read back whole and verified, and only
// then takes its name. A failed or unverifiable backup leaves nothing under path.
func writeBackupFile(path string, passphrase []byte, fill func(w io.Writer) error) (files, storeBytes int64, err error) {
	err = atomicfile.WriteChecked(path, 0o600, func(out io.Writer) error {
		buf := bufio.NewWriterSize(out, 1<<20)
		bw, err := newBackupWriter(buf, passphrase)
		if err != nil {
			return err
		}
		if err := fill(bw); err != nil {
			return err
		}
		if err := bw.Close(); err != nil {
			return err
		}
		return buf.Flush()
	}, func(r io.ReaderAt, size int64) error {
		files, storeBytes, err = verifyBackup(r, size, passphrase)
		if err != nil {
			return fmt.Errorf("verifying what was written: %w", err)
		}
		return nil
	})
	return files, storeBytes, err
}

// copyPayload copies a payload from src to dst, checking its records as they pass; a
// stream without its end record is an error.
func copyPayload(dst io.Writer, src io.Reader) error {
	pr := newPayloadReader(io.TeeReader(src, dst))
	for {
		if _, err := pr.next(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// readPassphrase reads the first line of a passphrase file. The passphrase itself never
// appears in an error or a log.
func readPassphrase(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("passphrase file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4097))
	if err != nil {
		return nil, fmt.Errorf("passphrase file %s: %w", path, err)
	}
	if len(b) > 4096 {
		return nil, fmt.Errorf("passphrase file %s: longer than 4096 bytes", path)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if len(line) < minPassphrase {
		return nil, fmt.Errorf("passphrase file %s: the passphrase (its first line) must have at least %d characters", path, minPassphrase)
	}
	return []byte(line), nil
}

// errClearSecrets refuses a backup that would hold the master key in clear by default.
var errClearSecrets = errors.New("a backup holds the master key that opens every SIP password and PIN: " +
	"give --passphrase-file FILE to encrypt it, or --plaintext to write it in clear")

// backupPassphrase reads the passphrase of a backup being written: nil for --plaintext.
func backupPassphrase(passFile string, plaintext bool) ([]byte, error) {
	switch {
	case passFile != "" && plaintext:
		return nil, fmt.Errorf("%w: --passphrase-file and --plaintext exclude each other", errUsage)
	case passFile != "":
		return readPassphrase(passFile)
	case plaintext:
		return nil, nil
	}
	return nil, errClearSecrets
}

func backupCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataDirFlag(fs)
	passFile := fs.String("passphrase-file", "", "encrypt the backup with the passphrase on this file's first line")
	plaintext := fs.Bool("plaintext", false, "write the backup unencrypted (the master key in clear)")
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	pass, err := backupPassphrase(*passFile, *plaintext)
	if err != nil {
		return err
	}
	dir, err := dataDir()
	if err != nil {
		return err
	}
	src, done, err := payloadSource(dir)
	if err != nil {
		return err
	}
	files, storeBytes, err := writeBackupFile(file, pass, func(w io.Writer) error { return copyPayload(w, src) })
	if derr := done(); err == nil {
		err = derr
	}
	if err != nil {
		return fmt.Errorf("backup not written: %w", err)
	}
	how := "encrypted"
	if pass == nil {
		how = "NOT encrypted: it holds the master key in clear"
	}
	fmt.Fprintf(stdout, "backup written to %s (store %d bytes, %d files; %s)\n", file, storeBytes, files, how)
	return nil
}

// payloadSource reads a payload from a running serve (through the control socket), or
// from the store itself when no serve holds it.
func payloadSource(dir string) (io.Reader, func() error, error) {
	if c, ok := dialControl(dir); ok {
		if _, err := io.WriteString(c, "backup\n"); err != nil {
			c.Close()
			return nil, nil, err
		}
		r := bufio.NewReader(c)
		if err := readControlStatus(r); err != nil {
			c.Close()
			return nil, nil, fmt.Errorf("online backup: %w", err)
		}
		return r, c.Close, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "db")); err != nil {
		return nil, nil, fmt.Errorf("--data %s: no store there", dir)
	}
	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		return nil, nil, err
	}
	pr, pw := io.Pipe()
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		pw.CloseWithError(writePayload(pw, dir, st))
	}()
	return pr, func() error {
		pr.Close() // unblocks the writer if the reader stopped early
		<-finished
		return st.Close()
	}, nil
}

func verifyBackupCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify-backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	passFile := fs.String("passphrase-file", "", "the passphrase of an encrypted backup")
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	var pass []byte
	if *passFile != "" {
		if pass, err = readPassphrase(*passFile); err != nil {
			return err
		}
	}
	f, size, err := openSized(file)
	if err != nil {
		return err
	}
	defer f.Close()
	files, storeBytes, err := verifyBackup(f, size, pass)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprintf(stdout, "%s: complete (store %d bytes, %d files)\n", file, storeBytes, files)
	return nil
}

func openSized(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

func restoreCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "empty data directory to restore into (required)")
	passFile := fs.String("passphrase-file", "", "the passphrase of an encrypted backup")
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	if *data == "" {
		return fmt.Errorf("%w: restore needs --data DIR", errUsage)
	}
	var pass []byte
	if *passFile != "" {
		if pass, err = readPassphrase(*passFile); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(*data)
	if err == nil && len(entries) > 0 {
		return fmt.Errorf("--data %s: not empty; restore only into an empty directory", *data)
	}
	existed := err == nil
	f, size, err := openSized(file)
	if err != nil {
		return err
	}
	defer f.Close()
	// The whole file is checked before anything is written.
	if _, _, err := verifyBackup(f, size, pass); err != nil {
		return fmt.Errorf("%s: %w; nothing restored", file, err)
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return err
	}
	if err := restorePayload(f, size, pass, *data); err != nil {
		// Take back what was written: the directory was empty.
		if existed {
			left, _ := os.ReadDir(*data)
			for _, e := range left {
				os.RemoveAll(filepath.Join(*data, e.Name()))
			}
		} else {
			os.RemoveAll(*data)
		}
		return fmt.Errorf("restore: %w; nothing restored", err)
	}
	fmt.Fprintf(stdout, "restored %s into %s\n", file, *data)
	return nil
}

// restorePayload writes the key file, loads the store and writes the files.
func restorePayload(r io.ReaderAt, size int64, pass []byte, dir string) error {
	payload, err := openBackup(r, size, pass)
	if err != nil {
		return err
	}
	pr := newPayloadReader(payload)
	rec, err := pr.next()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, store.KeyFileName), 0o600, []byte(hex.EncodeToString(rec.data)+"\n")); err != nil {
		return err
	}
	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		return err
	}
	ss := &storeStream{pr: pr}
	err = st.Restore(ss)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ss.err
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	var out *os.File
	defer func() {
		if out != nil {
			out.Close()
		}
	}()
	for rec := ss.pending; ; {
		switch rec.kind {
		case recFile:
			if out != nil {
				if err := out.Close(); err != nil {
					return err
				}
			}
			path := filepath.Join(dir, filepath.FromSlash(rec.name))
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				return err
			}
			if out, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640); err != nil {
				return err
			}
			fallthrough
		case recFileMore:
			if _, err := out.Write(rec.data); err != nil {
				return err
			}
		case recEnd:
			if out != nil {
				err := out.Close()
				out = nil
				return err
			}
			return nil
		}
		if rec, err = pr.next(); err != nil {
			return err
		}
	}
}

// storeStream reads the store's records as one stream for store.Restore and keeps the
// record that follows them.
type storeStream struct {
	pr      *payloadReader
	cur     []byte
	pending record
	err     error
	done    bool
}

func (s *storeStream) Read(p []byte) (int, error) {
	for len(s.cur) == 0 {
		if s.done {
			return 0, io.EOF
		}
		rec, err := s.pr.next()
		if err != nil {
			s.err, s.done = err, true
			return 0, err
		}
		if rec.kind != recStore {
			rec.data = append([]byte(nil), rec.data...)
			s.pending, s.done = rec, true
			return 0, io.EOF
		}
		s.cur = rec.data
	}
	n := copy(p, s.cur)
	s.cur = s.cur[n:]
	return n, nil
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
