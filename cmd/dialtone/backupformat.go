package main

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

// A backup file (format 2) is a header, a body and a trailer:
//
//	DIALTONE-BACKUP 2\n
//	plain\n   or   scrypt LOGN SALT\n        (SALT: 16 bytes, base64)
//	body: the payload (plain), or the payload sealed in chunks (scrypt)
//	DIALTONE-END LLLLLLLLLLLLLLLL HHHH…HHHH\n
//
// The trailer gives the length of header and body (16 hex digits) and their SHA-256 (64 hex
// digits); a file cut short or changed anywhere fails it. With a passphrase the payload is
// sealed the way age seals a file: scrypt(passphrase, salt, N=2^LOGN, r=8, p=1) gives a
// ChaCha20-Poly1305 key, the payload is cut into 64 KiB chunks, and chunk i is sealed with
// the nonce i (11 bytes, big-endian) followed by 1 for the last chunk and 0 otherwise, and
// the header as additional data (Hoang, Reyhanitabar, Rogaway, Vizár, "Online
// Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", the STREAM construction).
// A dropped, repeated or reordered chunk, a file cut at a chunk boundary, a changed header or
// a wrong passphrase fail to open.
//
// The payload is a sequence of records, kind byte, uvarint name length, name, uvarint data
// length, data:
//
//	K  the master key (32 bytes); first, exactly once
//	S  a piece of BadgerDB's backup stream (the store: users, photos, secrets sealed by K)
//	F  a file under --data: name is its slash path (firmware/…, templates/…), data its start
//	C  more of the file the last F began
//	X  the writer failed; data is why (a serve that fails mid-answer says so)
//	E  the end: 8 bytes file count, 8 bytes store stream length (big-endian)
//
// The same payload travels over the control socket from a running serve; a stream without
// its E record is cut short and no backup.
const (
	backupMagic     = "DIALTONE-BACKUP 2\n"
	backupMagicV1   = "DIALTONE-BACKUP 1\n" // key in clear, no trailer, no files
	backupTrailerID = "DIALTONE-END "
	trailerLen      = len(backupTrailerID) + 16 + 1 + 64 + 1

	scryptLogN    = 16 // N = 2^16: 64 MiB and a fraction of a second per backup
	scryptMinLogN = 15
	scryptMaxLogN = 18 // a hostile header cannot ask for more than 256 MiB
	saltLen       = 16
	sealChunk     = 64 << 10

	maxRecordName = 1024
	maxRecordData = 1 << 20
)

const (
	recKey      = 'K'
	recStore    = 'S'
	recFile     = 'F'
	recFileMore = 'C'
	recFailed   = 'X'
	recEnd      = 'E'
)

// errBackupCorrupt marks every way a backup file fails verification.
var errBackupCorrupt = errors.New("backup damaged or incomplete")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBackupCorrupt, fmt.Sprintf(format, args...))
}

// --- the payload -----------------------------------------------------------------------

type record struct {
	kind byte
	name string
	data []byte
}

func writeRecord(w io.Writer, kind byte, name string, data []byte) error {
	var hdr [1 + 2*binary.MaxVarintLen64]byte
	hdr[0] = kind
	n := 1 + binary.PutUvarint(hdr[1:], uint64(len(name)))
	if _, err := w.Write(hdr[:n]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, name); err != nil {
		return err
	}
	n = binary.PutUvarint(hdr[:], uint64(len(data)))
	if _, err := w.Write(hdr[:n]); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}

// recordWriter cuts a stream into records of one kind (the store's backup stream).
type recordWriter struct {
	w    io.Writer
	kind byte
	n    int64
}

func (rw *recordWriter) Write(p []byte) (int, error) {
	done := 0
	for len(p) > 0 {
		k := min(len(p), maxRecordData)
		if err := writeRecord(rw.w, rw.kind, "", p[:k]); err != nil {
			return done, err
		}
		done += k
		rw.n += int64(k)
		p = p[k:]
	}
	return done, nil
}

