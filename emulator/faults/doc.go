// Package faults is the seeded fault injector shared by the local cloud's
// service emulators (SLB and OSS). A test or benchmark sets rules per action
// (added latency, throttling, 5xx, timeouts, connection resets, a QPS limit);
// each emulator asks Decide before handling a request and acts on the
// Decision. Each emulator also asks DecideAfter once a write action has taken
// effect, and when it answers with a fault (Rule.LostRate) the state change
// stays but the client sees a 5xx, a timeout or a reset: "applied, then the
// answer was lost". The same seed and the same sequence of Decide calls replay the
// same faults, so a failure seen once can be reproduced.
package faults
