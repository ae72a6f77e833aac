package provision

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pin/tftp/v3"

	"github.com/dialtone/dialtone/store"
)

func tftpGet(t *testing.T, addr, name string, blksize int) ([]byte, int64, error) {
	t.Helper()
	c, err := tftp.NewClient(addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetTimeout(2 * time.Second)
	c.SetRetries(2)
	if blksize > 0 {
		c.SetBlockSize(blksize)
	}
	c.RequestTSize(true)
	wt, err := c.Receive(name, "octet")
	if err != nil {
		return nil, 0, err
	}
	size, _ := wt.(tftp.IncomingTransfer).Size()
	var buf bytes.Buffer
	_, err = wt.WriteTo(&buf)
	return buf.Bytes(), size, err
}

func TestTFTPServesWhatHTTPServes(t *testing.T) {
	e := newEnv(t)
	name := e.tenant.ProvisioningToken + "/" + yealinkMAC + ".cfg"
	got, size, err := tftpGet(t, e.tftpAddr, name, 1468)
	if err != nil {
		t.Fatal(err)
	}
	if size != int64(len(got)) || len(got) == 0 {
		t.Fatalf("tsize %d, got %d bytes", size, len(got))
	}
	// Over TFTP the phone sends no User-Agent; the record decides.
	_, body, _ := get(t, e.httpURL+"/p/"+name, "")
	if string(got) != body {
		t.Fatalf("TFTP and HTTP differ:\n%s\n---\n%s", got, body)
	}
	kv, err := parseYealink(got)
	if err != nil || kv["account.1.user_name"] != "201" {
		t.Fatalf("%v %q", err, kv["account.1.user_name"])
	}
	// Bare names are tenant default's, once it allows them (TestTFTPBareNamesSetting).
	setTenant(t, e.st, "default", func(t *store.Tenant) { t.TFTPBareNames = true })
	if b, _, err := tftpGet(t, e.tftpAddr, "y000000000000.boot", 0); err != nil || !bytes.Contains(b, []byte("tenant default")) {
		t.Fatalf("bare name: %v %s", err, b)
	}
}

func TestTFTPRefusals(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"/etc/passwd", "../" + yealinkMAC + ".cfg", e.tenant.ProvisioningToken + "/../x.cfg",
		"wrongtoken/" + yealinkMAC + ".cfg", "nothing.bin", e.tenant.ProvisioningToken + "/fw/none.rom"} {
		if _, _, err := tftpGet(t, e.tftpAddr, name, 0); err == nil || !strings.Contains(err.Error(), "code: 1") {
			t.Errorf("%s: %v, want file not found", name, err)
		}
	}
	c, _ := tftp.NewClient(e.tftpAddr)
	c.SetTimeout(2 * time.Second)
	c.SetRetries(1)
	_, err := c.Send("upload.cfg", "octet")
	if err == nil || !strings.Contains(err.Error(), "code=2") {
		t.Fatalf("write request: %v, want access violation (2)", err)
	}
}

func TestTFTPFirmwareBlksize(t *testing.T) {
	e := newEnv(t)
	data := bytes.Repeat([]byte("firmware"), 300000) // 2.4 MB
	e.addFirmware(t, "fw.rom", data)
	got, size, err := tftpGet(t, e.tftpAddr, e.tenant.ProvisioningToken+"/fw/fw.rom", 1468)
	if err != nil || !bytes.Equal(got, data) || size != int64(len(data)) {
		t.Fatalf("firmware over TFTP: %v, %d bytes, tsize %d", err, len(got), size)
	}
}

// rawRRQ sends an RRQ with options from a plain UDP socket and returns the
// socket and the server's first answer.
func rawRRQ(t *testing.T, addr, name string, opts ...string) (*net.UDPConn, []byte, *net.UDPAddr) {
	t.Helper()
	return rawRRQFrom(t, net.IPv4(127, 0, 0, 1), addr, name, opts...)
}

// rawRRQFrom is rawRRQ from a socket bound to ip (any of 127.0.0.0/8 on loopback).
func rawRRQFrom(t *testing.T, ip net.IP, addr, name string, opts ...string) (*net.UDPConn, []byte, *net.UDPAddr) {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	pkt := []byte{0, opRRQ}
	for _, s := range append([]string{name, "octet"}, opts...) {
		pkt = append(append(pkt, s...), 0)
	}
	ua, _ := net.ResolveUDPAddr("udp", addr)
	c.WriteToUDP(pkt, ua)
	buf := make([]byte, 2048)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, from, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatal(err)
	}
	return c, buf[:n], from
}

