// Package reliability is the fault-injection suite of slb-cert-rotator
// (issue 6). It holds tests only: seeded fault runs of the rotation against
// the local cloud (throttling, 5xx, timeouts, connection resets, the
// function killed after the upload or after the switch, then FC's retry),
// real kills of the built rotate-on-upload binary in the local FC (its
// instance SIGKILLed right after an upload or a switch; FC's retry on a
// new instance must finish once the dead holder's lock lease expires),
// duplicate, concurrent and reordered events, a corpus of bad inputs that
// must be refused without a single write, fuzz targets for event decoding,
// and a scan of everything the suite saw for key material and secrets.
//
// The default (`go test ./reliability/...`) is the short form: ten seeded
// fault runs and two real kills. The long form runs at least 200 fault
// runs and 24 kills:
//
//	RELIABILITY_LONG=1 go test -race -count=1 -run Reliability ./reliability/...
//	go test -race -count=1 -run Reliability ./reliability/... -args -long
//
// See docs/reliability.md for what each test proves and the measured
// results.
package reliability
