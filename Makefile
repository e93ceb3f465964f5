# Plain targets over the scripts in scripts/ (setup/, local/, test/, bench/);
# each installs what it needs first. `make help` lists them.
.PHONY: help run metrics create-admin demote-admin migrate test test-e2e test-browser screenshots fuzz-api fuzz load invoke bench bench-cpu build deploy tools lint fmt keys
.DEFAULT_GOAL := run

help: ## this list: every target and what it does (plain `make` is `make run`)
	@awk -F ':.*## ' '/^[a-z][a-z0-9-]*:.*## / { printf "  %-13s %s\n", $$1, $$2 }' $(firstword $(MAKEFILE_LIST))

run:   ## the API on http://127.0.0.1:9000, over DynamoDB Local on :8000
	scripts/local/run.sh

metrics: ## the service's own metrics counted so far in make run's functions' logs (what the dashboard would show)
	@.tools/venv/bin/python scripts/local/metrics.py .tools/run-functions.log

test:  ## every check, against a DynamoDB Local of its own
	scripts/test/test.sh

test-e2e: ## the API suite over HTTP: API_URL=https://… for a deployed stack, else cargo lambda watch
	scripts/test/test-e2e.sh

test-browser: ## the account page in headless Chromium (Debian's), against cargo lambda watch
	scripts/test/test-browser.sh

SCREENSHOTS ?= docs/screenshots
screenshots: ## the account page's screens at desktop and phone widths, into SCREENSHOTS (docs/screenshots, docs/account-page.md's)
	SCREENSHOTS=$(SCREENSHOTS) scripts/test/test-browser.sh

fuzz-api: ## Schemathesis over openapi.yaml against cargo lambda watch: fails on a 5xx or an undocumented answer
	scripts/test/fuzz-api.sh

invoke: ## make invoke FN=status EVENT=events/status-no-token.json [TOKEN=…]: one call of any function of template.yaml (the authorizer and the mailer too) through the Lambda emulator
	FN=$(FN) EVENT=$(EVENT) TOKEN=$(TOKEN) REFRESH_TOKEN=$(REFRESH_TOKEN) scripts/local/invoke.sh

bench: ## cold start, latency over the storage floor, bcrypt share, load, size, round trips, RS256, keys from Secrets Manager, the latency ledger, the verifier crate's warm verify: one table, also in bench/results.md
	scripts/bench/bench.sh

bench-cpu: ## make bench's section 15 alone: CPU (user + sys) and callgrind instructions per status call, split by the ledger's parts
	scripts/bench/cpu.sh

fuzz: ## cargo-fuzz (stable, no sanitizer) on the token, body and refresh-token parsers: FUZZ_SECONDS (60) per target; fails on a crash
	scripts/test/fuzz.sh

load: ## wrk: LOAD_REQUESTS (10000) GET /auth/status with a valid token at LOAD_CONCURRENCY (32); fails on any error
	scripts/test/load.sh

build: ## sam build: the arm64 release bootstraps, as deployed (rust-cargolambda is a SAM beta feature)
	scripts/setup/tools.sh
	PATH="$(CURDIR)/.tools/venv/bin:$$PATH" SAM_CLI_TELEMETRY=0 sam build --beta-features

deploy: build ## make build, then sam deploy --guided, asking for the parameters
	PATH="$(CURDIR)/.tools/venv/bin:$$PATH" SAM_CLI_TELEMETRY=0 sam deploy --guided

# The dev profile: the release profile's fat LTO takes minutes to link, for a
# tool that runs in a second either way; dev shares target/ with cargo test.
keys: ## make keys ARGS="rotate --file keys.json": the signing-key tool (create, rotate, list; ARGS=--help)
	cargo run -q --profile dev -p keys -- $(ARGS)

create-admin: ## make create-admin EMAIL=…: make the account an admin (created if need be; password from a prompt or stdin), in make run's tables unless USERS_TABLE is set
	scripts/local/admin.sh create-admin "$(EMAIL)"

demote-admin: ## make demote-admin EMAIL=…: take the admin role away (tables as create-admin)
	scripts/local/admin.sh demote "$(EMAIL)"

RATE ?= 25
CHECKPOINT ?= migrate-checkpoint.json
migrate: ## make migrate RATE=25: bring items older versions wrote to today's format, RATE writes a second, resumable (CHECKPOINT file); tables as create-admin
	scripts/local/admin.sh migrate --rate "$(RATE)" --checkpoint "$(CHECKPOINT)"

tools: ## cargo-lambda, the SAM CLI, DynamoDB Local, the SES emulator and moto (the local Secrets Manager), into .tools/
	scripts/setup/tools.sh

lint: ## cargo clippy over the workspace, every target, warnings as errors
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt: ## cargo fmt over the workspace
	cargo fmt --all