// payloadReader reads records and checks their order. It keeps no record's data beyond the
// next call.
type payloadReader struct {
	r       *bufio.Reader
	buf     []byte
	started bool
	ended   bool
	inFile  bool
	files   int64
	storeN  int64
	names   map[string]bool
}

func newPayloadReader(r io.Reader) *payloadReader {
	return &payloadReader{r: bufio.NewReaderSize(r, 64<<10), names: map[string]bool{}}
}

// next returns the next record; after E it returns io.EOF, and bytes after E are an error.
func (p *payloadReader) next() (record, error) {
	if p.ended {
		if _, err := p.r.ReadByte(); err != io.EOF {
			return record{}, corrupt("data after the end record")
		}
		return record{}, io.EOF
	}
	kind, err := p.r.ReadByte()
	if err != nil {
		return record{}, cutShort(err, "cut short (no end record)")
	}
	name, err := p.field(maxRecordName)
	if err != nil {
		return record{}, err
	}
	nameS := string(name)
	data, err := p.field(maxRecordData)
	if err != nil {
		return record{}, err
	}
	rec := record{kind: kind, name: nameS, data: data}
	if kind == recFailed {
		return rec, fmt.Errorf("the backup's writer failed: %s", strings.ToValidUTF8(string(data), "?"))
	}
	if !p.started && kind != recKey {
		return rec, corrupt("does not start with the key")
	}
	switch kind {
	case recKey:
		if p.started || len(data) != 32 {
			return rec, corrupt("bad key record")
		}
		p.started = true
	case recStore:
		if p.files > 0 {
			return rec, corrupt("store data after files")
		}
		p.storeN += int64(len(data))
	case recFile:
		if err := checkBackupPath(nameS); err != nil {
			return rec, err
		}
		if p.names[nameS] {
			return rec, corrupt("file %s twice", nameS)
		}
		p.names[nameS] = true
		p.files++
		p.inFile = true
	case recFileMore:
		if !p.inFile {
			return rec, corrupt("file data without a file")
		}
	case recEnd:
		if len(data) != 16 || int64(binary.BigEndian.Uint64(data)) != p.files || int64(binary.BigEndian.Uint64(data[8:])) != p.storeN {
			return rec, corrupt("end record does not match what came before it")
		}
		p.ended = true
	default:
		return rec, corrupt("unknown record kind %q", kind)
	}
	if kind != recFile && kind != recFileMore {
		p.inFile = false
	}
	return rec, nil
}

func (p *payloadReader) field(limit int) ([]byte, error) {
	n, err := binary.ReadUvarint(p.r)
	if err != nil {
		return nil, cutShort(err, "cut short in a record")
	}
	if n > uint64(limit) {
		return nil, corrupt("record field of %d bytes (at most %d)", n, limit)
	}
	if cap(p.buf) < int(n) {
		p.buf = make([]byte, n)
	}
	b := p.buf[:n]
	if _, err := io.ReadFull(p.r, b); err != nil {
		return nil, cutShort(err, "cut short in a record")
	}
	return b, nil
}

// cutShort names an end of input as a cut; a chunk that does not open keeps its own error.
func cutShort(err error, what string) error {
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return corrupt("%s", what)
	case errors.Is(err, errBackupCorrupt) || errors.Is(err, errWrongPassphrase):
		return err
	}
	return corrupt("%s: %v", what, err)
}

// checkBackupPath accepts only the kinds of files a backup carries: firmware images and
// template overrides, by a plain relative path.
func checkBackupPath(name string) error {
	top, rest, _ := strings.Cut(name, "/")
	if (top != "firmware" && top != "templates") || rest == "" || strings.Contains(name, "\\") {
		return corrupt("file %q outside firmware/ and templates/", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." || strings.ContainsRune(part, 0) {
			return corrupt("file %q: not a plain relative path", name)
		}
	}
	return nil
}

// --- the file: header, body, trailer ------------------------------------------------------

// backupWriter writes the header, takes the payload, and on Close seals the last chunk and
// writes the trailer.
type backupWriter struct {
	out    io.Writer // the file
	sum    hash.Hash
	n      int64
	aead   cipher.AEAD
	ad     []byte
	buf    []byte
	chunk  uint64
	closed bool
}

