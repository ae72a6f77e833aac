//go:build linux && !norawtcp

package rawtcp

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// Listener wraps ln: TCP connections it accepts are *Conn; anything else is
// returned as accepted.
func Listener(ln net.Listener) net.Listener { return listener{ln} }

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c, nil
	}
	return newConn(tc, rc), nil
}

// Conn is a *net.TCPConn whose Read and Write use raw system calls.
type Conn struct {
	*net.TCPConn
	rc syscall.RawConn

	// One Read and one Write at a time (as the net package's own locks
	// allow), so the call's buffer and result can live here: the functions
	// handed to RawConn are made once per connection, not per call.
	rmu    sync.Mutex
	rbuf   []byte
	rn     int
	rerr   syscall.Errno
	readFn func(fd uintptr) bool

	wmu     sync.Mutex
	wbuf    []byte
	wn      int
	werr    syscall.Errno
	writeFn func(fd uintptr) bool
}

func newConn(tc *net.TCPConn, rc syscall.RawConn) *Conn {
	c := &Conn{TCPConn: tc, rc: rc}
	c.readFn = c.read
	c.writeFn = c.write
	return c
}

// read and write are RawConn's callbacks: one call each, false meaning EAGAIN (wait
// for the poller and call again).
func (c *Conn) read(fd uintptr) (done bool) {
	c.rn, c.rerr, done = call(syscall.SYS_READ, fd, c.rbuf)
	return done
}

func (c *Conn) write(fd uintptr) (done bool) {
	c.wn, c.werr, done = call(syscall.SYS_WRITE, fd, c.wbuf)
	return done
}

// call is one read(2) or write(2) of b on the non-blocking socket fd.
func call(trap, fd uintptr, b []byte) (n int, errno syscall.Errno, done bool) {
	for {
		r, _, e := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, 0, false
		}
		return int(r), e, true
	}
}

// maxRW bounds one call, as the net package does (it splits at 1 GiB).
const maxRW = 1 << 30

// Read reads up to len(b) bytes; io.EOF when the peer has closed.
func (c *Conn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.rbuf, c.rn, c.rerr = b[:min(len(b), maxRW)], 0, 0
	err := c.rc.Read(c.readFn)
	c.rbuf = nil
	switch {
	case err != nil:
		return 0, err // already a *net.OpError: deadline, closed
	case c.rerr != 0:
		return 0, c.opError("read", c.rerr)
	case c.rn == 0:
		return 0, io.EOF
	}
	return c.rn, nil
}

// Write writes all of b unless an error or a deadline stops it.
func (c *Conn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	defer func() { c.wbuf = nil }()
	total := 0
	for total < len(b) {
		c.wbuf, c.wn, c.werr = b[total:min(len(b), total+maxRW)], 0, 0
		if err := c.rc.Write(c.writeFn); err != nil {
			return total, err
		}
		if c.werr != 0 {
			return total, c.opError("write", c.werr)
		}
		total += c.wn
	}
	return total, nil
}

func (c *Conn) opError(op string, errno syscall.Errno) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError(op, errno)}
}
