package fcrt

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/oss"
)

// OSSEvent is the payload FC delivers to an OSS-triggered function.
type OSSEvent struct {
	Events []OSSEventRecord `json:"events"`
}

// OSSEventRecord is one record of OSSEvent, field for field as FC sends it.
type OSSEventRecord struct {
	EventName         string            `json:"eventName"`
	EventSource       string            `json:"eventSource"`
	EventTime         string            `json:"eventTime"`
	EventVersion      string            `json:"eventVersion"`
	OSS               OSSEventBody      `json:"oss"`
	Region            string            `json:"region"`
	RequestParameters map[string]string `json:"requestParameters"`
	ResponseElements  map[string]string `json:"responseElements"`
	UserIdentity      map[string]string `json:"userIdentity"`
}

// OSSEventBody is the "oss" member of a record.
type OSSEventBody struct {
	Bucket           OSSEventBucket `json:"bucket"`
	Object           OSSEventObject `json:"object"`
	OSSSchemaVersion string         `json:"ossSchemaVersion"`
	RuleID           string         `json:"ruleId"`
}

// OSSEventBucket is the bucket of a record.
type OSSEventBucket struct {
	Arn           string `json:"arn"`
	Name          string `json:"name"`
	OwnerIdentity string `json:"ownerIdentity"`
	VirtualBucket string `json:"virtualBucket"`
}

// OSSEventObject is the object of a record. Key is the raw key; ETag is
// unquoted.
type OSSEventObject struct {
	DeltaSize  int64             `json:"deltaSize"`
	ETag       string            `json:"eTag"`
	Key        string            `json:"key"`
	ObjectMeta map[string]string `json:"objectMeta"`
	Size       int64             `json:"size"`
}

// BuildOSSEvent returns the payload FC delivers for ev through the trigger
// (function, trigger) names.
func BuildOSSEvent(ev oss.ObjectEvent, accountID, function, trigger string) []byte {
	rule := sha1.Sum([]byte(function + "/" + trigger))
	owner := ev.OwnerID
	if owner == "" {
		owner = accountID
	}
	rec := OSSEventRecord{
		EventName:    ev.EventName,
		EventSource:  "acs:oss",
		EventTime:    ev.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
		EventVersion: "1.0",
		OSS: OSSEventBody{
			Bucket: OSSEventBucket{
				Arn:           "acs:oss:" + ev.Region + ":" + owner + ":" + ev.Bucket,
				Name:          ev.Bucket,
				OwnerIdentity: owner,
			},
			Object: OSSEventObject{
				DeltaSize:  ev.DeltaSize,
				ETag:       ev.ETag,
				Key:        ev.Key,
				ObjectMeta: map[string]string{"mimeType": ev.ContentType},
				Size:       ev.Size,
			},
			OSSSchemaVersion: "1.0",
			RuleID:           hex.EncodeToString(rule[:]),
		},
		Region:            ev.Region,
		RequestParameters: map[string]string{"sourceIPAddress": ev.SourceIP},
		ResponseElements:  map[string]string{"requestId": ev.RequestID},
		UserIdentity:      map[string]string{"principalId": owner},
	}
	b, _ := json.Marshal(OSSEvent{Events: []OSSEventRecord{rec}})
	return b
}

// OSSSource is what AttachOSS subscribes to (emulator/oss.Server).
type OSSSource interface {
	OnWrite(func(oss.ObjectEvent))
}

// AttachOSS subscribes to writes of src: every write that matches a
// deployed OSS trigger (bucket, events, prefix, suffix) invokes the
// function asynchronously, shaped by Options.OSS (duplicate, delay,
// reorder).
func (rt *Runtime) AttachOSS(src OSSSource) {
	src.OnWrite(rt.deliverOSS)
}

func (rt *Runtime) deliverOSS(ev oss.ObjectEvent) {
	type target struct{ fn, trigger string }
	var targets []target
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return
	}
	d := rt.opts.OSS
	for _, f := range rt.functions {
		for _, t := range f.spec.Triggers {
			if t.Type == "oss" && matchOSSEvent(t.OSS, ev.Bucket, ev.EventName, ev.Key) {
				targets = append(targets, target{f.spec.Name, t.Name})
			}
		}
	}
	copies := 1
	if d.Duplicate {
		copies = 2
	}
	delays := make([]time.Duration, 0, len(targets)*copies)
	for range len(targets) * copies {
		delay := d.Delay
		if d.Reorder > 0 {
			delay += time.Duration(rt.rnd.Int63n(int64(d.Reorder)))
		}
		delays = append(delays, delay)
	}
	rt.mu.Unlock()
	n := 0
	for _, t := range targets {
		payload := BuildOSSEvent(ev, rt.opts.AccountID, t.fn, t.trigger)
		for range copies {
			rt.invokeAsync(t.fn, payload, delays[n], "oss:"+t.trigger, nil)
			n++
		}
	}
}

// TimerEvent is the payload FC delivers to a timer-triggered function.
type TimerEvent struct {
	TriggerTime string `json:"triggerTime"`
	TriggerName string `json:"triggerName"`
	Payload     string `json:"payload"`
}

// BuildTimerEvent returns the timer payload for trigger at time t.
func BuildTimerEvent(t time.Time, trigger, payload string) []byte {
	b, _ := json.Marshal(TimerEvent{TriggerTime: t.UTC().Format("2006-01-02T15:04:05Z"), TriggerName: trigger, Payload: payload})
	return b
}

// FireTimer fires a timer trigger now. Like FC, the invocation is
// asynchronous (failed attempts are retried); FireTimer waits for its
// final outcome and returns it like Invoke.
func (rt *Runtime) FireTimer(ctx context.Context, function, trigger string) ([]byte, string, error) {
	f, err := rt.function(function)
	if err != nil {
		return nil, "", err
	}
	var tc *TriggerSpec
	for i := range f.spec.Triggers {
		if f.spec.Triggers[i].Name == trigger && f.spec.Triggers[i].Type == "timer" {
			tc = &f.spec.Triggers[i]
		}
	}
	if tc == nil {
		return nil, "", fmt.Errorf("%w: timer %s of %s", ErrNoSuchTrigger, trigger, function)
	}
	if !tc.Timer.Enable {
		return nil, "", fmt.Errorf("%w: timer %s of %s", ErrTriggerDisabled, trigger, function)
	}
	done := make(chan *AsyncRecord, 1)
	payload := BuildTimerEvent(rt.opts.Now(), trigger, tc.Timer.Payload)
	if _, err := rt.invokeAsync(function, payload, 0, "timer:"+trigger, done); err != nil {
		return nil, "", err
	}
	select {
	case rec := <-done:
		rt.mu.Lock()
		res, errType, status := rec.Result, rec.ErrorType, rec.Status
		rt.mu.Unlock()
		if status != "succeeded" && errType == "" {
			return nil, "", fmt.Errorf("fcrt: timer %s of %s: invocation did not complete", trigger, function)
		}
		return res, errType, nil
	case <-ctx.Done():
		return nil, "", fmt.Errorf("fcrt: fire timer %s of %s: %w", trigger, function, ctx.Err())
	}
}
