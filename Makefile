# The two set-up commands of the README are `make run` and `make test`.
# Each creates its own virtual environment (.venv) and compiles the message catalogs first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test bench install locales i18n lint clean

run: install locales  ## install and start the bot (console on the demo database if no platform)
	$(BIN)/filiere-bot

test: install locales  ## install and pass the whole test suite
	$(BIN)/ruff check .
	$(BIN)/pytest -q

bench: install locales  ## benchmarks (engine, reminders, Telegram, Matrix): figures and ratios
	$(BIN)/python -m bench

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

locales: install  ## compile locales/*/LC_MESSAGES/filiere.po to .mo (never edited by hand)
	$(BIN)/pybabel compile --use-fuzzy -d locales -D filiere

i18n: install  ## after changing texts: extract, update the catalogs, list what is untranslated
	$(BIN)/python scripts/i18n.py

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
	find locales -name '*.mo' -delete
