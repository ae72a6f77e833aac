package store

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func caPEM(t *testing.T, cn string, from, until time.Time, usage x509.KeyUsage) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: from, NotAfter: until, IsCA: true, BasicConstraintsValid: true, KeyUsage: usage}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestParseDeviceCAs: the checks the API's 400s come from, and a batch's bounds.
func TestParseDeviceCAs(t *testing.T) {
	now := time.Now()
	good := caPEM(t, "Good CA", now.Add(-time.Hour), now.Add(time.Hour), x509.KeyUsageCertSign)
	for _, c := range []struct{ name, pem, msg string }{
		{"not yet valid", caPEM(t, "Future CA", now.Add(time.Hour), now.Add(2*time.Hour), x509.KeyUsageCertSign), "not valid before"},
		{"no certSign", caPEM(t, "Signer", now.Add(-time.Hour), now.Add(time.Hour), x509.KeyUsageDigitalSignature), "keyCertSign"},
		{"other block", "-----BEGIN CERTIFICATE REQUEST-----\naGVsbG8=\n-----END CERTIFICATE REQUEST-----\n", "not a CERTIFICATE"},
		{"too many", strings.Repeat(good, MaxDeviceCAsPerBatch+1), "at most"},
	} {
		_, err := ParseDeviceCAs([]byte(c.pem), now)
		var fe *FieldError
		if err == nil || !strings.Contains(err.Error(), c.msg) || !errors.As(err, &fe) || fe.Field != "pem" {
			t.Errorf("%s: %v, want an invalid pem saying %q", c.name, err, c.msg)
		}
	}
	cas, err := ParseDeviceCAs([]byte(good+"\n"+good), now)
	if err != nil || len(cas) != 1 || cas[0].Subject != "CN=Good CA" {
		t.Fatalf("the same CA twice in one upload: %v %+v", err, cas)
	}
}
