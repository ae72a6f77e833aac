package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/dialtone/dialtone/internal/atomicfile"
	"github.com/dialtone/dialtone/internal/ratelimit"
)

// KeyFileName is the file in the data directory that holds the master key. Whoever has the
// store without it can read no SIP password and test no PIN offline.
const KeyFileName = "dialtone.key"

// Secrets seals and hashes secrets with keys derived from the key file.
type Secrets struct {
	aead   cipher.AEAD
	pinKey []byte
	pwKey  []byte
	master []byte

	decoyOnce sync.Once
	decoy     string // a hash of nothing anyone knows (SpendPasswordCheck)

	gate   atomic.Pointer[ratelimit.Gate] // bounds the argon2id hashes running at once
	hashes atomic.Uint64                  // argon2id hashes computed (PasswordHashes)
}

// PasswordPatience is how long a password hash waits for a free slot of the gate before
// the request is told to come back later (ratelimit.ErrBusy).
const PasswordPatience = time.Second

// SetPasswordGate sets how many argon2id hashes may run at once and how long one waits
// for a slot. The default is one per argonThreads cores (one hash keeps that many cores
// busy and holds 64 MiB), at least one, and PasswordPatience.
func (s *Secrets) SetPasswordGate(n int, patience time.Duration) {
	s.gate.Store(ratelimit.NewGate(n, patience))
}

// PasswordGate is the gate argon2id hashes go through.
func (s *Secrets) PasswordGate() *ratelimit.Gate { return s.gate.Load() }

// PasswordHashes is how many argon2id hashes were computed (for metrics and tests).
func (s *Secrets) PasswordHashes() uint64 { return s.hashes.Load() }

func loadSecrets(dir string) (*Secrets, error) {
	var master []byte
	if dir == "" {
		master = randomBytes(32)
	} else {
		path := filepath.Join(dir, KeyFileName)
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			master, err = hex.DecodeString(strings.TrimSpace(string(b)))
			if err != nil || len(master) != 32 {
				return nil, fmt.Errorf("key file %s: not 64 hex digits", path)
			}
		case errors.Is(err, os.ErrNotExist):
			master = randomBytes(32)
			if err := atomicfile.WriteBytes(path, 0o600, []byte(hex.EncodeToString(master)+"\n")); err != nil {
				return nil, fmt.Errorf("key file: %w", err)
			}
		default:
			return nil, fmt.Errorf("key file: %w", err)
		}
	}
	return newSecrets(master)
}

