package provision

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/internal/ratelimit"
)

// A read-only TFTP server (RFC 1350) with option negotiation (RFC 2347):
// blksize (RFC 2348, up to 1468 so a block fits an Ethernet frame), tsize and
// timeout (RFC 2349) and windowsize (RFC 7440). pin/tftp's server is not used:
// it always answers errors with code 1, drops the timeout option and has no
// windowsize; its client is what the tests talk to this server with.
//
// What one client may hold is bounded: a timeout option over 10 s is not honoured
// (RFC 2349 wants the OACK to repeat the value asked, so it cannot be lowered; it is
// left out of the OACK as RFC 2347 §"Negotiation Protocol" allows, and the default
// wait applies), one source runs at most tftpPerSource transfers at once (the next
// gets an ERROR saying so), and a transfer ends with an ERROR when it runs past
// Config.TFTPTransferTime, however promptly it acknowledges.

// TFTP opcodes and error codes (RFC 1350 §5, RFC 2347 §2).
const (
	opRRQ   = 1
	opWRQ   = 2
	opDATA  = 3
	opACK   = 4
	opERROR = 5
	opOACK  = 6

	errNotDefined   = 0
	errFileNotFound = 1
	errAccess       = 2
	errIllegal      = 4
	errUnknownTID   = 5
)

const (
	tftpMaxBlock      = 1468 // RFC 2348: fits 1500-byte Ethernet MTU with IP+UDP headers
	tftpMaxWindow     = 64
	tftpDefaultWait   = 2 * time.Second
	tftpMaxWait       = 10 * time.Second // the longest timeout option honoured
	tftpRetries       = 5
	tftpMaxTransfers  = 2048
	tftpPerSource     = 8 // transfers one source (ratelimit.Source) may run at once
	tftpRequestMaxLen = 1024
	// DefaultTFTPTransferTime bounds one transfer from request to last ACK (when
	// Config.TFTPTransferTime is 0): at 512-byte lock-step blocks and a LAN's
	// round trip, far more than the largest firmware image needs.
	DefaultTFTPTransferTime = 10 * time.Minute
)

// errTransferTime ends a transfer that ran past its time.
var errTransferTime = errors.New("transfer time limit reached")

// ServeTFTP answers read requests arriving on conn until ctx is cancelled;
// each transfer runs from its own port (a new TID, RFC 1350 §4). It returns
// nil when ctx is cancelled.
func (p *Provisioner) ServeTFTP(ctx context.Context, conn *net.UDPConn) error {
	local, _ := netip.AddrFromSlice(conn.LocalAddr().(*net.UDPAddr).IP)
	var wg sync.WaitGroup
	sem := make(chan struct{}, tftpMaxTransfers)
	perSource := ratelimit.NewConns(tftpPerSource)
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 2048)
	for {
		n, peer, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				wg.Wait()
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			wg.Wait()
			return err
		}
		if n < 4 || n > tftpRequestMaxLen {
			continue // not a request: ignore rather than answer garbage
		}
		switch binary.BigEndian.Uint16(buf) {
		case opWRQ:
			// RFC 1350 §7: the server is read-only.
			sendError(conn, peer, errAccess, "access violation: read-only server")
		case opRRQ:
			rq, ok := p.readRRQ(buf[2:n])
			if !ok {
				sendError(conn, peer, errIllegal, "malformed request")
				continue
			}
			if !perSource.Acquire(peer.Addr()) {
				sendError(conn, peer, errNotDefined, fmt.Sprintf("too many transfers from your address: at most %d at once", tftpPerSource))
				continue
			}
			select {
			case sem <- struct{}{}:
			default:
				perSource.Release(peer.Addr())
				sendError(conn, peer, errNotDefined, "server busy")
				continue
			}
			wg.Add(1)
			go func() {
				defer func() { <-sem; perSource.Release(peer.Addr()); wg.Done() }()
				defer crash.RecoverWith(p.log, "tftp", "transfer", func() {
					sendError(conn, peer, errNotDefined, "internal error") // not left waiting
				})
				p.tftpTransfer(ctx, local, peer, rq)
			}()
		}
	}
}

// tftpRequest is a parsed RRQ.
type tftpRequest struct {
	file string
	mode string
	opts map[string]string // lower-case names
}

// readRRQ is parseRRQ with a panic contained: it answers as a malformed request.
func (p *Provisioner) readRRQ(b []byte) (rq tftpRequest, ok bool) {
	defer crash.Recover(p.log, "tftp", "request")
	return parseRRQ(b)
}

