# The two commands: `make run` (app with demo data) and `make test` (lint + the whole suite).
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5000
export FLASK_APP := wsgi.py
# pytest's JUnit XML of the last `make test`: the run `flask validation-report` reports on.
JUNIT_XML ?= $(or $(VALIDATION_JUNIT_PATH),instance/test-results.xml)

.PHONY: install run test test-dates lint format worker bench bench-grading bench-player bench-compliance bench-sweep bench-calendar ci clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Links made outside a request (certificate PDFs and QR codes, emails) point where `make run`
# serves: PORT=5055 make run prints http://127.0.0.1:5055/verify/... unless PUBLIC_BASE_URL is set.
run: export PORT := $(PORT)
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(VENV)/bin/flask db upgrade
	$(VENV)/bin/flask seed-demo
	@echo "Cadre is on http://127.0.0.1:$(PORT)  (Ctrl-C stops it)"
	$(VENV)/bin/flask run --host 127.0.0.1 --port $(PORT)

test: install lint
	mkdir -p $(dir $(JUNIT_XML))
	$(PY) -m pytest -q --junitxml=$(JUNIT_XML) $(PYTEST_ARGS)

# The date-sensitive modules again with the clock pinned where date arithmetic breaks: a
# year-end (00:30 on 1 January in Zurich, still 31 December in UTC), 29 February, and the
# morning summer time starts in Europe/Zurich. `.ci/run` runs this after the suite.
CLOCK_PINS ?= 2027-12-31T23:30:00+00:00 2028-02-29T12:00:00+00:00 2027-03-28T01:30:00+00:00
DATE_SENSITIVE ?= tests/classroom tests/compliance tests/notifications tests/learning/certificates

test-dates: install
	@for pin in $(CLOCK_PINS); do \
	  echo "== the date-sensitive tests with the clock pinned at $$pin"; \
	  CADRE_TEST_NOW=$$pin $(PY) -m pytest -q -p no:cacheprovider $(DATE_SENSITIVE) || exit 1; \
	done

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: install
	$(PY) worker.py

bench: install
	$(PY) bench/catalog.py

bench-compliance: install
	$(PY) bench/compliance.py

bench-grading: install
	$(PY) bench/grading.py

bench-player: install
	$(PY) bench/player.py

bench-sweep: install
	$(PY) bench/sweep.py

bench-calendar: install
	$(PY) bench/training_calendar.py

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
