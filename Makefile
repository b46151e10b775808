# The two set-up commands (see README.md) and a few conveniences.
#   make serve  - install packages, build the release binary, start grok on SQLite in ./grok-data
#   make test   - install packages, build and run every test suite (normal and ASan+UBSan builds)
.PHONY: serve test bootstrap build release dev asan fuzz test-dev test-asan test-fuzz bench clean

JOBS ?= $(shell nproc)

bootstrap:
	@bash scripts/bootstrap.sh

release: bootstrap
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target grok

build: release

serve: release
	./build/release/grok serve

dev: bootstrap
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)

asan: bootstrap
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

test-dev: dev
	ctest --preset dev

test-asan: asan
	ctest --preset asan

fuzz: bootstrap
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

test-fuzz: fuzz
	ctest --preset fuzz

test: test-dev test-asan test-fuzz
	@echo "all test suites passed (dev, asan and fuzz builds)"

bench: release
	@cmake --build --preset release -j $(JOBS) --target queue_bench llm_client_bench engine_bench wrk_bench fanout_bench
	./build/release/bench/queue_bench
	./build/release/bench/llm_client_bench
	./build/release/bench/engine_bench
	./build/release/bench/wrk_bench
	./build/release/bench/fanout_bench

clean:
	rm -rf build
