package ldapdir

import "time"

// start begins timing an operation for Options.Observe (the zero time when nobody
// observes, so an unobserved server reads no clock).
func (c *conn) start() time.Time {
	if c.srv.opts.Observe == nil {
		return time.Time{}
	}
	c.code = -1
	return time.Now()
}

// observe reports the operation begun at start with the result code it answered.
func (c *conn) observe(op string, start time.Time) {
	if c.srv.opts.Observe != nil {
		c.srv.opts.Observe(op, c.code, time.Since(start))
	}
}
