# slb-cert-rotator: build, test, demo and deploy.
#
#   make demo                 the whole story offline (local cloud, no account)
#   make test                 unit + integration tests (-race), incl. the short reliability suite, then make fuzz briefly
#   make fuzz                 every fuzz target, one after another (FUZZTIME executions each)
#   make reliability-long     the long fault-injection run (200+ seeded runs)
#   make build                dist/<fn>/bootstrap and dist/<fn>.zip for every functions/<fn>
#   make lint                 gofmt, go vet, staticcheck, govulncheck
#   make bench                the benchmarks under bench/
#   make tools                the Serverless Devs CLI from tooling/package-lock.json
#   make deploy               s deploy -y (real Function Compute, needs `s config add`)
#   make invoke FN=rotate-on-upload EVENT=events/oss-fullchain.json
#   make clean

SHELL := /bin/bash
.DEFAULT_GOAL := build

GO ?= go
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

.PHONY: build test fuzz reliability-long demo lint bench deploy invoke clean tools FORCE

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
	FuzzParseDeploy:./shared/rotation FuzzParseKey:./shared/rotation
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; \
		echo "$(GO) test -run '^\$$' -fuzz '^$${name}\$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$${name}\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg; \
	done

reliability-long: build
	RELIABILITY_LONG=1 $(GO) test -race -count=1 -timeout 60m -run Reliability ./reliability/...

demo: build
	$(GO) run ./emulator/cmd/demo

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@db=$$(GO=$(GO) tooling/vulndb/build.sh) && echo "govulncheck -db file://$$db" && $(GO) run $(GOVULNCHECK) -db "file://$$db" ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 20m ./bench/...

# tooling/node_modules is installed from the lockfile when missing or stale.
# `make tools` skips (tests then skip the s-CLI checks) when npm is absent.
tools:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(S); else echo "npm not found: skipping the Serverless Devs CLI (tests that need it will skip)"; fi
$(S): tooling/package.json tooling/package-lock.json
	npm ci --prefix tooling --no-audit --no-fund
	@touch $@

deploy: $(S)
	$(S) deploy -y

invoke: $(S)
	@test -n "$(FN)" || { echo "usage: make invoke FN=<rotate-on-upload|expiry-check|provision> EVENT=events/<file>.json" >&2; exit 2; }
	$(S) $(FN) invoke $(if $(EVENT),-f $(EVENT),)

clean:
	rm -rf $(DIST)