func TestTFTPWindowsizeAndTimeout(t *testing.T) {
	e := newEnv(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1000) // 16000 bytes: 32 blocks of 512 (+ empty last)
	e.addFirmware(t, "w.rom", data)
	c, oack, from := rawRRQ(t, e.tftpAddr, e.tenant.ProvisioningToken+"/fw/w.rom", "windowsize", "4", "timeout", "3", "tsize", "0", "bogus", "1")
	if binary.BigEndian.Uint16(oack) != opOACK {
		t.Fatalf("want OACK, got %v", oack[:4])
	}
	o := string(oack[2:])
	for _, want := range []string{"windowsize\x004\x00", "timeout\x003\x00", "tsize\x0016000\x00"} {
		if !strings.Contains(o, want) {
			t.Errorf("OACK %q lacks %q", o, want)
		}
	}
	if strings.Contains(o, "bogus") {
		t.Error("unknown option acknowledged")
	}
	ack := func(n uint16) {
		c.WriteToUDP([]byte{0, opACK, byte(n >> 8), byte(n)}, from)
	}
	ack(0)
	var got []byte
	buf := make([]byte, 2048)
	var block uint16
	for {
		// A window of 4 DATA packets arrives before we acknowledge.
		last := false
		for i := 0; i < 4 && !last; i++ {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("block %d: %v", block+1, err)
			}
			if binary.BigEndian.Uint16(buf) != opDATA || binary.BigEndian.Uint16(buf[2:]) != block+1 {
				t.Fatalf("unexpected packet %v", buf[:4])
			}
			block++
			got = append(got, buf[4:n]...)
			last = n-4 < 512
		}
		ack(block)
		if last {
			break
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("windowed transfer: %d bytes", len(got))
	}
}

func TestTFTPLostBlockResent(t *testing.T) {
	e := newEnv(t)
	data := bytes.Repeat([]byte("z"), 3000)
	e.addFirmware(t, "l.rom", data)
	c, oack, from := rawRRQ(t, e.tftpAddr, e.tenant.ProvisioningToken+"/fw/l.rom", "blksize", "1000", "windowsize", "2")
	if binary.BigEndian.Uint16(oack) != opOACK || !strings.Contains(string(oack), "blksize\x001000") {
		t.Fatalf("OACK %q", oack)
	}
	c.WriteToUDP([]byte{0, opACK, 0, 0}, from)
	buf := make([]byte, 2048)
	read := func() uint16 {
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, _, err := c.ReadFromUDP(buf); err != nil {
			t.Fatal(err)
		}
		return binary.BigEndian.Uint16(buf[2:])
	}
	if read() != 1 || read() != 2 {
		t.Fatal("first window")
	}
	// Pretend block 2 was lost: ACK 1, and the server goes on from block 2 (RFC 7440 §4).
	c.WriteToUDP([]byte{0, opACK, 0, 1}, from)
	if b := read(); b != 2 {
		t.Fatalf("after ACK 1 got block %d, want 2", b)
	}
}

func TestTFTPScanThrottled(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < scanLimit; i++ {
		if _, _, err := tftpGet(t, e.tftpAddr, e.tenant.ProvisioningToken+"/"+hex12(i)+".cfg", 0); err == nil || !strings.Contains(err.Error(), "code: 1") {
			t.Fatalf("unknown MAC %d: %v", i, err)
		}
	}
	_, _, err := tftpGet(t, e.tftpAddr, e.tenant.ProvisioningToken+"/"+hex12(scanLimit)+".cfg", 0)
	if err == nil || !strings.Contains(err.Error(), "too many requests") {
		t.Fatalf("scan not refused: %v", err)
	}
	if _, _, err := tftpGet(t, e.tftpAddr, e.tenant.ProvisioningToken+"/"+yealinkMAC+".cfg", 0); err == nil {
		t.Fatal("blocked address still served")
	}
	// The refusal ends the transfer: no second packet (a transfer of nothing ran into a
	// panic, answered "internal error" from the listening port).
	c, pkt, _ := rawRRQ(t, e.tftpAddr, e.tenant.ProvisioningToken+"/"+yealinkMAC+".cfg")
	if binary.BigEndian.Uint16(pkt) != opERROR || !strings.Contains(string(pkt), "too many requests") {
		t.Fatalf("blocked address: %q", pkt)
	}
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 2048)
	if n, _, err := c.ReadFromUDP(buf); err == nil {
		t.Fatalf("a packet after the refusal: %q", buf[:n])
	}
}

