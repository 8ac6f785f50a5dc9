# The dashboard (web/): the chart library comes from npm (pinned by package-lock.json)
# and is copied into web/vendor/, which git ignores; nothing third-party is committed.
# `make test` runs the browser tests (real Chromium, driven by playwright-core) through
# TEST_EXTRA; `make bench-web` measures page weight, time to first chart and tab CPU.

NODE ?= node
NPM ?= npm
CHROMIUM ?= /usr/bin/chromium
WEB_VENDOR := web/vendor/uPlot.iife.min.js web/vendor/uPlot.min.css
NODE_STAMP := node_modules/.package-lock.json
BROWSER_TESTS := $(sort $(wildcard tests/browser/*.test.mjs))

.PHONY: web browser bench-web

all: $(WEB_VENDOR)
web: $(WEB_VENDOR)

$(NODE_STAMP): package.json package-lock.json
	$(call msg,NPM,ci)
	$(Q)$(NPM) ci --no-audit --no-fund --loglevel=error
	$(Q)touch $@

web/vendor/%: $(NODE_STAMP)
	@mkdir -p web/vendor
	$(call msg,COPY,$@)
	$(Q)cp node_modules/uplot/dist/$* $@

# Each test file starts its own daemons on free ports; files run one after another
# (the machine is small and shared).
browser: $(BUILD)/perfwatch $(WEB_VENDOR)
	$(Q)PW_BIN=$(abspath $(BUILD)/perfwatch) PW_BUILD=$(abspath $(BUILD)) PW_CHROMIUM=$(CHROMIUM) \
		$(NODE) --test --test-concurrency=1 $(BROWSER_TESTS)

bench-web: $(BUILD)/perfwatch $(WEB_VENDOR)
	$(Q)PW_BIN=$(abspath $(BUILD)/perfwatch) PW_BUILD=$(abspath $(BUILD)) PW_CHROMIUM=$(CHROMIUM) \
		$(NODE) scripts/bench/web_bench.mjs

TEST_EXTRA += browser
