# Ticket system: every target runs with the project's own Node (see .nvmrc), installed on first use.
.DEFAULT_GOAL := help
SHELL := bash
.SHELLFLAGS := -euo pipefail -c

export PATH := $(CURDIR)/.tools/node/bin:$(CURDIR)/node_modules/.bin:$(PATH)
NODE := .tools/node/bin/node
DEPS := node_modules/.package-lock.json

SERVICES := event booking checkout notification

.PHONY: help install build generate check-generated lint format typecheck migrate db-generate test fuzz run run-event run-booking run-checkout run-notification bench bench-booking bench-notification bench-startup bench-steady bench-flash-sale bench-sweep bench-on-stack \
	kafka-up kafka-down kafka-status infra-up infra-down up start down status logs demo clean \
	compose-up compose-dev compose-down compose-logs compose-config

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

build: $(DEPS) ## Bundle each service into services/<name>/dist/main.js (esbuild), what `make up` and the images run
	node packages/platform/src/cli/bundle.ts

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

migrate: $(DEPS) ## Apply every service's migrations to DATABASE_URL (default: local ticket database), each as its own role
	npm run migrate --workspaces --if-present

db-generate: $(DEPS) ## New migration from a service's schema: make db-generate SERVICE=booking NAME=add_holds
	@test -n "$(SERVICE)" -a -n "$(NAME)" || { echo "usage: make db-generate SERVICE=<service> NAME=<name>"; exit 2; }
	npm run db:generate -w @ticket/$(SERVICE) -- --name $(NAME)

test: $(DEPS) ## Run every test against real Postgres and Kafka (starts its own Kafka unless KAFKA_BROKERS is set)
	npm test -- $(TEST_ARGS)

fuzz: $(DEPS) ## Fuzz every RPC of every service with generated requests, long (FUZZ_RUNS per RPC, default 2000; FUZZ_SEED replays)
	FUZZ_RUNS=$${FUZZ_RUNS:-2000} npm test -- services/checkout/test/fuzz.test.ts $(TEST_ARGS)

# The migration provisions the service's role from DATABASE_URL's owner; the service then connects as that role
# (ticket-database-url prints its URL), so it runs with the rights it has in production, not the owner's.
run: $(DEPS) ## Start one service in the foreground, its migrations first: make run SERVICE=booking
	@test -n "$(SERVICE)" || { echo "usage: make run SERVICE=<$(subst $(eval) ,|,$(SERVICES))>"; exit 2; }
	npm run --silent migrate -w @ticket/$(SERVICE)
	url="$$(node packages/platform/src/cli/database-url.ts $(SERVICE))"; DATABASE_URL="$$url" npm start --silent -w @ticket/$(SERVICE)

run-event: ## Start the event service (gRPC :50600; needs booking for CreateEvent)
	@$(MAKE) --no-print-directory run SERVICE=event

run-booking: ## Start the booking service (gRPC :50610)
	@$(MAKE) --no-print-directory run SERVICE=booking

run-checkout: ## Start the checkout service (gRPC :50620; needs event, booking, Kafka, AUTH_JWT_SECRET or AUTH_JWKS_URL, SERVICE_AUTH_SECRET)
	@$(MAKE) --no-print-directory run SERVICE=checkout

run-notification: ## Start the notification service (gRPC :50630; needs Kafka, AUTH_JWT_SECRET or AUTH_JWKS_URL; SMTP_HOST for email)
	@$(MAKE) --no-print-directory run SERVICE=notification

# In this order: bench-booking's pgbench needs the connections a running stack would hold; the stack's benches last.
bench: bench-booking bench-notification bench-startup bench-sweep bench-on-stack ## Run every benchmark, one after another (~35 minutes)

bench-booking: $(DEPS) ## Booking flash sale: gRPC holds/s vs a no-op server and one transaction per hold (BENCH_SECONDS, BENCH_CONCURRENCY, BENCH_WORKERS)
	node services/booking/bench/hold-throughput.ts

bench-sweep: $(DEPS) ## Expiry sweep: lapsed holds released per second among 1M, then 10M live holds (BENCH_LIVE_HOLDS, BENCH_LAPSED_HOLDS, BENCH_LIVE_FACTOR)
	node services/booking/bench/sweep.ts

bench-notification: $(DEPS) ## Notification latency: Kafka publish → email at a real SMTP server, median/p99 (BENCH_EVENTS, BENCH_RATE)
	node services/notification/bench/latency.ts

bench-startup: $(DEPS) ## Each service from its bundle and from sources: ms to SERVING, idle RSS (BENCH_RUNS); the platform's load with and without module hooks
	node packages/platform/bench/service-startup.ts
	node packages/platform/bench/module-hooks.ts

