//go:build linux && !norawtcp

package rawtcp

import (
	"bytes"
	"crypto/rand"
	"errors"
	"github.com/dialtone/dialtone/internal/testkit"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pair accepts one connection through Listener and returns both ends.
func pair(t *testing.T) (server *Conn, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := Listener(ln).Accept()
	if err != nil {
		t.Fatal(err)
	}
	server, ok := c.(*Conn)
	if !ok {
		t.Fatalf("accepted %T, want *Conn", c)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// Large transfers both ways arrive whole: writes that outrun the reader meet
// EAGAIN and wait on the poller, reads wait for data.
func TestLargeTransfersArriveWhole(t *testing.T) {
	t.Parallel()
	server, client := pair(t)
	// Small socket buffers: 8 MiB is then far more than they hold, however soon the
	// reader starts, so the writer meets EAGAIN again and again.
	server.SetWriteBuffer(16 << 10)
	client.(*net.TCPConn).SetReadBuffer(16 << 10)
	data := make([]byte, 8<<20)
	rand.Read(data)
	errc := make(chan error, 1)
	go func() {
		_, err := server.Write(data)
		errc <- err
	}()
	got, err := io.ReadAll(io.LimitReader(client, int64(len(data))))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("server → client: %d of %d bytes, %v", len(got), len(data), err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	go func() { _, err := client.Write(data); errc <- err }()
	got, err = io.ReadAll(io.LimitReader(server, int64(len(data))))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("client → server: %d of %d bytes, %v", len(got), len(data), err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestEOFWhenPeerCloses(t *testing.T) {
	t.Parallel()
	server, client := pair(t)
	client.Write([]byte("bye"))
	client.Close()
	got, err := io.ReadAll(server)
	if err != nil || string(got) != "bye" {
		t.Fatalf("%q, %v", got, err)
	}
	if n, err := server.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("after EOF: %d, %v", n, err)
	}
}

// Deadlines are the poller's, as on any net.Conn: a read with no data times out
// with an error that says so.
func TestReadDeadline(t *testing.T) {
	t.Parallel()
	server, _ := pair(t)
	server.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	start := time.Now()
	_, err := server.Read(make([]byte, 8))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err %v, want a timeout", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("the deadline did not cut the read short")
	}
}

// readWaiting: some goroutine is in a Conn's Read, parked on the runtime's poller.
func readWaiting() bool {
	buf := make([]byte, 1<<20)
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "runtime_pollWait") && strings.Contains(g, "rawtcp.(*Conn).Read") {
			return true
		}
	}
	return false
}

// Not parallel: readWaiting looks at every goroutine, and other tests read too.
func TestCloseUnblocksRead(t *testing.T) {
	server, _ := pair(t)
	errc := make(chan error, 1)
	go func() { _, err := server.Read(make([]byte, 8)); errc <- err }()
	testkit.Eventually(t, 5*time.Second, "the read to wait on the poller", readWaiting)
	server.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("err %v, want net.ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close left the read waiting")
	}
}

// A write to a peer that is gone fails with the system's error, wrapped as the net
// package wraps it.
func TestWriteToResetPeer(t *testing.T) {
	t.Parallel()
	server, client := pair(t)
	client.(*net.TCPConn).SetLinger(0) // close with RST
	client.Close()
	var err error
	testkit.Eventually(t, 5*time.Second, "a write to fail after the reset", func() bool {
		_, err = server.Write(make([]byte, 64<<10))
		return err != nil
	})
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "write" || !(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
		t.Fatalf("err %v, want a write error of ECONNRESET or EPIPE", err)
	}
}

// Files still go out by sendfile through the TCP connection's own ReadFrom.
func TestReadFromFile(t *testing.T) {
	t.Parallel()
	server, client := pair(t)
	data := make([]byte, 1<<20)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "fw.rom")
	os.WriteFile(path, data, 0o600)
	f, _ := os.Open(path)
	defer f.Close()
	go func() { server.ReadFrom(f); server.Close() }()
	got, err := io.ReadAll(client)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("%d of %d bytes, %v", len(got), len(data), err)
	}
}

// The point of the package: a read or write of a request's size costs no allocation.
func TestNoAllocationPerCall(t *testing.T) {
	server, client := pair(t)
	msg, buf := make([]byte, 512), make([]byte, 512)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := server.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(client, buf); err != nil {
			t.Fatal(err)
		}
		client.Write(msg)
		if _, err := io.ReadFull(server, buf); err != nil {
			t.Fatal(err)
		}
	})
	// The client side is a plain net.Conn and allocates nothing either on Linux.
	if allocs != 0 {
		t.Errorf("%v allocations per round trip", allocs)
	}
}

func TestOtherListenersPassThrough(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := net.Dial("unix", filepath.Join(dir, "s")); err == nil {
			c.Close()
		}
	}()
	c, err := Listener(ln).Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*net.UnixConn); !ok {
		t.Fatalf("accepted %T, want the *net.UnixConn untouched", c)
	}
}
