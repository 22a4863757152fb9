// Package pairs is the certificate bucket's pair layout: which object keys
// hold a pair, how a pair is listed and loaded, and its deploy.yaml.
//
// Layout under a prefix (CERT_PREFIX, "certs/" by default), for a pair
// named <name>:
//
//	certs/<name>/fullchain.pem | cert.pem | <name>.crt   the certificate chain
//	certs/<name>/privkey.pem   | key.pem  | <name>.key   the private key
//	certs/<name>/deploy.yaml                             optional targets (Deploy)
//	certs/<name>.pem                                     chain and key in one file
//
// The folder wins over the bundle when it holds either half. FileKeys lists
// every key the layout accepts (s.yaml's OSS triggers are checked against
// it); ParseKey says which pair a key belongs to.
//
// API summary:
//
//	refs, err := pairs.List(ctx, objs, bucket, "certs/")                 // pairs stored in the bucket
//	b, err := pairs.Load(ctx, objs, bucket, "certs/", "www", now, certs.Options{MinValidDays: 7})
//	b, ref, err := pairs.LoadLayout(ctx, objs, bucket, "certs/", "www", pairs.LayoutDir, now, opts)
//	d, err := pairs.LoadDeploy(ctx, objs, bucket, ref.DeployKey)         // deploy.yaml
//	ref, ok := pairs.ParseKey("certs/", "certs/www/fullchain.pem")       // which pair an object key belongs to
//
// The store is the small interface ObjectReader (Get with a size cap,
// ListKeys); *aliyun.OSS satisfies it directly. Every object is read with
// the cap certs.MaxObjectSize. A missing half is an error that Is
// ErrIncomplete; a refused pair, an oversized object or an invalid
// deploy.yaml is a *certs.Error naming the object (apierr.ErrInvalid:
// permanent); other store errors are returned wrapped, so a transient one
// still Is apierr.ErrTransient.
package pairs
