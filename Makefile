# Quick start:  make demo   (set up, then generate a take from the bundled samples)
#               make test   (set up, then run the whole test suite)
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-packages demo test clean

system-packages:
	@command -v espeak-ng >/dev/null && command -v ffmpeg >/dev/null || \
	  { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng ffmpeg >/dev/null; }

$(BIN)/facecue: pyproject.toml setup.py proto/facecue/v1/facecue.proto
	@command -v $(PYTHON) >/dev/null || { echo "facecue: $(PYTHON) is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[server,test]"
	@touch $@

setup: system-packages $(BIN)/facecue

demo: setup
	$(BIN)/facecue demo --out takes/demo

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) takes build *.egg-info server/*.egg-info
