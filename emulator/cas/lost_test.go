package cas

import (
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

// TestLostUploadAnswer: the upload took effect but its answer was lost; a
// retry under the same name is refused NameRepeat (the certificate exists),
// and reads are never given a lost answer.
func TestLostUploadAnswer(t *testing.T) {
	inj := faults.New(5)
	inj.Set(faults.Rule{LostRate: 1})
	s, err := New(Options{Faults: inj})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s, "cn-hangzhou")
	c.SetReadTimeout(300 * time.Millisecond)
	p := certstest.SelfSigned(t, certstest.Options{KeyType: certstest.ECDSA})
	if _, err := upload(c, "lost", p); err == nil {
		t.Fatal("the upload answered although its answer was to be lost")
	}
	if got := s.Dump(); len(got) != 1 || got[0].Name != "lost" {
		t.Fatalf("after a lost answer the store holds %+v", got)
	}
	inj.Set(faults.Rule{})
	if _, err := upload(c, "lost", p); code(err) != CodeNameExists {
		t.Fatalf("retry: %v", err)
	}
	if IsWrite("ListUserCertificateOrder") || IsWrite("GetUserCertificateDetail") || !IsWrite("DeleteUserCertificate") {
		t.Fatal("IsWrite")
	}
}
