package provision

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// tftpSender sends one file, window by window.
type tftpSender struct {
	ctx    context.Context // ends the transfer when the server stops
	until  time.Time       // the transfer's time limit
	conn   *net.UDPConn
	peer   netip.AddrPort
	src    io.ReaderAt
	size   int64
	block  int
	window int
	wait   time.Duration
	buf    []byte
	rbuf   [1024]byte
}

// negotiate answers the options it honours with an OACK (RFC 2347 §3) and
// waits for ACK 0; unknown options are left out, as the RFC asks.
func (t *tftpSender) negotiate(opts map[string]string) error {
	oack := []byte{0, opOACK}
	add := func(k, v string) { oack = append(append(append(append(oack, k...), 0), v...), 0) }
	if v, ok := opts["blksize"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 8 && n <= 65464 { // RFC 2348
			t.block = min(n, tftpMaxBlock)
			add("blksize", strconv.Itoa(t.block))
		}
	}
	if v, ok := opts["tsize"]; ok && v == "0" { // RFC 2349: the client asks the size with 0
		add("tsize", strconv.FormatInt(t.size, 10))
	}
	if v, ok := opts["timeout"]; ok {
		// RFC 2349: the OACK's timeout must match the one asked for, so a server
		// cannot lower it; one it will not honour is left out of the OACK (RFC 2347:
		// not an error) and the default wait applies.
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && time.Duration(n)*time.Second <= tftpMaxWait {
			t.wait = time.Duration(n) * time.Second
			add("timeout", strconv.Itoa(n))
		}
	}
	if v, ok := opts["windowsize"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 65535 { // RFC 7440 §3
			t.window = min(n, tftpMaxWindow)
			add("windowsize", strconv.Itoa(t.window))
		}
	}
	t.buf = make([]byte, 4+t.block)
	if len(oack) == 2 {
		return nil
	}
	for try := 0; try < tftpRetries; try++ {
		if _, err := t.conn.WriteToUDPAddrPort(oack, t.peer); err != nil {
			return err
		}
		ack, err := t.readAck()
		if err != nil {
			if isTimeout(err) {
				continue
			}
			return err
		}
		if ack == 0 {
			return nil
		}
	}
	return errors.New("no ACK for OACK")
}

// send transmits every block; a window of blocks goes out before an ACK is
// awaited, and an ACK for an earlier block restarts after it (RFC 7440 §4).
func (t *tftpSender) send() error {
	blocks := t.size/int64(t.block) + 1 // the last block is short, possibly empty
	var next int64 = 1                  // absolute number of the next block to send
	tries := 0
	resend := true
	var end int64
	for next <= blocks {
		if resend {
			end = min(next+int64(t.window)-1, blocks)
			for b := next; b <= end; b++ {
				if err := t.sendBlock(b); err != nil {
					return err
				}
			}
		}
		resend = true
		ack, err := t.readAck()
		if err != nil {
			if isTimeout(err) {
				if tries++; tries >= tftpRetries {
					return errors.New("transfer timed out")
				}
				continue
			}
			return err
		}
		// Block numbers wrap at 65535; map the 16-bit ACK into the window just sent.
		acked := next - 1 + int64(uint16(ack-uint16(next-1)))
		if acked < next-1 || acked > end || acked == next-1 && t.window == 1 {
			// A stale ACK, or a duplicate in lock-step: wait for the right one or the
			// timeout rather than resend (RFC 1123 §4.2.3.1, Sorcerer's Apprentice).
			resend = false
			continue
		}
		tries = 0
		next = acked + 1
	}
	return nil
}

func (t *tftpSender) sendBlock(b int64) error {
	off := (b - 1) * int64(t.block)
	n := 0
	if off < t.size {
		var err error
		n, err = t.src.ReadAt(t.buf[4:4+t.block], off)
		if err != nil && err != io.EOF {
			return err
		}
	}
	binary.BigEndian.PutUint16(t.buf[0:], opDATA)
	binary.BigEndian.PutUint16(t.buf[2:], uint16(b))
	_, err := t.conn.WriteToUDPAddrPort(t.buf[:4+n], t.peer)
	return err
}

// readAck waits for an ACK from the peer's TID; packets from any other port
// get an "unknown transfer ID" error (RFC 1350 §4), an ERROR ends the transfer.
func (t *tftpSender) readAck() (uint16, error) {
	deadline := time.Now().Add(t.wait)
	if t.until.Before(deadline) {
		deadline = t.until
	}
	for {
		if err := t.ctx.Err(); err != nil {
			return 0, err // the server stops
		}
		if !time.Now().Before(t.until) {
			return 0, errTransferTime
		}
		if err := t.conn.SetReadDeadline(deadline); err != nil {
			return 0, err
		}
		n, from, err := t.conn.ReadFromUDPAddrPort(t.rbuf[:])
		if err != nil {
			return 0, err
		}
		if from.Addr().Unmap() != t.peer.Addr().Unmap() || from.Port() != t.peer.Port() {
			sendError(t.conn, from, errUnknownTID, "unknown transfer ID")
			continue
		}
		if n < 4 {
			continue
		}
		switch binary.BigEndian.Uint16(t.rbuf[:]) {
		case opACK:
			return binary.BigEndian.Uint16(t.rbuf[2:]), nil
		case opERROR:
			return 0, errors.New("peer ended the transfer")
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func sendError(conn *net.UDPConn, to netip.AddrPort, code uint16, msg string) {
	b := make([]byte, 0, 5+len(msg))
	b = binary.BigEndian.AppendUint16(b, opERROR)
	b = binary.BigEndian.AppendUint16(b, code)
	b = append(append(b, msg...), 0)
	_, _ = conn.WriteToUDPAddrPort(b, to)
}
