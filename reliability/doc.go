// Package reliability is the fault-injection suite of slb-cert-rotator
// (issues 6 and 10). It holds tests only: seeded fault runs of the rotation,
// wired as the functions wire it (the cross-instance lock included),
// against the local cloud (throttling, 5xx, timeouts, connection resets,
// writes applied and then their answer lost, the function killed after the
// upload or after the switch, then FC's retry), the built rotate-on-upload
// on several local-FC instances under the same faults (never two lock
// holders, nothing of ours orphaned),
// real kills of the built rotate-on-upload binary in the local FC (its
// instance SIGKILLed right after an upload or a switch; FC's retry on a
// new instance must finish once the dead holder's lock lease expires),
// duplicate, concurrent and reordered events, a corpus of bad inputs that
// must be refused without a single write, fuzz targets for event decoding,
// and a scan of everything the suite saw for key material and secrets.
//
// The default (`go test ./reliability/...`) is the short form: ten seeded
// fault runs, two real kills and one built-function run. The long form
// runs 200 fault runs, 24 kills and 24 built-function runs:
//
//	RELIABILITY_LONG=1 go test -race -count=1 -run Reliability ./reliability/...
//	go test -race -count=1 -run Reliability ./reliability/... -args -long
//
// See docs/reliability.md for what each test proves and the measured
// results.
package reliability
