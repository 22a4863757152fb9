package reliability

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// TestReliabilityBadInputsNoWrites drops every file of the certs bad-input
// corpus (shared/certs/testdata/bad) into the bucket, as a bundle and as
// either half of a directory pair, next to a valid fleet, plus malformed
// rotation requests; each must end with a clear reason (rejected, or
// waiting for a missing half) and zero SLB writes.
func TestReliabilityBadInputsNoWrites(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "shared", "certs", "testdata", "bad", "*"))
	if err != nil || len(files) == 0 {
		t.Skip("shared/certs/testdata/bad not found (run from the repository)")
	}
	e := startEnv(t, 1, "certs-bad-inputs")
	f := seedFleet(t, e)
	r := e.rotator(e.SLB)
	good := f.newPair
	kinds := 0
	check := func(name string, req rotation.Request) {
		t.Helper()
		before := len(e.Cloud.SLB.Requests())
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res, err := r.Rotate(ctx, time.Now(), req)
		recordResult(e, res, err)
		kinds++
		if err != nil {
			t.Errorf("%s: error %v, want a permanent refusal (no FC retry)", name, err)
		}
		if res.Status != rotation.StatusRejected && res.Status != rotation.StatusWaiting && res.Status != rotation.StatusIgnored {
			t.Errorf("%s: status %s, want rejected/waiting/ignored", name, res.Status)
		}
		if strings.TrimSpace(res.Reason) == "" {
			t.Errorf("%s: status %s without a reason", name, res.Status)
		}
		if w := writes(e.Cloud.SLB.Requests()[before:]); len(w) > 0 {
			t.Errorf("%s: %d SLB writes %v, want none", name, len(w), w)
		}
	}
	for i, p := range files {
		data, err := os.ReadFile(p)
		must(t, err)
		base := filepath.Base(p)
		e.seen.secrets(data)
		// As a bundle.
		key := fmt.Sprintf("certs/bad%02d.pem", i)
		must(t, e.Cloud.OSS.PutObject(e.Bucket, key, data))
		check("bundle "+base, rotation.Request{Bucket: e.Bucket, Key: key})
		// As the certificate half with a good key, and as the key half
		// with a good certificate.
		name := fmt.Sprintf("badcert%02d", i)
		must(t, e.Cloud.OSS.PutObject(e.Bucket, "certs/"+name+"/privkey.pem", good.KeyPEM))
		must(t, e.Cloud.OSS.PutObject(e.Bucket, "certs/"+name+"/fullchain.pem", data))
		check("fullchain "+base, rotation.Request{Bucket: e.Bucket, Key: "certs/" + name + "/fullchain.pem"})
		name = fmt.Sprintf("badkey%02d", i)
		must(t, e.Cloud.OSS.PutObject(e.Bucket, "certs/"+name+"/fullchain.pem", good.CertPEM))
		must(t, e.Cloud.OSS.PutObject(e.Bucket, "certs/"+name+"/privkey.pem", data))
		check("privkey "+base, rotation.Request{Bucket: e.Bucket, Key: "certs/" + name + "/privkey.pem"})
	}
	// Malformed requests and keys.
	for _, tc := range []struct {
		name string
		req  rotation.Request
	}{
		{"no key nor name", rotation.Request{Bucket: e.Bucket}},
		{"name with a slash", rotation.Request{Bucket: e.Bucket, Name: "a/b"}},
		{"name ..", rotation.Request{Bucket: e.Bucket, Name: ".."}},
		{"missing pair", rotation.Request{Bucket: e.Bucket, Name: "nothing-here"}},
		{"key outside the prefix", rotation.Request{Bucket: e.Bucket, Key: "other/www.pem"}},
		{"other bucket", rotation.Request{Bucket: "someone-elses", Key: "certs/www.pem"}},
		{"deeper folder", rotation.Request{Bucket: e.Bucket, Key: "certs/a/b/fullchain.pem"}},
		{"not a pair file", rotation.Request{Bucket: e.Bucket, Key: "certs/www/readme.txt"}},
	} {
		check(tc.name, tc.req)
	}
	if kinds < 25 {
		t.Errorf("only %d bad inputs checked, want at least 25", kinds)
	}
	t.Logf("%d bad inputs (%d corpus files x 3 placements + malformed requests): zero writes", kinds, len(files))
	checkNoLeaks(t, e.seen, e.Creds.AccessKeySecret)
}

// TestReliabilityDuplicateConcurrentReorderedEvents delivers the two halves
// of a pair in reverse order, each event twice and concurrently (FC's
// at-least-once delivery and retries), as separate rotations: exactly one
// upload per region, and the fleet ends on the new pair.
func TestReliabilityDuplicateConcurrentReorderedEvents(t *testing.T) {
	e := startEnv(t, 2, "certs-dup-events")
	f := seedFleet(t, e)
	// Key half first (reordered), then the certificate.
	must(t, e.Cloud.OSS.PutObject(e.Bucket, "certs/www/privkey.pem", f.newPair.KeyPEM))
	must(t, e.Cloud.OSS.PutObject(e.Bucket, "certs/www/fullchain.pem", f.newPair.CertPEM))
	keys := []string{"certs/www/privkey.pem", "certs/www/fullchain.pem", "certs/www/privkey.pem", "certs/www/fullchain.pem", "certs/www/fullchain.pem"}
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each delivery is its own invocation with its own adapters.
			res, err := e.rotator(e.SLB).Rotate(context.Background(), time.Now(), rotation.Request{Bucket: e.Bucket, Key: k})
			recordResult(e, res, err)
			if err != nil || (res.Status != rotation.StatusRotated && res.Status != rotation.StatusUnchanged) {
				t.Errorf("event %s: status %s err %v", k, res.Status, err)
			}
		}()
	}
	wg.Wait()
	ups := uploadsByFingerprint(e.Cloud.SLB.Requests())
	for _, region := range suiteRegions {
		if n := ups[region+" "+f.newPair.FingerprintSHA1]; n != 1 {
			t.Errorf("%s: %d uploads of the new pair, want exactly 1 (all uploads: %v)", region, n, ups)
		}
	}
	checkInvariants(t, e, f, "after duplicate events")
	checkNoOrphans(t, e, f)
	checkNoLeaks(t, e.seen, e.Creds.AccessKeySecret)
}
