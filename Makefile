# Two commands set everything up: `make demo` and `make test`.
# Each creates .venv with python3 -m venv and installs the pinned set
# (constraints.txt) when it is missing or stale; a second run reinstalls nothing.

PYTHON   ?= python3
VENV     := .venv
BIN      := $(CURDIR)/$(VENV)/bin
PY       := $(BIN)/python
STAMP    := $(VENV)/.installed
KERNEL   := conv-course
ASSIGNMENTS := 01_conv1d 02_conv2d 03_one_by_one 04_toeplitz 05_equivariance 06_variants 07_backward 08_fast_conv

# nbgrader runs `alembic` as a program, and notebooks find the kernel: both need .venv/bin first.
export PATH := $(BIN):$(PATH)
# Batch targets draw off screen. JupyterLab's kernels inherit the server's
# environment, so `lab` sets the inline backend instead: with Agg, plt.show()
# would show nothing in the notebooks.
demo test bench release gradescope: export MPLBACKEND := Agg
lab: export MPLBACKEND := module://matplotlib_inline.backend_inline
# The folder JupyterLab opens, and extra `jupyter lab` options, e.g.
# make lab LAB_ARGS="--no-browser --port=8899"
LAB_DIR  ?= notebooks
LAB_ARGS ?=

.PHONY: demo test lint lab release bench gradescope clean env

env: $(STAMP)

# The Pythons every pin installs on (tests/test_python_versions.py asks PyPI): any 3.11.x, 3.12.x.
SUPPORTED_PYTHONS := 3.11 3.12

$(STAMP): constraints.txt pyproject.toml
	@py=$(PY); test -x $$py || py=$(PYTHON); \
	v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	case " $(SUPPORTED_PYTHONS) " in *" $$v "*) ;; *) \
	  echo "error: $$py is Python $${v:-(not found)}; the course supports Python 3.11.x and" \
	       "3.12.x (3.11.0 and later). Install one and run e.g. make PYTHON=python3.11" >&2; \
	  exit 1;; esac
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(PY) -m pip install --quiet -c constraints.txt -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python 3 (conv-course)" >/dev/null
	@mkdir -p .nbgrader
	@touch $@

demo: $(STAMP)
	$(BIN)/autograder demo

lint: $(STAMP)
	$(BIN)/ruff check conv_ref autograder convplot tests bench examples

test: $(STAMP) lint
	$(PY) -m pytest

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=$(LAB_DIR) $(LAB_ARGS)

release: $(STAMP)
	@mkdir -p .nbgrader
	@for a in $(ASSIGNMENTS); do \
	  $(BIN)/nbgrader generate_assignment $$a --force --create --log-level=WARN || exit 1; \
	done

bench: $(STAMP)
	$(PY) bench/conv_ref.py
	$(PY) bench/fast_conv.py
	$(PY) bench/grading.py
	$(PY) bench/distributed.py

gradescope: $(STAMP)
	$(PY) -m autograder.outputs.platforms.gradescope_bundle --out gradescope/autograder.zip

clean:
	rm -rf $(VENV) .nbgrader build *.egg-info .pytest_cache .ruff_cache examples/class out test-artifacts gradescope/autograder.zip
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
