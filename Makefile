# Open Supervisor. `make run` starts the embedded supervisor; `make test` runs
# every test. Both build or install what they need first (`make tools`).
SHELL := /usr/bin/env bash -o pipefail
BIN := $(CURDIR)/bin
CONTROLLER_GEN := $(BIN)/controller-gen
export KUBEBUILDER_ASSETS := $(BIN)
GO_TEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: all
all: build

.PHONY: tools
tools: ## Build kube-apiserver, kube-controller-manager, etcd, controller-gen and govc into bin/; install haproxy.
	@hack/build-tools.sh $(BIN)
	@command -v haproxy >/dev/null || hack/install-packages.sh haproxy || echo "warning: could not install haproxy (needed by the load balancer tests once they land)"

.PHONY: generate
generate: tools ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: manifests
manifests: tools ## Generate CRDs, RBAC and webhook configurations into config/ (Cluster API's from its module) and the CRD list of config/crd/kustomization.yaml.
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=manager-role paths=./providers/... paths=./controllers/... paths=./lbapi/... paths=./server/... output:rbac:artifacts:config=config/rbac
	$(CONTROLLER_GEN) webhook paths=./lbapi/... paths=./controllers/... output:webhook:artifacts:config=config/webhook
	hack/capi-manifests.sh config
	hack/crd-kustomization.sh config/crd

.PHONY: build
build: ## Build the supervisor binary and the kubectl vsphere plugin into bin/.
	go build -o $(BIN)/supervisor .
	go build -o $(BIN)/kubectl-vsphere ./cmd/kubectl-vsphere

.PHONY: run
run: tools build ## Start the embedded supervisor (vcsim, etcd, kube-apiserver, kube-controller-manager, HAProxy, manager).
	$(BIN)/supervisor --embedded --metrics-bind-address=127.0.0.1:8080 --health-probe-bind-address=127.0.0.1:8081

.PHONY: test
test: tools lint ## Run every test (unit, integration on envtest + vcsim).
	go test $(GO_TEST_FLAGS) ./...

.PHONY: bench
bench: tools ## Run the benchmarks and write bench/RESULTS.md.
	mkdir -p bench
	go test -count=1 -timeout 60m -run '^$$' -bench . -benchtime 1x ./test/bench/... | tee bench/bench.out

.PHONY: chaos
chaos: tools ## Run the fault suite's full form (3 runs per scenario, a 60 s Data Plane API outage) and write its section of bench/RESULTS.md; make test runs its short form.
	CHAOS_FULL=1 go test -count=1 -timeout 60m -v ./test/chaos/

.PHONY: fuzz
fuzz: ## Run every fuzz target for a minute (FUZZTIME=1m); make test runs their seeds.
	hack/fuzz.sh

.PHONY: lint
lint: ## gofmt check, go vet, and the rooms' import rules (hack/check-imports.sh).
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './hack/tools/*')); \
	  if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	go vet ./...
	hack/check-imports.sh

.PHONY: help
help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
