# Dialtone: one binary that provisions, registers and lists desk phones.
GO        ?= go
BIN       := bin/dialtone
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
DATA      ?= ./dialtone-data
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.6.1

# As root the standard ports; otherwise unprivileged ones for TFTP (69) and LDAP (389).
ifeq ($(shell id -u),0)
RUN_PORTS ?=
else
RUN_PORTS ?= --tftp :6969 --ldap :3389
endif

.PHONY: all build run test check interop bench clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dialtone

run: build
	@if [ -n "$(RUN_PORTS)" ]; then echo "not root: TFTP on :6969, LDAP on :3389 and HTTPS on :8443 instead of 69, 389 and 443"; fi
	./$(BIN) serve --data $(DATA) $(RUN_PORTS)

test:
	$(GO) test -shuffle=on -timeout 15m ./...

check:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) test -race -shuffle=on -timeout 20m ./...

interop: build
	./interop/run.sh ./$(BIN)

bench: build
	./bench/run.sh ./$(BIN)

clean:
	rm -rf bin
