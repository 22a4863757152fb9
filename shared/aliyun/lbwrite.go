package aliyun

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pause"
)

// codeListenerBusy is the refusal of a write while the listener is
// Configuring.
const codeListenerBusy = "IncorrectStatus.Listener"

// listenerOps is what differs between ALB and NLB in an asynchronous
// listener write: reading a listener and reading a job.
type listenerOps struct {
	product string
	api     *rpcAPI
	poll    time.Duration
	get     func(ctx context.Context, region, listenerID string) (LBListener, error)
	// job returns a job's status ("" while the service does not know it
	// yet), error code and message.
	job func(ctx context.Context, region, jobID string) (status, code, message string, err error)
	// certs lists a listener's server certificates.
	certs func(ctx context.Context, region, listenerID string) ([]ListenerCertificate, error)
}

// listenerWrite is one asynchronous write on a listener.
type listenerWrite struct {
	action     string
	region     string
	listenerID string
	certID     string
	// send performs the write and returns its JobId.
	send func(cl *sdk.Client) (jobID string, err error)
	// inEffect tells, from an idle listener, whether the change is already
	// in effect (nothing to write, or an earlier attempt whose answer was
	// lost did it).
	inEffect func(ctx context.Context, l LBListener) (bool, error)
	// checkFirst: ask inEffect before the first write too (when it costs
	// no call: the listener read answers it).
	checkFirst bool
	// doneCode is a refusal that says the change is already in effect
	// (associating an associated certificate); it ends the write once
	// inEffect confirms it. "" none.
	doneCode string
}

// run performs w the careful way: it waits until the listener is not
// Configuring, skips the write when the change is in effect, sends it,
// waits out IncorrectStatus.Listener and retries, and waits for the job;
// a job that ends Failed is a *JobError. After an ambiguous failure it
// checks whether the change took effect before writing again. Everything
// happens within ctx.
func (o listenerOps) run(ctx context.Context, w listenerWrite) error {
	if err := checkIdentity(o.product, w.action, w.listenerID, w.certID); err != nil {
		return err
	}
	err := o.attempt(ctx, w)
	var je *JobError
	if err == nil || errors.As(err, &je) {
		return err
	}
	return fmt.Errorf("listener %s (certificate %s): %w", w.listenerID, w.certID, err)
}

// attempt is run after the identity check; its errors name no target.
func (o listenerOps) attempt(ctx context.Context, w listenerWrite) error {
	for {
		l, err := o.waitIdle(ctx, w.region, w.listenerID)
		if err != nil {
			return err
		}
		if w.checkFirst {
			if done, err := w.inEffect(ctx, l); err != nil || done {
				return err
			}
		}
		jobID := ""
		hookDone, err := o.api.callAmbig(ctx, w.region, w.action, func() (bool, error) {
			idle, err := o.waitIdle(ctx, w.region, w.listenerID)
			if err != nil {
				return true, err
			}
			return w.inEffect(ctx, idle)
		}, func(cl *sdk.Client) error {
			id, err := w.send(cl)
			jobID = id
			return err
		})
		switch {
		case isCode(err, codeListenerBusy):
			// Configuring again since the read (another writer): wait and retry.
			if !pause.For(ctx, o.poll) {
				return busyTimeout(ctx, err)
			}
			continue
		case w.doneCode != "" && isCode(err, w.doneCode):
			// Said to be in effect already: believe it only once read.
			if done, rerr := w.inEffect(ctx, l); rerr != nil || !done {
				return errors.Join(err, rerr)
			}
			return nil
		case err != nil || hookDone:
			return err
		}
		return o.waitJob(ctx, w, l, jobID)
	}
}

// busyTimeout reports a listener that stayed Configuring until the ctx
// ended.
func busyTimeout(ctx context.Context, err error) error {
	if ae, ok := err.(*APIError); ok {
		ae.Kind = apierr.ErrTransient
		ae.cause = endCause(ctx)
	}
	return err
}

// endCause is why ctx ended (or is about to: its deadline).
func endCause(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.DeadlineExceeded
}

