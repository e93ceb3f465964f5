# Sourced by test.sh and run.sh: the settings that point the functions and the
# SDK at DynamoDB Local. Expects $endpoint.
export AWS_ENDPOINT_URL_DYNAMODB="$endpoint"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export USERS_TABLE=UsersTable REVOKED_TOKENS_TABLE=RevokedTokensTable
export SAM_CLI_TELEMETRY=0
export PATH="$PWD/.tools/venv/bin:$PATH"
