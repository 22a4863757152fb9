package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"text/tabwriter"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
)

// maxGet bounds `localcloud get` (the bucket holds certificates, keys and
// small reports).
const maxGet = 64 << 20

// ossClient connects to the local cloud's OSS the way the functions do (V4
// signatures, path style).
func ossClient(e cloudEnv) (*aliyun.OSS, error) {
	return aliyun.NewOSS(aliyun.Credentials{AccessKeyID: e.AccessKeyID, AccessKeySecret: e.AccessKeySecret},
		aliyun.OSSOptions{Endpoint: e.OSS, Region: e.Region, V4: true})
}

// bucketCmd runs put, ls, get, rm and drop against the bucket.
// put and drop wait up to wait for the invocations their writes trigger and
// report them.
func bucketCmd(ctx context.Context, cmd string, e cloudEnv, args []string, wait time.Duration, stdout io.Writer) error {
	o, err := ossClient(e)
	if err != nil {
		return err
	}
	switch cmd {
	case "put", "drop":
		var files [][2]string // key, file
		switch {
		case cmd == "put" && len(args) == 2:
			files = [][2]string{{args[0], args[1]}}
		case cmd == "drop" && len(args) == 3:
			// The key first, then the chain: each arrival fires the trigger
			// and the pair rotates once both are there (the first may wait).
			dir := config.DefaultCertPrefix + args[0] + "/"
			files = [][2]string{{dir + "privkey.pem", args[2]}, {dir + "fullchain.pem", args[1]}}
		case cmd == "put":
			return usageErr("put KEY FILE")
		default:
			return usageErr("drop NAME CERT_FILE KEY_FILE")
		}
		before, err := getFCState(ctx, e.FC)
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := putFile(ctx, o, e.Bucket, f[0], f[1], stdout); err != nil {
				return err
			}
		}
		return reportTriggered(ctx, e.FC, len(before.Async), wait, stdout)
	case "ls":
		if len(args) > 1 {
			return usageErr("ls [PREFIX]")
		}
		prefix := ""
		if len(args) == 1 {
			prefix = args[0]
		}
		objs, err := o.List(ctx, e.Bucket, prefix)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, ob := range objs {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", ob.LastModified.UTC().Format(time.RFC3339), ob.Size, ob.Key)
		}
		return tw.Flush()
	case "get":
		if len(args) < 1 || len(args) > 2 {
			return usageErr("get KEY [FILE]")
		}
		data, err := o.Get(ctx, e.Bucket, args[0], maxGet)
		if err != nil {
			return err
		}
		if len(args) == 1 || args[1] == "-" {
			_, err = stdout.Write(data)
			return err
		}
		return os.WriteFile(args[1], data, 0o600)
	case "rm":
		if len(args) != 1 {
			return usageErr("rm KEY")
		}
		if err := o.Delete(ctx, e.Bucket, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed oss://%s/%s\n", e.Bucket, args[0])
		return nil
	}
	return usageErr(cmd)
}

func putFile(ctx context.Context, o *aliyun.OSS, bucket, key, file string, stdout io.Writer) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	ct := "application/octet-stream"
	if ext := path.Ext(key); ext == ".pem" || ext == ".crt" || ext == ".key" {
		ct = "application/x-pem-file"
	}
	if err := o.Put(ctx, bucket, key, data, ct); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "put oss://%s/%s (%d bytes)\n", bucket, key, len(data))
	return nil
}
