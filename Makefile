# slb-cert-rotator: build, test, demo and deploy. `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := build

GO ?= go
# ALB and NLB instances the demo's local cloud seeds (make demo LB_FLEET=2).
LB_FLEET ?= 0
# Build and test with the patched toolchain: go1.26.8 (the machine's) has
# known crypto/tls, crypto/x509 and net/http vulnerabilities that govulncheck
# reports as called by the functions. The go command fetches this version
# through the module proxy once (GOTOOLCHAIN=local machines ignore go.mod's
# toolchain line, hence the export).
export GOTOOLCHAIN := go1.26.10
DIST := dist
FUNCTIONS := $(notdir $(patsubst %/,%,$(wildcard functions/*/)))
BINARIES := $(foreach f,$(FUNCTIONS),$(DIST)/$(f)/bootstrap)
ZIPS := $(foreach f,$(FUNCTIONS),$(DIST)/$(f).zip)

# Serverless Devs CLI pinned in tooling/package-lock.json.
S := tooling/node_modules/.bin/s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0

# Cross-compilation for the go1 runtime (linux/amd64, static).
BUILD_ENV := GOOS=linux GOARCH=amd64 CGO_ENABLED=0
GOFLAGS_BUILD := -trimpath -ldflags '-s -w'


FN ?=
EVENT ?=
NAME ?=
CERT ?=
KEY ?=

# The local cloud run in the background by local-up (host binary, pid file,
# endpoints and output next to the Makefile; local-down removes them).
LOCALCLOUD := $(DIST)/localcloud
LOCALCLOUD_FILES := -env-file .localcloud.env -pid-file .localcloud.pid -log-file .localcloud.log

.PHONY: help build test fuzz reliability-long demo lint bench policies deploy invoke clean tools local-up local-down drop FORCE

## help: this list
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST) | sed 's/: /\t/' | expand -t 22

## build: dist/<fn>/bootstrap and dist/<fn>.zip for every functions/<fn> (linux/amd64, the go1 runtime)

build: $(BINARIES) $(ZIPS)
	@test -n "$(FUNCTIONS)" || { echo "no functions/* to build" >&2; exit 1; }

# Always re-run go build (it is incremental); the zip is rewritten only when
# the binary changed.
$(DIST)/%/bootstrap: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '*' > $(DIST)/.gitignore
	$(BUILD_ENV) $(GO) build $(GOFLAGS_BUILD) -o $@ ./functions/$*

$(DIST)/%.zip: $(DIST)/%/bootstrap
	$(GO) run ./tooling/zipfn -o $@ $(DIST)/$*

# ./... includes the reliability suite in its short form (ten seeded fault
# runs, two real kills of the built rotate-on-upload); `make reliability-long`
# runs the long form (200+ runs, 24 kills). Then every fuzz target runs for
# TEST_FUZZTIME ("a short time in CI"). It is a count of executions, not a
# duration: a duration -fuzztime can fail with a spurious "context deadline
# exceeded" when it expires mid-execution (Go's fuzz coordinator race,
# golang/go#75804, unfixed in go1.26); a count has no deadline to race.
TEST_FUZZTIME ?= 20000x
## test: go test -race ./... (unit, local cloud, deployment files, walkthrough, short reliability suite), then make fuzz briefly
test: build tools
	$(GO) test -race -count=1 ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

# Go fuzz targets (name:package), run one after another for FUZZTIME each
# (executions, see TEST_FUZZTIME; a duration works too, e.g. FUZZTIME=1m for a
# longer hunt, with the flake above):
#   make fuzz FUZZTIME=1000000x
FUZZTIME ?= 100000x
# Minimising each new interesting input is bounded too (Go's default is 60 s each).
FUZZMINIMIZETIME ?= 1000x
FUZZ_TARGETS := FuzzParse:./shared/certs FuzzDecodeOSSEvent:./reliability \
	FuzzParseTimerPayload:./functions/expiry-check FuzzProvisionPayload:./shared/provisioning \
	FuzzParseDeploy:./shared/pairs FuzzParseKey:./shared/pairs FuzzParseConfig:./shared/issuance
## fuzz: every fuzz target, one after another (FUZZTIME executions each)
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; \
		echo "$(GO) test -run '^\$$' -fuzz '^$${name}\$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$${name}\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg; \
	done

## reliability-long: the long fault-injection run (200+ seeded runs)
reliability-long: build
	RELIABILITY_LONG=1 $(GO) test -race -count=1 -timeout 60m -run Reliability ./reliability/...

## demo: the whole story offline (local cloud, no account)
demo: build
	$(GO) run ./emulator/cmd/demo -lb-fleet=$(LB_FLEET)

$(LOCALCLOUD): FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '*' > $(DIST)/.gitignore
	$(GO) build -o $@ ./emulator/cmd/localcloud

## local-up: start the local cloud in the background with the s.yaml functions (endpoints in .localcloud.env, output in .localcloud.log)
local-up: build $(LOCALCLOUD)
	$(LOCALCLOUD) start $(LOCALCLOUD_FILES) -s-yaml s.yaml

## local-down: stop the local cloud and its function processes; removes .localcloud.env and .localcloud.pid
local-down: $(LOCALCLOUD)
	$(LOCALCLOUD) stop $(LOCALCLOUD_FILES)

## drop: put a pair into the local bucket: make drop NAME=example.com CERT=fullchain.pem KEY=privkey.pem
drop: $(LOCALCLOUD)
	@test -n "$(NAME)" -a -n "$(CERT)" -a -n "$(KEY)" || { echo "usage: make drop NAME=<pair name> CERT=<fullchain.pem> KEY=<privkey.pem>" >&2; exit 2; }
	$(LOCALCLOUD) drop -env-file .localcloud.env $(NAME) $(CERT) $(KEY)

## lint: gofmt, go vet, staticcheck, govulncheck
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@db=$$(GO=$(GO) tooling/vulndb/build.sh) && echo "govulncheck -db file://$$db" && $(GO) run $(GOVULNCHECK) -db "file://$$db" ./...

## bench: the benchmarks under bench/
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 20m ./bench/...

# tooling/node_modules is installed from the lockfile when missing or stale.
# `make tools` skips (tests then skip the s-CLI checks) when npm is absent.
## tools: the Serverless Devs CLI from tooling/package-lock.json
tools:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(S); else echo "npm not found: skipping the Serverless Devs CLI (tests that need it will skip)"; fi
$(S): tooling/package.json tooling/package-lock.json
	npm ci --prefix tooling --no-audit --no-fund
	@touch $@

# RAM policies for one deployment (README, "RAM policy"), from the templates in policies/.
REGION ?= cn-zhangjiakou
CERT_BUCKET ?= slb-cert-drop
SLS_PROJECT ?= slb-cert-rotator-logs
SLS_LOGSTORE ?= fc-logs
## policies: render policies/*.json for your deployment into dist/policies/: make policies ALIYUN_ACCOUNT_ID=<uid> [REGION=… REGIONS=… CERT_BUCKET=…]
policies:
	$(GO) run ./tooling/policies -out $(DIST)/policies -account "$(ALIYUN_ACCOUNT_ID)" -region "$(REGION)" -regions "$(REGIONS)" \
		-bucket "$(CERT_BUCKET)" -sls-project "$(SLS_PROJECT)" -sls-logstore "$(SLS_LOGSTORE)"

## deploy: s deploy -y (real Function Compute, needs `s config add`)
deploy: $(S)
	$(S) deploy -y

# `s invoke` shows ✔ whenever the invocation returned, whatever its result
# says: tooling/invokestatus reads the result and fails unless its status
# is a success (README, "Invoking").
## invoke: s <FN> invoke -f <EVENT>; fails unless the result's status is a success: make invoke FN=rotate-on-upload EVENT=events/oss-fullchain.json
invoke: $(S)
	@test -n "$(FN)" || { echo "usage: make invoke FN=<rotate-on-upload|expiry-check|provision> EVENT=events/<file>.json" >&2; exit 2; }
	@out=$$($(S) $(FN) invoke $(if $(EVENT),-f $(EVENT),) 2>&1); rc=$$?; printf '%s\n' "$$out"; \
	if [ $$rc -ne 0 ]; then echo "invoke: s $(FN) invoke failed (exit $$rc)" >&2; exit $$rc; fi; \
	printf '%s\n' "$$out" | $(GO) run ./tooling/invokestatus

## clean: remove dist/
clean:
	rm -rf $(DIST)