func newBackupWriter(out io.Writer, passphrase []byte) (*backupWriter, error) {
	bw := &backupWriter{out: out, sum: sha256.New()}
	header := backupMagic + "plain\n"
	if passphrase != nil {
		salt := make([]byte, saltLen)
		if _, err := rand.Read(salt); err != nil {
			return nil, err
		}
		header = fmt.Sprintf("%sscrypt %d %s\n", backupMagic, scryptLogN, base64.RawStdEncoding.EncodeToString(salt))
		aead, err := sealKey(passphrase, salt, scryptLogN)
		if err != nil {
			return nil, err
		}
		bw.aead, bw.ad = aead, []byte(header)
		bw.buf = make([]byte, 0, sealChunk)
	}
	if err := bw.emit([]byte(header)); err != nil {
		return nil, err
	}
	return bw, nil
}

func sealKey(passphrase, salt []byte, logN int) (cipher.AEAD, error) {
	key, err := scrypt.Key(passphrase, salt, 1<<logN, 8, 1, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	return chacha20poly1305.New(key)
}

func chunkNonce(i uint64, last bool) []byte {
	nonce := make([]byte, chacha20poly1305.NonceSize)
	binary.BigEndian.PutUint64(nonce[3:11], i)
	if last {
		nonce[11] = 1
	}
	return nonce
}

func (bw *backupWriter) emit(b []byte) error {
	bw.sum.Write(b)
	bw.n += int64(len(b))
	_, err := bw.out.Write(b)
	return err
}

func (bw *backupWriter) Write(p []byte) (int, error) {
	if bw.aead == nil {
		return len(p), bw.emit(p)
	}
	done := 0
	for len(p) > 0 {
		if len(bw.buf) == sealChunk { // a full chunk with more to come: not the last
			if err := bw.seal(false); err != nil {
				return done, err
			}
		}
		k := copy(bw.buf[len(bw.buf):sealChunk], p)
		bw.buf = bw.buf[:len(bw.buf)+k]
		done += k
		p = p[k:]
	}
	return done, nil
}

func (bw *backupWriter) seal(last bool) error {
	if bw.chunk == 1<<64-1 {
		return errors.New("backup too large to seal")
	}
	sealed := bw.aead.Seal(nil, chunkNonce(bw.chunk, last), bw.buf, bw.ad)
	bw.chunk++
	bw.buf = bw.buf[:0]
	return bw.emit(sealed)
}

// Close seals the last chunk and writes the trailer; it does not close out.
func (bw *backupWriter) Close() error {
	if bw.closed {
		return nil
	}
	bw.closed = true
	if bw.aead != nil {
		if err := bw.seal(true); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(bw.out, "%s%016x %s\n", backupTrailerID, bw.n, hex.EncodeToString(bw.sum.Sum(nil)))
	return err
}

// errNeedPassphrase is a sealed backup opened without a passphrase.
var errNeedPassphrase = errors.New("this backup is encrypted: give its passphrase with --passphrase-file FILE")

// openBackup checks the trailer (length and SHA-256 over the whole file) and the header,
// and returns the payload: opened chunk by chunk when sealed, so a chunk that fails to open
// is an error from the reader.
func openBackup(r io.ReaderAt, size int64, passphrase []byte) (io.Reader, error) {
	if size < int64(len(backupMagic)+trailerLen) {
		return nil, corrupt("too short to be a Dialtone backup")
	}
	var magic [len(backupMagic)]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil || string(magic[:]) != backupMagic {
		if string(magic[:]) == backupMagicV1 {
			return nil, errors.New("a format 1 backup from an older Dialtone: it carries no trailer, so it cannot be verified; restore it with the version that wrote it, then take a new backup")
		}
		return nil, errors.New("not a Dialtone backup (bad header)")
	}
	trailer := make([]byte, trailerLen)
	if _, err := r.ReadAt(trailer, size-int64(trailerLen)); err != nil {
		return nil, err
	}
	body := size - int64(trailerLen)
	lenHex, sumHex, ok := strings.Cut(strings.TrimPrefix(string(trailer), backupTrailerID), " ")
	n, err := strconv.ParseInt(lenHex, 16, 64)
	if !bytes.HasPrefix(trailer, []byte(backupTrailerID)) || !ok || err != nil || len(sumHex) != 65 || sumHex[64] != '\n' {
		return nil, corrupt("no trailer (the file is cut short)")
	}
	if n != body {
		return nil, corrupt("the trailer says %d bytes, the file holds %d", n, body)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, body)); err != nil {
		return nil, err
	}
	if hex.EncodeToString(h.Sum(nil)) != sumHex[:64] {
		return nil, corrupt("SHA-256 does not match the trailer")
	}
	br := bufio.NewReader(io.NewSectionReader(r, int64(len(backupMagic)), body-int64(len(backupMagic))))
	mode, err := br.ReadString('\n')
	if err != nil {
		return nil, corrupt("no mode line")
	}
	headerLen := int64(len(backupMagic) + len(mode))
	payload := io.NewSectionReader(r, headerLen, body-headerLen)
	if mode == "plain\n" {
		return payload, nil
	}
	f := strings.Fields(mode)
	if len(f) != 3 || f[0] != "scrypt" {
		return nil, corrupt("unknown mode %q", strings.TrimSpace(mode))
	}
	logN, err := strconv.Atoi(f[1])
	salt, serr := base64.RawStdEncoding.DecodeString(f[2])
	if err != nil || serr != nil || logN < scryptMinLogN || logN > scryptMaxLogN || len(salt) != saltLen {
		return nil, corrupt("bad scrypt parameters")
	}
	if passphrase == nil {
		return nil, errNeedPassphrase
	}
	aead, err := sealKey(passphrase, salt, logN)
	if err != nil {
		return nil, err
	}
	return &openReader{r: payload, left: payload.Size(), aead: aead, ad: []byte(backupMagic + mode)}, nil
}

// openReader opens sealed chunks in order; the one that ends the body must be the last.
type openReader struct {
	r     io.Reader
	left  int64
	aead  cipher.AEAD
	ad    []byte
	chunk uint64
	plain []byte
	done  bool
	in    []byte
}

var errWrongPassphrase = errors.New("wrong passphrase, or the backup was changed")

func (o *openReader) Read(p []byte) (int, error) {
	for len(o.plain) == 0 {
		if o.done {
			return 0, io.EOF
		}
		size := int64(sealChunk + chacha20poly1305.Overhead)
		if o.left < size {
			size = o.left
		}
		if size < chacha20poly1305.Overhead {
			return 0, corrupt("sealed body cut short")
		}
		if cap(o.in) < int(size) {
			o.in = make([]byte, sealChunk+chacha20poly1305.Overhead)
		}
		in := o.in[:size]
		if _, err := io.ReadFull(o.r, in); err != nil {
			return 0, err
		}
		o.left -= size
		last := o.left == 0
		plain, err := o.aead.Open(in[:0], chunkNonce(o.chunk, last), in, o.ad)
		if err != nil {
			if o.chunk == 0 {
				return 0, errWrongPassphrase
			}
			return 0, corrupt("chunk %d does not open (changed, reordered or cut)", o.chunk)
		}
		o.chunk++
		o.plain, o.done = plain, last
	}
	n := copy(p, o.plain)
	o.plain = o.plain[n:]
	return n, nil
}

// verifyBackup reads a whole backup: trailer, header, every chunk and every record to the
// end record. Nothing is written.
func verifyBackup(r io.ReaderAt, size int64, passphrase []byte) (files int64, storeBytes int64, err error) {
	payload, err := openBackup(r, size, passphrase)
	if err != nil {
		return 0, 0, err
	}
	pr := newPayloadReader(payload)
	for {
		_, err := pr.next()
		if err == io.EOF {
			return pr.files, pr.storeN, nil
		}
		if err != nil {
			return 0, 0, err
		}
	}
}
