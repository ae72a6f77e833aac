package provision

import (
	"bytes"
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
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
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
}