func newSecrets(master []byte) (*Secrets, error) {
	block, err := aes.NewCipher(derive(master, "sip-password-seal"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	s := &Secrets{aead: aead, pinKey: derive(master, "pin-hmac"), pwKey: derive(master, "generated-password-hmac"), master: master}
	s.SetPasswordGate(runtime.GOMAXPROCS(0)/argonThreads, PasswordPatience)
	return s, nil
}

func derive(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Seal encrypts a secret that must be read back (SIP passwords, phonebook passwords).
func (s *Secrets) Seal(plain string) string {
	nonce := randomBytes(s.aead.NonceSize())
	out := s.aead.Seal(nonce, nonce, []byte(plain), nil)
	return base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts what Seal produced.
func (s *Secrets) Open(sealed string) (string, error) {
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", fmt.Errorf("sealed secret: %w", ErrCorrupt)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], nil)
	if err != nil {
		return "", fmt.Errorf("sealed secret (wrong key file?): %w", ErrCorrupt)
	}
	return string(plain), nil
}

// HashPIN is a keyed HMAC of a PIN, bound to its owner so equal PINs hash differently.
// Checking one costs a microsecond; without the key file nothing can be tested offline.
func (s *Secrets) HashPIN(owner, pin string) string {
	m := hmac.New(sha256.New, s.pinKey)
	m.Write([]byte(owner))
	m.Write([]byte{0})
	m.Write([]byte(pin))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckPIN compares in constant time.
func (s *Secrets) CheckPIN(owner, pin, hash string) bool {
	return hash != "" && subtle.ConstantTimeCompare([]byte(s.HashPIN(owner, pin)), []byte(hash)) == 1
}

// Password hashes carry their scheme:
//
//	argon2id$<salt-b64>$<hash-b64>  a password a person chose (slow KDF, RFC 9106)
//	hmac$<hash-hex>                 a generated password of ≥ 120 random bits, for which a
//	                                keyed hash is as strong as a KDF and costs microseconds
//	                                (so a 10,000-row import is not an hour of hashing)
const (
	argonTime    = 1
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

// HashPassword hashes a password a person chose. The hash runs in the password gate: it
// answers ratelimit.ErrBusy (or ctx's error) when no slot freed within the gate's patience.
func (s *Secrets) HashPassword(ctx context.Context, pw string) (string, error) {
	salt := randomBytes(16)
	h, err := s.argon(ctx, "", pw, salt, argonKeyLen)
	if err != nil {
		return "", err
	}
	return "argon2id$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(h), nil
}

// argon runs one argon2id hash in the password gate, on account's share of it (see
// ratelimit.Gate.DoFor). Each hash leaves 64 MiB of garbage, and the collector, paced by
// a heap that held the hashes live, would let several of them pile up before it runs:
// the slot is held until a collection has taken it back, so hashing never holds more
// than the gate's size × 64 MiB.
func (s *Secrets) argon(ctx context.Context, account, pw string, salt []byte, keyLen uint32) ([]byte, error) {
	var h []byte
	err := s.gate.Load().DoFor(ctx, account, func() {
		s.hashes.Add(1)
		h = argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, keyLen)
		runtime.GC()
	})
	return h, err
}

// HashGeneratedPassword hashes a password made by GeneratePassword.
func (s *Secrets) HashGeneratedPassword(pw string) string {
	m := hmac.New(sha256.New, s.pwKey)
	m.Write([]byte(pw))
	return "hmac$" + hex.EncodeToString(m.Sum(nil))
}

// SpendPasswordCheck costs what checking a chosen password costs and matches nothing:
// a login for a name that does not exist takes as long as one for a name that does, so
// timing does not tell which names exist. It goes through the gate like a real check.
func (s *Secrets) SpendPasswordCheck(ctx context.Context, account, pw string) error {
	s.decoyOnce.Do(func() { // once per process, outside the gate
		salt := randomBytes(16)
		h := argon2.IDKey([]byte(GeneratePassword()), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
		s.decoy = "argon2id$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(h)
	})
	_, err := s.CheckPassword(ctx, account, pw, s.decoy)
	return err
}

// CheckPassword verifies pw against a hash of either scheme, in constant time. An
// argon2id hash runs in the password gate on behalf of account (ratelimit.Gate.DoFor: one
// check per account at a time, a second is refused at once), so it may answer
// ratelimit.ErrBusy or ctx's error instead; account "" has no such share.
func (s *Secrets) CheckPassword(ctx context.Context, account, pw, hash string) (bool, error) {
	scheme, rest, _ := strings.Cut(hash, "$")
	switch scheme {
	case "argon2id":
		saltB64, sumB64, ok := strings.Cut(rest, "$")
		if !ok {
			return false, nil
		}
		salt, err1 := base64.RawStdEncoding.DecodeString(saltB64)
		sum, err2 := base64.RawStdEncoding.DecodeString(sumB64)
		if err1 != nil || err2 != nil {
			return false, nil
		}
		h, err := s.argon(ctx, account, pw, salt, uint32(len(sum)))
		if err != nil {
			return false, err
		}
		return subtle.ConstantTimeCompare(h, sum) == 1, nil
	case "hmac":
		return subtle.ConstantTimeCompare([]byte(s.HashGeneratedPassword(pw)), []byte(hash)) == 1, nil
	}
	return false, nil
}

// TokenHash is how session and link tokens are keyed: the store never holds a usable token.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
