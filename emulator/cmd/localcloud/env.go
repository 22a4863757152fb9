package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
)

// DefaultEnvFile is where `localcloud start` (and the make targets) write
// the endpoints, and where the client commands look for them.
const DefaultEnvFile = ".localcloud.env"

// cloudEnv is what a client command needs to reach the running local cloud.
type cloudEnv struct {
	OSS, SLB, FC, Bucket, Region string
	AccessKeyID, AccessKeySecret string
}

// loadCloudEnv reads the env file localcloud wrote (export KEY=value lines)
// and fills what it lacks from getenv. A missing file is not an error when
// the environment holds the endpoints (e.g. after `. ./.localcloud.env`).
func loadCloudEnv(path string, getenv func(string) string) (cloudEnv, error) {
	vals := map[string]string{}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export "))
			if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				vals[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
			}
		}
	case !errors.Is(err, os.ErrNotExist):
		return cloudEnv{}, fmt.Errorf("read %s: %w", path, err)
	}
	get := func(k string) string {
		if v, ok := vals[k]; ok {
			return v
		}
		return getenv(k)
	}
	e := cloudEnv{
		OSS: get("OSS_ENDPOINT"), SLB: get("SLB_ENDPOINT"), FC: get("FC_ENDPOINT"),
		Bucket: get("CERT_BUCKET"), Region: get("OSS_REGION"),
		AccessKeyID: get("ALIBABA_CLOUD_ACCESS_KEY_ID"), AccessKeySecret: get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
	}
	var missing []string
	for _, kv := range [][2]string{{"OSS_ENDPOINT", e.OSS}, {"SLB_ENDPOINT", e.SLB}, {"FC_ENDPOINT", e.FC}, {"CERT_BUCKET", e.Bucket},
		{"ALIBABA_CLOUD_ACCESS_KEY_ID", e.AccessKeyID}, {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", e.AccessKeySecret}} {
		if kv[1] == "" {
			missing = append(missing, kv[0])
		}
	}
	if len(missing) > 0 {
		return e, fmt.Errorf("the local cloud's %s are unknown: %s has none and neither has the environment; start it with `make local-up` (or `localcloud start`), or pass -env-file",
			strings.Join(missing, ", "), path)
	}
	if e.Region == "" {
		e.Region = "cn-zhangjiakou"
	}
	return e, nil
}
