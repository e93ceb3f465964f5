# Plain targets over the scripts in scripts/; each installs what it needs first.
.PHONY: run test tools lint fmt

run:   ## the API on http://127.0.0.1:9000, over DynamoDB Local on :8000
	scripts/run.sh

test:  ## every check, against a DynamoDB Local of its own
	scripts/test.sh

tools: ## cargo-lambda, the SAM CLI and DynamoDB Local, into .tools/
	scripts/tools.sh

lint:
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all