# These two measure the stack `make start` runs, and refuse when it is not serving; `bench` runs them through
# bench-on-stack, which brings a stack up for them when none serves, and down again after.
bench-steady: $(DEPS) ## Steady open-loop orders on the running stack (needs `make start`): RSS, CPU/order, latency (BENCH_RATE, BENCH_SECONDS)
	node packages/stack/bench/steady.ts

bench-flash-sale: $(DEPS) ## More buyers than seats on the running stack (needs `make start`): buyers/s, PlaceOrder p99, oversold, emails (BENCH_BUYERS, BENCH_SEATS, BENCH_RATE)
	node packages/stack/bench/flash-sale.ts

bench-on-stack: $(DEPS) ## bench-flash-sale, then bench-steady, on the running stack or on one started for them (stopped after)
	@if $(STACK) status >/dev/null 2>&1; then started=; else $(STACK) up --detach && started=1 || exit 1; fi; \
	node packages/stack/bench/flash-sale.ts && node packages/stack/bench/steady.ts; code=$$?; \
	if [ -n "$$started" ]; then $(STACK) down; fi; exit $$code

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

STACK := node packages/stack/src/cli.ts

up: $(DEPS) ## Run the whole system: Kafka, migrations, the four services (awaited healthy); logs until Ctrl-C
	@$(STACK) up

start: $(DEPS) ## Like `up`, but return once every service is serving
	@$(STACK) up --detach

down: ## Stop everything `make up`/`make start` started
	@$(STACK) down

status: ## Each service's pid and health
	@$(STACK) status

logs: ## Follow every service's log
	@$(STACK) logs

demo: ## A scripted purchase through ticketctl against the running system, and the email it sent
	@node packages/ticketctl/src/demo.ts

# Docker (docs/docker.md): docker-compose.prod.yml builds the images and runs the migrations before the services;
# docker-compose.dev.yml mounts the sources and runs each service under `node --watch` with its inspector open. Both
# need a Docker engine with the compose plugin; packages/stack/test/compose.test.ts checks the files without one.
COMPOSE_PROD := docker compose -f docker-compose.prod.yml
COMPOSE_DEV := docker compose -f docker-compose.dev.yml
# compose-down and compose-logs act on the production stack, or on the development one with DEV=1.
COMPOSE_CHOSEN = $(if $(DEV),$(COMPOSE_DEV),$(COMPOSE_PROD))
# Stand-ins for the values docker-compose.prod.yml requires and .env.example leaves empty, so compose-config can
# render the file (the compose test checks that this list names every required variable), and an identity provider.
COMPOSE_CHECK_ENV := POSTGRES_PASSWORD=check EVENT_DB_PASSWORD=check BOOKING_DB_PASSWORD=check \
	CHECKOUT_DB_PASSWORD=check NOTIFICATION_DB_PASSWORD=check \
	SERVICE_AUTH_SECRET=check-secret-of-at-least-32-characters SMTP_HOST=smtp.example.com \
	STRIPE_SECRET_KEY=sk_test_check STRIPE_WEBHOOK_SECRET=whsec_check AUTH_JWKS_URL=https://idp.example.com/jwks

compose-up: ## Build the images and start the production stack in Docker (needs .env); returns once all are healthy
	@test -f .env || { echo "no .env: copy .env.example to .env and fill in the secrets and SMTP_HOST"; exit 1; }
	$(COMPOSE_PROD) up --detach --build --wait

compose-dev: ## Run the development stack in Docker: sources mounted, node --watch, inspectors on 9230-9233; logs until Ctrl-C
	$(COMPOSE_DEV) up --build

compose-down: ## Stop the production stack (DEV=1: the development one); ARGS=--volumes also deletes its data
	$(COMPOSE_CHOSEN) down $(ARGS)

compose-logs: ## Follow the production stack's logs (DEV=1: the development one's)
	$(COMPOSE_CHOSEN) logs --follow

compose-config: ## Validate both compose files with `docker compose config` (skipped when Docker's compose plugin is missing)
	@if docker compose version >/dev/null 2>&1; then \
		env $(COMPOSE_CHECK_ENV) $(COMPOSE_PROD) --env-file .env.example config --quiet && echo "docker-compose.prod.yml: valid"; \
		$(COMPOSE_DEV) --env-file .env.example config --quiet && echo "docker-compose.dev.yml: valid"; \
	else \
		echo "docker compose is not installed: skipped (without Docker: make test TEST_ARGS=packages/stack/test/compose.test.ts)"; \
	fi

clean: ## Stop what runs and remove local data and build tools (.data, .tools, node_modules)
	-@$(STACK) down 2>/dev/null
	@scripts/kafka.sh down
	rm -rf .data .tools node_modules