// RFC 2349 lets a client ask a timeout of up to 255 s and the OACK must repeat it
// unchanged, so a server cannot lower it: one over 10 s is left out of the OACK and
// the default wait (2 s) applies — a lost ACK does not hold the transfer for minutes.
func TestTFTPTimeoutOver10sNotHonoured(t *testing.T) {
	e := newEnv(t)
	name := e.tenant.ProvisioningToken + "/" + yealinkMAC + ".cfg"
	c, oack, from := rawRRQ(t, e.tftpAddr, name, "timeout", "255", "tsize", "0")
	if binary.BigEndian.Uint16(oack) != opOACK || strings.Contains(string(oack), "timeout") || !strings.Contains(string(oack), "tsize") {
		t.Fatalf("OACK %q: want tsize and no timeout", oack)
	}
	c.WriteToUDP([]byte{0, opACK, 0, 0}, from)
	buf := make([]byte, 2048)
	read := func() uint16 {
		c.SetReadDeadline(time.Now().Add(2*tftpDefaultWait + time.Second))
		if _, _, err := c.ReadFromUDP(buf); err != nil {
			t.Fatalf("no DATA within twice the default wait: %v", err)
		}
		return binary.BigEndian.Uint16(buf[2:])
	}
	if read() != 1 {
		t.Fatal("first block")
	}
	start := time.Now()
	if read() != 1 { // not acknowledged: sent again after the default wait
		t.Fatal("resent block")
	}
	if d := time.Since(start); d > tftpDefaultWait+time.Second {
		t.Fatalf("block resent after %v", d)
	}
	_, oack, _ = rawRRQ(t, e.tftpAddr, name, "timeout", "10")
	if !strings.Contains(string(oack), "timeout\x0010\x00") {
		t.Fatalf("OACK %q: a 10 s timeout is honoured", oack)
	}
}

// One source runs at most tftpPerSource transfers at once; the next is refused with
// an ERROR that says why, while another source is served.
func TestTFTPTransfersPerSource(t *testing.T) {
	e := newEnv(t)
	name := e.tenant.ProvisioningToken + "/" + yealinkMAC + ".cfg"
	for i := range tftpPerSource {
		// Never acknowledged: each holds its transfer open.
		if _, first, _ := rawRRQ(t, e.tftpAddr, name); binary.BigEndian.Uint16(first) != opDATA {
			t.Fatalf("transfer %d: %q", i+1, first)
		}
	}
	_, first, _ := rawRRQ(t, e.tftpAddr, name)
	if binary.BigEndian.Uint16(first) != opERROR || !strings.Contains(string(first), "too many transfers from your address") {
		t.Fatalf("transfer %d from one source: %q, want an ERROR", tftpPerSource+1, first)
	}
	if _, first, _ := rawRRQFrom(t, net.IPv4(127, 0, 0, 2), e.tftpAddr, name); binary.BigEndian.Uint16(first) != opDATA {
		t.Fatalf("another source: %q, want DATA", first)
	}
}

// A client that acknowledges every block just before the server would resend it
// cannot hold a transfer longer than its time limit: then it gets an ERROR.
func TestTFTPTransferTimeBounded(t *testing.T) {
	e := newEnv(t)
	p, err := New(Config{Store: e.st, PublicHost: "pbx.example", TFTPTransferTime: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.ServeTFTP(ctx, udp); close(done) }()
	t.Cleanup(func() { cancel(); <-done; udp.Close(); p.Close() })

	c, pkt, from := rawRRQ(t, udp.LocalAddr().String(), e.tenant.ProvisioningToken+"/"+yealinkMAC+".cfg", "blksize", "8", "timeout", "1")
	if binary.BigEndian.Uint16(pkt) != opOACK {
		t.Fatalf("OACK %q", pkt)
	}
	c.WriteToUDP([]byte{0, opACK, 0, 0}, from)
	start := time.Now()
	buf := make([]byte, 2048)
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("no ERROR after %v: %v", time.Since(start), err)
		}
		switch binary.BigEndian.Uint16(buf) {
		case opERROR:
			if !strings.Contains(string(buf[4:n]), "time limit") {
				t.Fatalf("ERROR %q", buf[4:n])
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Fatalf("cut off after %v, limit 1.5s", d)
			}
			return
		case opDATA:
			if n-4 < 8 {
				t.Fatal("the whole file was sent: the pace was not slow enough to test the limit")
			}
			// Acknowledge a block only when it comes the second time (after the 1 s wait).
			block := binary.BigEndian.Uint16(buf[2:])
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("block %d was not sent again: %v", block, err)
			}
			if binary.BigEndian.Uint16(buf) == opERROR && strings.Contains(string(buf[4:n]), "time limit") {
				return
			}
			c.WriteToUDP([]byte{0, opACK, byte(block >> 8), byte(block)}, from)
		}
	}
}
