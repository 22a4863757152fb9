// Package faults is the seeded fault injector shared by the local cloud's
// service emulators (SLB and OSS). A test or benchmark sets rules per action
// (added latency, throttling, 5xx, timeouts, connection resets, a QPS limit);
// each emulator asks Decide before handling a request and acts on the
// Decision. The same seed and the same sequence of Decide calls replay the
// same faults, so a failure seen once can be reproduced.
package faults