// waitIdle reads the listener until it is not Configuring.
func (o listenerOps) waitIdle(ctx context.Context, region, listenerID string) (LBListener, error) {
	for {
		l, err := o.get(ctx, region, listenerID)
		if err == nil && l.Status != Configuring {
			return l, nil
		}
		if err != nil && !outOfTime(ctx) {
			return l, err
		}
		if err != nil || !pause.For(ctx, o.poll) {
			return l, &APIError{Service: o.product, Action: "GetListenerAttribute", Region: region, Code: codeListenerBusy,
				Message: "listener " + listenerID + " was still Configuring when the time ran out", Kind: apierr.ErrTransient,
				cause: endCause(ctx)}
		}
	}
}

// waitJob polls the job until it ends; Failed (or the ctx ending first) is
// a *JobError naming the load balancer, listener and certificate.
func (o listenerOps) waitJob(ctx context.Context, w listenerWrite, l LBListener, jobID string) error {
	jerr := &JobError{Product: o.product, Action: w.action, Region: w.region, LoadBalancerID: l.LoadBalancerID,
		ListenerID: w.listenerID, CertificateID: w.certID, JobID: jobID, Status: "Processing"}
	if jobID == "" {
		// No job to follow: the listener returning to Running is the end.
		_, err := o.waitIdle(ctx, w.region, w.listenerID)
		return err
	}
	for {
		if !pause.For(ctx, o.poll) {
			jerr.cause = endCause(ctx)
			return jerr
		}
		status, code, msg, err := o.job(ctx, w.region, jobID)
		if err != nil && outOfTime(ctx) {
			jerr.cause = endCause(ctx)
			return jerr
		}
		if err != nil {
			return err
		}
		switch status {
		case jobSucceeded:
			return nil
		case jobFailed:
			jerr.Status, jerr.Code, jerr.Message = status, code, msg
			return jerr
		}
	}
}

// hasCertificate reports whether id is among the listener's certificates
// in one of the states.
func (o listenerOps) hasCertificate(ctx context.Context, region, listenerID, id string, states ...string) (bool, error) {
	list, err := o.certs(ctx, region, listenerID)
	if err != nil {
		return false, err
	}
	for _, c := range list {
		if c.ID != id || c.Default {
			continue
		}
		for _, s := range states {
			if c.Status == s {
				return true, nil
			}
		}
	}
	return false, nil
}

// assocAssociated is the state of an additional certificate in effect.
const assocAssociated = "Associated"

// setDefault is the write of a listener's default certificate.
func (o listenerOps) setDefault(region, listenerID, certID, action string, send func(cl *sdk.Client) (string, error)) listenerWrite {
	return listenerWrite{action: action, region: region, listenerID: listenerID, certID: certID, send: send, checkFirst: true,
		inEffect: func(_ context.Context, l LBListener) (bool, error) { return l.DefaultCertificate == certID, nil }}
}

// associate is the write adding one additional certificate.
func (o listenerOps) associate(region, listenerID, certID, action string, send func(cl *sdk.Client) (string, error)) listenerWrite {
	return listenerWrite{action: action, region: region, listenerID: listenerID, certID: certID, send: send,
		doneCode: "ResourceAlreadyAssociated.Certificate",
		inEffect: func(ctx context.Context, _ LBListener) (bool, error) {
			return o.hasCertificate(ctx, region, listenerID, certID, assocAssociated)
		}}
}

// dissociate is the write removing one additional certificate.
func (o listenerOps) dissociate(region, listenerID, certID, action string, send func(cl *sdk.Client) (string, error)) listenerWrite {
	return listenerWrite{action: action, region: region, listenerID: listenerID, certID: certID, send: send,
		doneCode: "ResourceNotAssociated.AdditionalCertificate",
		inEffect: func(ctx context.Context, _ LBListener) (bool, error) {
			has, err := o.hasCertificate(ctx, region, listenerID, certID, assocAssociated, "Associating", "Dissociating")
			return !has && err == nil, err
		}}
}
