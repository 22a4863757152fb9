package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// dispatch runs a command (the first argument not a flag: start, stop,
// put, ls, get, rm, drop, invoke, listeners, cert, help), else the cloud in
// the foreground with the flags of run.
//
//	localcloud [flags]                 run in the foreground (flags: localcloud -h)
//	localcloud start [-s-yaml s.yaml]  run in the background until `localcloud stop`
//	localcloud stop
//	localcloud put KEY FILE            the bucket: put (fires the OSS triggers), ls, get, rm
//	localcloud ls [PREFIX]
//	localcloud get KEY [FILE]
//	localcloud rm KEY
//	localcloud drop NAME CERT KEY      put certs/NAME/privkey.pem, then certs/NAME/fullchain.pem
//	localcloud invoke FUNCTION [EVENT] run a function; exits 1 unless the result's status is a success
//	localcloud listeners               HTTPS listeners: certificate by API and by TLS handshake
//	localcloud cert DOMAIN DIR         write a test pair (fullchain.pem, privkey.pem) into DIR
//
// The client commands read the endpoints and credentials from -env-file
// (default .localcloud.env, what start writes), else from the environment.
func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return subcommand(args[0], args[1:], stdout, stderr)
	}
	return run(args, stdout, stderr)
}

// errUsage marks a command line that does not fit the command.
var errUsage = errors.New("usage")

func usageErr(synopsis string) error {
	return fmt.Errorf("%w: localcloud %s", errUsage, synopsis)
}

// subcommand runs one of the commands listed in the package doc.
func subcommand(name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("localcloud "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	envFile := fs.String("env-file", DefaultEnvFile, "the endpoints and credentials of the running local cloud (export KEY=value lines; the environment fills what it lacks)")
	var (
		pidFile, logFile, syaml *string
		timeout                 *time.Duration
		region                  *string
		days                    *int
	)
	switch name {
	case "start", "stop":
		pidFile = fs.String("pid-file", DefaultPIDFile, "where start writes the pid of the background cloud")
		logFile = fs.String("log-file", DefaultLogFile, "the background cloud's output, the functions' JSON log lines included")
		timeout = fs.Duration("timeout", 60*time.Second, "how long to wait for the cloud to start (or stop)")
		syaml = fs.String("s-yaml", "", "deploy the functions of this s.yaml (run make build first)")
	case "listeners":
		region = fs.String("region", "cn-zhangjiakou", "region of the load balancers")
	case "cert":
		days = fs.Int("days", 90, "validity of the certificate in days")
	case "put", "drop":
		timeout = fs.Duration("wait", 2*time.Minute, "how long to wait for the invocations the upload triggers")
	case "ls", "get", "rm", "invoke":
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, helpText)
		return 0
	default:
		fmt.Fprintf(stderr, "localcloud: unknown command %q\n%s\n", name, helpText)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var err error
	switch name {
	case "start":
		var serveArgs []string
		if *syaml != "" {
			serveArgs = append(serveArgs, "-s-yaml", *syaml)
		}
		err = startCmd(daemonFiles{pid: *pidFile, env: *envFile, log: *logFile}, append(serveArgs, fs.Args()...), *timeout, stdout)
	case "stop":
		err = stopCmd(daemonFiles{pid: *pidFile, env: *envFile, log: *logFile}, *timeout, stdout)
	case "cert":
		if fs.NArg() != 2 {
			err = usageErr("cert [-days N] DOMAIN DIR")
			break
		}
		err = certCmd(fs.Arg(0), fs.Arg(1), *days, stdout)
	default:
		var e cloudEnv
		if e, err = loadCloudEnv(*envFile, os.Getenv); err != nil {
			break
		}
		switch name {
		case "invoke":
			err = invokeCmd(ctx, e, fs.Args(), stdout)
		case "listeners":
			err = listenersCmd(ctx, e, *region, stdout)
		default:
			var wait time.Duration
			if timeout != nil {
				wait = *timeout
			}
			err = bucketCmd(ctx, name, e, fs.Args(), wait, stdout)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "localcloud %s: %v\n", name, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

const helpText = `usage:
  localcloud [flags]                   run the local cloud in the foreground (localcloud -h: its flags)
  localcloud start [-s-yaml s.yaml]    run it in the background (pid in .localcloud.pid, output in .localcloud.log)
  localcloud stop                      stop it and its functions; removes .localcloud.pid and .localcloud.env
  localcloud put KEY FILE              upload FILE as KEY (fires the OSS triggers like the real OSS; waits for and
                                       reports the invocations; exit 1 if one is not a success)
  localcloud ls [PREFIX]               list the bucket
  localcloud get KEY [FILE]            download KEY (to stdout without FILE)
  localcloud rm KEY                    delete KEY
  localcloud drop NAME CERT KEY        put KEY as certs/NAME/privkey.pem and CERT as certs/NAME/fullchain.pem (as put)
  localcloud invoke FUNCTION [EVENT]   run a function (name or s.yaml resource); exit 1 unless the status is a success
  localcloud listeners [-region R]     HTTPS listeners: the certificate by API and what a TLS handshake serves
  localcloud cert [-days N] DOMAIN DIR write a test pair for DOMAIN into DIR (fullchain.pem, privkey.pem)
The client commands read the endpoints and credentials from -env-file (default .localcloud.env,
written by start), else from the environment (OSS_ENDPOINT, SLB_ENDPOINT, FC_ENDPOINT, CERT_BUCKET,
ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET).`
