# Quick start: `make demo` and `make test` (each makes .venv if needed, installs, then runs).
# PYTHON picks the interpreter (3.10+). Where locks/pyX.Y.txt exists for it and installs there, the
# exact versions in it are installed (CI, where CI=true, insists on them); elsewhere, or where the lock
# cannot install (another platform, an older patch release), requirements.txt's ranges are used, with
# a one-line note. `make LOCK= test` ignores the lock. scripts/install_env.py does the work.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYVER := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
LOCK ?= $(wildcard locks/py$(PYVER).txt)
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install demo test test-unit test-notebooks bench lock clean-venv strip-notebooks

$(STAMP): requirements.txt $(LOCK) pyproject.toml scripts/install_env.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed; set PYTHON=python3.X")'
	@$(PYTHON) scripts/install_env.py --venv $(VENV) $(if $(LOCK),--lock $(LOCK))
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m albumlib demo

# The whole suite: unit tests and every notebook under nbval, on the smoke profile's tiny data.
test: $(STAMP)
	ALBUM_PROFILE=smoke $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env $(PYTEST_ARGS)

test-unit: $(STAMP)
	ALBUM_PROFILE=smoke $(PY) -m pytest tests $(PYTEST_ARGS)

test-notebooks: $(STAMP)
	ALBUM_PROFILE=smoke $(PY) -m pytest notebooks --nbval-lax --nbval-current-env $(PYTEST_ARGS)

# Every benchmark (about an hour and a half on a 2-core CPU; run it on a quiet machine). The
# references (PyTorch, librosa, moviepy) are benchmark-only packages: benchmarks/requirements*.txt.
bench: $(STAMP)
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt --extra-index-url https://download.pytorch.org/whl/cpu
	$(PY) -m pip install --quiet --no-deps -r benchmarks/requirements-nodeps.txt
	$(PY) benchmarks/bench_gatys.py
	$(PY) benchmarks/bench_fast_style.py
	$(PY) benchmarks/bench_fast_quality.py
	$(PY) benchmarks/bench_audio.py
	$(PY) benchmarks/bench_audio.py --hours 0 --song-minutes 4
	$(PY) benchmarks/bench_music.py
	$(PY) benchmarks/bench_music.py --batch 32 --steps 4
	$(PY) benchmarks/bench_music_quality.py data/music_model --seeds 4 --noise 0 0.3
	$(PY) benchmarks/bench_video.py
	$(PY) benchmarks/bench_video.py --preset medium --scale-photos 0 --no-demo

# Regenerate locks/py3.10.txt ... py3.13.txt (uv resolves each for the oldest patch release).
lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(PY) scripts/update_locks.py

strip-notebooks: $(STAMP)
	$(PY) scripts/strip_notebooks.py notebooks/*.ipynb

clean-venv:
	rm -rf $(VENV)
