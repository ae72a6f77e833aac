package store

import (
	"crypto/rand"
	"encoding/hex"
	"math/big"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return b
}

const (
	alnum      = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789" // no 0/O, 1/l/I
	lowerAlnum = "abcdefghijkmnpqrstuvwxyz23456789"
)

func randomString(alphabet string, n int) string {
	out := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range out {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("crypto/rand: " + err.Error())
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out)
}

// NewID gives a record id: 12 characters of lower-case letters and digits (60 bits).
func NewID() string { return randomString(lowerAlnum, 12) }

// NewToken gives a bearer or provisioning token: 32 random bytes, hex.
func NewToken() string { return hex.EncodeToString(randomBytes(32)) }

// GeneratePassword gives a login or SIP password: 22 characters from 56 symbols (≈128 bits).
func GeneratePassword() string { return randomString(alnum, 22) }

// NewSIPUsername gives a random SIP user name: it is not the extension, so knowing a
// colleague's extension tells nothing about how to register as them.
func NewSIPUsername() string { return randomString(lowerAlnum, 10) }
