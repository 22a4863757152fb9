// Package lbcert is the certificate side that the ALB and NLB emulators
// share: a listener's default and additional certificates with their
// association states, the asynchronous jobs that change them (a listener is
// Configuring until its job is due, and then the change takes effect or,
// for a failed job, is rolled back), and the live TLS frontends that serve
// what is in effect, additional certificates chosen by SNI.
//
// Jobs complete lazily: every API call and every handshake first settles
// the jobs due at the emulator's clock, so a handshake tells the truth about
// timing with a fake clock as well as a real one. Nothing here locks; the
// product packages call it under their own mutex.
package lbcert
