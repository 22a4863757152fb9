package faults

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pause"
)

// MaxHold caps how long Hold keeps a "timed out" request open when the
// client never gives up.
const MaxHold = 30 * time.Second

// Sleep waits d or until ctx is done; it reports whether the full delay
// elapsed. No delay (d <= 0) is always complete, even for a client already
// gone: a decision without latency goes on to its fault or to the action.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	return pause.For(ctx, d)
}

// Hold keeps a request open without answering until the client goes away
// (ctx done) or max elapses (max <= 0 means MaxHold).
func Hold(ctx context.Context, max time.Duration) {
	if max <= 0 {
		max = MaxHold
	}
	Sleep(ctx, max)
}

// Reset hijacks the connection behind w and closes it abruptly (TCP RST
// where possible), so the client sees "connection reset by peer" or EOF.
// before, when not nil, runs once the connection is taken and before it is
// closed: an emulator logs the request there, so that a client that has
// seen the reset also finds the request in the log. It reports whether the
// hijack worked; if not, the caller should answer with an error status
// instead (before has not run).
func Reset(w http.ResponseWriter, before func()) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return false
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	if before != nil {
		before()
	}
	_ = conn.Close()
	return true
}
