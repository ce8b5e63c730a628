# Ticket system: every target runs with the project's own Node (see .nvmrc), installed on first use.
.DEFAULT_GOAL := help
SHELL := bash
.SHELLFLAGS := -euo pipefail -c

export PATH := $(CURDIR)/.tools/node/bin:$(CURDIR)/node_modules/.bin:$(PATH)
NODE := .tools/node/bin/node
DEPS := node_modules/.package-lock.json

SERVICES := event booking checkout notification

.PHONY: help install generate check-generated lint format typecheck migrate db-generate test \
	kafka-up kafka-down kafka-status infra-up infra-down up down clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(NODE): .nvmrc scripts/ensure-node.sh
	@scripts/ensure-node.sh
	@touch $@

# `npm install` from the lockfile rather than `npm ci`: the registry these machines reach serves only
# Linux builds of the per-platform optional packages (biome, buf, esbuild), so the lockfile cannot
# list the others and `npm ci` would reject it as out of sync.
$(DEPS): $(NODE) package.json package-lock.json packages/*/package.json services/*/package.json
	npm install --no-audit --no-fund
	@touch $@

install: $(DEPS) ## Install Node 24 (project-local) and the npm dependencies; fetch the Kafka jars
	@scripts/kafka.sh fetch

generate: $(DEPS) ## Regenerate TypeScript and the descriptor set from proto/v1
	npm run generate -w @ticket/contracts

check-generated: generate ## Fail when the committed generated code differs from what proto/v1 gives
	@git diff --exit-code --stat -- packages/contracts/src/generated \
		|| { echo "generated code is stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- packages/contracts/src/generated)" \
		|| { echo "generated files are not committed:"; git status --porcelain -- packages/contracts/src/generated; exit 1; }

lint: $(DEPS) ## Lint and format-check TypeScript (biome), lint the protos (buf), type-check (tsc)
	biome check .
	buf lint
	buf format --diff --exit-code
	tsc

format: $(DEPS) ## Format TypeScript and protos in place
	biome check --write .
	buf format --write

typecheck: $(DEPS) ## Type-check the whole tree
	tsc

migrate: $(DEPS) ## Apply every service's migrations to DATABASE_URL (default: local ticket database)
	npm run migrate --workspaces --if-present

db-generate: $(DEPS) ## New migration from a service's schema: make db-generate SERVICE=booking NAME=add_holds
	@test -n "$(SERVICE)" -a -n "$(NAME)" || { echo "usage: make db-generate SERVICE=<service> NAME=<name>"; exit 2; }
	npm run db:generate -w @ticket/$(SERVICE) -- --name $(NAME)

test: $(DEPS) ## Run every test against real Postgres and Kafka (starts its own Kafka unless KAFKA_BROKERS is set)
	npm test -- $(TEST_ARGS)

kafka-up: ## Start a local single-node Kafka (KRaft) on 127.0.0.1:9092
	@scripts/kafka.sh up

kafka-down: ## Stop the local Kafka
	@scripts/kafka.sh down

kafka-status: ## Is the local Kafka running?
	@scripts/kafka.sh status

infra-up: $(DEPS) kafka-up ## Start Kafka, check Postgres, apply migrations
	@pg_isready -q -d "$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
		|| { echo "Postgres is not reachable at $${DATABASE_URL:-127.0.0.1:5432}; start it or set DATABASE_URL"; exit 1; }
	@$(MAKE) --no-print-directory migrate

infra-down: kafka-down ## Stop what infra-up started

up: infra-up ## Run the system (for now: its infrastructure, migrated)
	@echo "Postgres: $${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ticket}"
	@echo "Kafka:    $${KAFKA_BROKERS:-127.0.0.1:9092}"

down: infra-down ## Stop everything `make up` started

clean: kafka-down ## Remove local data and build tools (.data, .tools, node_modules)
	rm -rf .data .tools node_modules
