package sip

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The requests Dialtone sends of its own (the check-sync NOTIFY, a BLF NOTIFY, the
// plug-and-play NOTIFY, the REGISTER to an upstream) each run a sipgo non-INVITE client
// transaction (sip.NewClientTx; RFC 3261 §17.1.2), as the proxy's forwarded requests do,
// over a hop (proxy_hop.go): over UDP the request is retransmitted from T1 doubling up
// to T2 (Timer E, at T2 once a provisional answer came) and given up at Timer F (64×T1);
// over TCP and TLS it is sent once. Answers reach it by Via branch and CSeq method
// (RFC 3261 §17.1.3) through deliverResponse.

// errNoAnswer: the transaction ended without a final answer (Timer F, or the caller's
// tighter bound).
var errNoAnswer = errors.New("no answer (RFC 3261 Timer F)")

// errClosed: the server shut down while the transaction ran.
var errClosed = errors.New("server closed")

// txBound bounds a client transaction more tightly than RFC 3261 does; the zero value
// leaves it to Timer E and Timer F.
type txBound struct {
	sends  int           // the request is sent at most this many times (0: no cap)
	giveUp time.Duration // the transaction is given up after this (0: Timer F)
}

// txConn is a hop as one transaction uses it: past bound.sends, retransmissions are
// not written (the transaction still waits for an answer), and the first write error
// is kept to be told as it was.
type txConn struct {
	*hop
	mu    sync.Mutex
	left  int // sends left; negative: no cap
	first error
}

func (c *txConn) WriteMsg(m sip.Message) error {
	c.mu.Lock()
	if c.left == 0 {
		c.mu.Unlock()
		return nil
	}
	if c.left > 0 {
		c.left--
	}
	c.mu.Unlock()
	err := c.hop.WriteMsg(m)
	if err != nil {
		c.mu.Lock()
		if c.first == nil {
			c.first = err
		}
		c.mu.Unlock()
	}
	return err
}

func (c *txConn) writeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first
}

// request runs one non-INVITE client transaction: msg (a request we wrote, parsed into
// sipgo's model) sent by h, until its final answer, which it returns. It fails when the
// request cannot be sent, with errNoAnswer when no final answer came in time, with
// ctx's error, or errClosed when the server shuts down. A provisional answer is
// absorbed.
func (s *Server) request(ctx context.Context, msg []byte, h *hop, bound txBound) (*sip.Response, error) {
	m, err := s.parser.ParseSIP(msg)
	if err != nil {
		return nil, fmt.Errorf("the request we wrote does not parse: %w", err)
	}
	req, ok := m.(*sip.Request)
	if !ok || req.Via() == nil || req.CSeq() == nil {
		return nil, errors.New("the request we wrote has no Via or CSeq")
	}
	req.SetTransport(h.transport)
	branch, _ := req.Via().Params.Get("branch")
	key := clientKey(branch, req.Method)
	conn := &txConn{hop: h, left: -1}
	if bound.sends > 0 {
		conn.left = bound.sends
	}
	tx := sip.NewClientTx(key, req, conn, s.log)
	s.mu.Lock()
	s.txs[key] = tx
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.txs, key)
		s.mu.Unlock()
		tx.Terminate()
	}()
	if err := tx.Init(); err != nil {
		if werr := conn.writeErr(); werr != nil {
			return nil, werr
		}
		return nil, err
	}
	var giveUp <-chan time.Time
	if bound.giveUp > 0 {
		t := time.NewTimer(bound.giveUp)
		defer t.Stop()
		giveUp = t.C
	}
	for {
		select {
		case res := <-tx.Responses():
			if res.StatusCode >= 200 {
				return res, nil
			}
		case <-tx.Done():
			if errors.Is(tx.Err(), sip.ErrTransactionTransport) {
				if werr := conn.writeErr(); werr != nil {
					return nil, werr
				}
				return nil, tx.Err()
			}
			return nil, errNoAnswer
		case <-giveUp:
			return nil, errNoAnswer
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.done:
			return nil, errClosed
		}
	}
}

// deliverResponse hands a response to the client transaction waiting for it: the
// proxy's, or one of a request we sent.
func (s *Server) deliverResponse(res *sip.Response) {
	via, cseq := res.Via(), res.CSeq()
	if via == nil || cseq == nil {
		return
	}
	if s.deliverProxyResponse(res) {
		return
	}
	branch, _ := via.Params.Get("branch")
	s.mu.Lock()
	tx := s.txs[clientKey(branch, cseq.MethodName)]
	s.mu.Unlock()
	if tx != nil {
		tx.Receive(res)
	}
}