// parseRRQ reads filename, mode and options (RFC 2347 §2), all NUL-terminated.
func parseRRQ(b []byte) (tftpRequest, bool) {
	parts := bytes.Split(b, []byte{0})
	if len(parts) < 3 || len(parts[len(parts)-1]) != 0 {
		return tftpRequest{}, false
	}
	parts = parts[:len(parts)-1]
	rq := tftpRequest{file: string(parts[0]), mode: strings.ToLower(string(parts[1])), opts: map[string]string{}}
	if rq.file == "" || (rq.mode != "octet" && rq.mode != "netascii") {
		return tftpRequest{}, false
	}
	rest := parts[2:]
	if len(rest)%2 != 0 {
		return tftpRequest{}, false
	}
	for i := 0; i < len(rest); i += 2 {
		rq.opts[strings.ToLower(string(rest[i]))] = string(rest[i+1])
	}
	return rq, true
}

// splitTFTPName maps "{token}/{path}" to the token's tenant and a bare
// "{file}" (or "fw/{file}", "directory/{vendor}.xml") to tenant "default".
func splitTFTPName(name string) (token, slug, path string, ok bool) {
	if name == "" || name[0] == '/' {
		return "", "", "", false // absolute paths are refused
	}
	first, _, nested := strings.Cut(name, "/")
	if !nested || first == "fw" || first == "directory" {
		if _, rest, ok := splitProvPath("default/" + name); ok {
			return "", "default", rest, true
		}
		return "", "", "", false
	}
	t, rest, ok := splitProvPath(name)
	if !ok {
		return "", "", "", false
	}
	return t, "", rest, true
}

func (p *Provisioner) tftpTransfer(ctx context.Context, local netip.Addr, peer netip.AddrPort, rq tftpRequest) {
	laddr := &net.UDPAddr{}
	if local.IsValid() && !local.IsUnspecified() {
		laddr.IP = local.AsSlice()
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		p.log.Warn("tftp: no transfer socket", "err", err)
		return
	}
	defer conn.Close()
	until := time.Now().Add(p.cfg.TFTPTransferTime)
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()) })
	defer stop()

	token, slug, path, ok := splitTFTPName(rq.file)
	if !ok {
		p.tftpDone(tftpNotFound)
		sendError(conn, peer, errFileNotFound, "file not found")
		return
	}
	res := p.fetch(fetchRequest{Token: token, Slug: slug, Path: path, Addr: peer.Addr().Unmap(), Proto: "tftp"})
	var src io.ReaderAt
	var size int64
	switch {
	case res.Status == 429:
		p.tftpDone(tftpRefused)
		sendError(conn, peer, errNotDefined, "too many requests")
		return
	case res.Status == 403:
		p.tftpDone(tftpRefused)
		msg := res.Message // the device certificate's, else provisioning_https_only's
		if msg == "" {
			msg = httpsOnlyMessage
		}
		sendError(conn, peer, errAccess, msg)
		return
	case res.Status == 401:
		// RFC 1350 §5: TFTP carries no credentials; a file that needs them is refused.
		p.tftpDone(tftpRefused)
		sendError(conn, peer, errAccess, "access violation: fetch this file over HTTP with the phone's credentials")
		return
	case res.Status != 200:
		p.tftpDone(tftpNotFound)
		sendError(conn, peer, errFileNotFound, "file not found")
		return
	case res.FilePath != "":
		f, err := os.Open(res.FilePath)
		if err != nil {
			p.tftpDone(tftpNotFound)
			sendError(conn, peer, errFileNotFound, "file not found")
			return
		}
		defer f.Close()
		src, size = f, res.Size
	default:
		src, size = bytes.NewReader(res.Body), int64(len(res.Body))
	}
	t := &tftpSender{ctx: ctx, until: until, conn: conn, peer: peer, src: src, size: size, block: 512, window: 1, wait: tftpDefaultWait}
	err = t.negotiate(rq.opts)
	if err == nil {
		err = t.send()
	}
	switch {
	case err == nil:
		p.tftpDone(tftpOK)
	case errors.Is(err, errTransferTime):
		p.tftpDone(tftpTimeout)
		sendError(conn, peer, errNotDefined, fmt.Sprintf("%v (%v)", errTransferTime, p.cfg.TFTPTransferTime))
		p.log.Info("tftp transfer cut off", "peer", peer.String(), "file", path, "after", p.cfg.TFTPTransferTime.String())
	default:
		p.tftpDone(tftpFailed)
		if ctx.Err() == nil {
			p.log.Debug("tftp transfer ended", "peer", peer.String(), "file", path, "err", err)
		}
	}
}
