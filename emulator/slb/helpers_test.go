package slb

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	sdkslb "github.com/aliyun/alibaba-cloud-sdk-go/services/slb"
)

const zjk = "cn-zhangjiakou"

var (
	keysOnce         sync.Once
	rsaKeyA, rsaKeyB *rsa.PrivateKey
	ecKey            *ecdsa.PrivateKey
	serial           int64
	serialMu         sync.Mutex
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKeyA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if rsaKeyB, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
}

// pair is a test certificate with its key in several encodings.
type pair struct {
	cert, key string // PEM: certificate, PKCS#1 key
	der       []byte
}

// issue makes a self-signed certificate for names (first = CN) signed by key
// (an *rsa.PrivateKey or *ecdsa.PrivateKey).
func issue(t testing.TB, key any, names ...string) pair {
	t.Helper()
	testKeys(t)
	serialMu.Lock()
	serial++
	sn := serial
	serialMu.Unlock()
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(sn),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Date(2031, 5, 18, 6, 34, 24, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	var pub any
	var keyPEM string
	switch k := key.(type) {
	case *rsa.PrivateKey:
		pub = &k.PublicKey
		keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
		b, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: b}))
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	return pair{cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), key: keyPEM, der: der}
}

func pkcs8(t testing.TB, key any) string {
	b, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}))
}

// env is a server under test behind a real loopback HTTP listener.
type env struct {
	t    *testing.T
	s    *Server
	http *httptest.Server
	host string
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &env{t: t, s: s, http: hs, host: strings.TrimPrefix(hs.URL, "http://")}
}

// client is a real SDK client for region signed with acct (default: the
// plain AK account).
func (e *env) client(region string, acct ...Account) *sdkslb.Client {
	e.t.Helper()
	a := DefaultAccounts()[0]
	if len(acct) > 0 {
		a = acct[0]
	}
	var prov credentials.CredentialsProvider = credentials.NewStaticAKCredentialsProvider(a.AccessKeyID, a.AccessKeySecret)
	if a.SecurityToken != "" {
		prov = credentials.NewStaticSTSCredentialsProvider(a.AccessKeyID, a.AccessKeySecret, a.SecurityToken)
	}
	c, err := sdkslb.NewClientWithOptions(region, sdk.NewConfig(), prov)
	if err != nil {
		e.t.Fatal(err)
	}
	c.Domain = e.host
	return c
}

// code returns the service error code of err ("" for nil, "!other" for a
// non-service error).
func code(err error) string {
	if err == nil {
		return ""
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return "!other: " + err.Error()
}

func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Fatalf("code %q, want %q", got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func itoa(n int) requests.Integer { return requests.NewInteger(n) }

// served dials addr with SNI and returns the SHA-1 fingerprint of the leaf.
func served(t testing.TB, addr string, port int, sni string) (string, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 3 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort(addr, strconv.Itoa(port)),
		&tls.Config{InsecureSkipVerify: true, ServerName: sni})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw), nil
}
