// Package fcrt is the Function Compute 3.0 half of the local cloud. It runs
// built function binaries (bootstrap, using fc-runtime-go-sdk's fc.Start)
// as child processes and speaks the FC runtime API to them
// (FC_RUNTIME_API, GET /2020-11-11/runtime/invocation/next, POST
// .../{id}/response and .../{id}/error), one invocation at a time per
// instance, with the function's timeout as deadline, the STS triple and
// function metadata in the x-fc-* headers. Like FC it scales out: up to
// FunctionSpec.MaxInstances instances (default 3) run at once, a new one
// starting when every running instance is busy; idle instances stay warm.
// Asynchronous invocations (OSS and timer triggers included) run
// concurrently; each instance has its own FC_INSTANCE_ID, reported in
// AsyncRecord.InstanceID and the x-fc-instance-id header of synchronous
// invocations.
//
// On top it offers synchronous and asynchronous invocation (with FC's
// retries of failed asynchronous invocations), OSS triggers fed by
// emulator/oss writes (the event JSON as FC delivers it), timer triggers
// fired on demand, an HTTP control API and a loader for the project's
// Serverless Devs s.yaml.
package fcrt
