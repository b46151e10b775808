# The two set-up commands (see README.md) and a few conveniences.
#   make serve  - install packages (apt, npm), build the UI and the release binary (which
#                 embeds the UI), start grok on SQLite in ./grok-data with the UI at /
#   make test   - install packages, build and run every test suite (normal and ASan+UBSan
#                 builds; the UI's component and browser tests run in the normal build)
.PHONY: serve test bootstrap web web-dev build release dev asan fuzz test-dev test-asan test-fuzz bench clean

JOBS ?= $(shell nproc)

bootstrap:
	@bash scripts/bootstrap.sh

# The UI (web/) is built before the binaries, which embed web/dist.
web: bootstrap
	@bash scripts/web.sh build

# UI work: Vite's dev server on 127.0.0.1:5173 with hot reload, proxying the API to a
# running grok serve (GROK_DEV_API, default http://127.0.0.1:8080).
web-dev: web
	@bash scripts/web.sh deps
	cd web && npm run dev

release: web
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS) --target grok

build: release

serve: release
	./build/release/grok serve

dev: web
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)

asan: web
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
	./build/release/bench/queue_bench --postgres auto
	./build/release/bench/llm_client_bench
	./build/release/bench/engine_bench
	./build/release/bench/engine_bench --postgres auto
	./build/release/bench/wrk_bench
	./build/release/bench/fanout_bench

clean:
	rm -rf build web/dist
