package oss

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	sdk "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// Every write of the OSS emulator, its answer lost after it took effect: the
// real SDK sees the failure while the bucket has changed.
func TestLostAnswerAfterWriteApplied(t *testing.T) {
	kinds := []struct {
		name  string
		fault Fault
	}{
		{"500", Fault{ServerError: true, Status: 500}},
		{"503", Fault{ServerError: true, Status: 503}},
		{"timeout", Fault{Timeout: true}},
		{"reset", Fault{Reset: true}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			var mu sync.Mutex
			var after []string
			lose := true
			setLose := func(v bool) { mu.Lock(); lose = v; mu.Unlock() }
			f := newFixture(t, Options{FaultsAfter: func(action string) Fault {
				mu.Lock()
				defer mu.Unlock()
				after = append(after, action)
				if !lose {
					return Fault{}
				}
				return k.fault
			}})
			b := f.bucket(t, clientKinds[2], sdk.Timeout(5, 1))
			b.Client.Config.RetryTimes = 0

			if err := b.PutObject("locks/a.lock", strings.NewReader("one"), sdk.ForbidOverWrite(true)); err == nil {
				t.Fatal("PutObject answered although its answer was to be lost")
			}
			if data, ok := f.srv.Object(testBucket, "locks/a.lock"); !ok || string(data) != "one" {
				t.Fatalf("after a lost PutObject answer the object is %q (exists %v), want it written", data, ok)
			}
			if len(f.Events()) != 1 {
				t.Fatalf("events %+v, want the write's one event", f.Events())
			}
			// The retry of the lost forbid-overwrite put is refused (and, refused,
			// keeps its own answer): the
			// object it created is there.
			setLose(false)
			err := b.PutObject("locks/a.lock", strings.NewReader("two"), sdk.ForbidOverWrite(true))
			wantCode(t, err, http.StatusConflict, "FileAlreadyExists")
			setLose(true)

			if err := b.PutObjectTagging("locks/a.lock", sdk.Tagging{Tags: []sdk.Tag{{Key: "k", Value: "v"}}}); err == nil {
				t.Fatal("PutObjectTagging answered although its answer was to be lost")
			}
			if err := b.DeleteObject("locks/a.lock"); err == nil {
				t.Fatal("DeleteObject answered although its answer was to be lost")
			}
			if _, ok := f.srv.Object(testBucket, "locks/a.lock"); ok {
				t.Fatal("after a lost DeleteObject answer the object is still there")
			}
			// Reads are never consulted.
			if _, err := b.GetObject("missing"); err == nil || !isNoSuchKey(err) {
				t.Fatalf("GetObject: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(after, ",") != "oss:PutObject,oss:PutObjectTagging,oss:DeleteObject" {
				t.Fatalf("FaultsAfter consulted for %v", after)
			}
		})
	}
}

// A refused write keeps its own answer: nothing was applied.
func TestLostAnswerOnlyAfterSuccess(t *testing.T) {
	f := newFixture(t, Options{FaultsAfter: func(string) Fault { return Fault{ServerError: true, Status: 500} }})
	f.srv.PutObject(testBucket, "k", []byte("v"))
	b := f.bucket(t, clientKinds[0], sdk.Timeout(5, 2))
	err := b.PutObject("k", strings.NewReader("w"), sdk.ForbidOverWrite(true))
	wantCode(t, err, http.StatusConflict, "FileAlreadyExists")
}

func isNoSuchKey(err error) bool {
	var se sdk.ServiceError
	return errors.As(err, &se) && se.Code == "NoSuchKey"
}

// A write whose answer is lost by a reset is in the request log by the time
// the client sees the reset (a test counting the log right after the error
// finds it).
func TestResetRequestLoggedBeforeTheClientSeesIt(t *testing.T) {
	f := newFixture(t, Options{FaultsAfter: func(string) Fault { return Fault{Reset: true} }})
	b := f.bucket(t, clientKinds[2], sdk.Timeout(5, 1))
	b.Client.Config.RetryTimes = 0
	for i := range 200 {
		if err := b.PutObject("k", strings.NewReader("v")); err == nil {
			t.Fatal("PutObject answered although its answer was to be lost")
		}
		puts := 0
		for _, r := range f.srv.Requests() {
			if r.Action == "oss:PutObject" {
				puts++
			}
		}
		if puts != i+1 {
			t.Fatalf("after %d lost PutObject answers the log holds %d", i+1, puts)
		}
	}
}
