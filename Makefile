# Two commands on a fresh machine: `make serve` (set up + run the service on the shipped model)
# and `make test` (set up + run the tests). Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --quiet --disable-pip-version-check
STAMP := $(VENV)/.installed
# torch: the CPU build from PyTorch's own index, as in the Dockerfile (PyPI's default Linux x86_64
# wheel pulls the CUDA stack, GBs). Override either, e.g. `make setup TORCH_INDEX_URL=<a CUDA index>`.
# Where the index cannot be reached, a plain `pip install torch==$(TORCH_VERSION)` runs instead: it
# takes a wheel your pip configuration finds locally, else the default index's build (see README).
TORCH_VERSION ?= 2.13.0
TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
# The service's dependency set, pinned (tools/lock_constraints.py writes it: `make lock`).
CONSTRAINTS := constraints.txt
# Debian packages the report's browser test drives (tests/corpus/test_report_browser.py).
BROWSER_PACKAGES := chromium chromium-driver

.PHONY: setup serve test browser lint lock bench model onnx clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	@if $(PY) -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)' \
			"$(TORCH_INDEX_URL)/torch/" 2>/dev/null; then \
		echo "torch $(TORCH_VERSION) from $(TORCH_INDEX_URL)"; \
		$(PIP) install --index-url "$(TORCH_INDEX_URL)" "torch==$(TORCH_VERSION)"; \
	else \
		echo "torch $(TORCH_VERSION): $(TORCH_INDEX_URL) cannot be reached, plain pip install instead"; \
		$(PIP) install "torch==$(TORCH_VERSION)"; \
	fi
	$(PIP) install -c $(CONSTRAINTS) -e ".[dev]"
	touch $(STAMP)

# Debian's Chromium and ChromeDriver, installed when missing (as root, else through sudo).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		echo "installing $(BROWSER_PACKAGES) (apt-get) for the report's browser test"; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
			$(BROWSER_PACKAGES) >/dev/null; }

serve: setup
	$(VENV)/bin/contradict serve

test: setup browser
	$(PY) -m pytest -q -m "not ray"

# The Ray engine's tests (-m ray) with the optional `ray` extra; CI (.ci/run) runs it after `make test`.
.PHONY: test-ray
test-ray: setup
	$(PY) -m pip install --quiet -e ".[ray]"
	$(PY) -c "import ray.data"
	timeout 900 $(PY) -m pytest -q -m ray

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

lock: setup
	$(PY) tools/lock_constraints.py

bench: setup
	$(PY) bench/throughput.py

# Reproduce the shipped model end to end (download VitaminC, train, calibrate, evaluate, export).
model: setup
	bash training/reproduce.sh
	$(MAKE) onnx

# The ONNX backend's file for the shipped weights (export's promote step also writes it); re-runnable.
# The shipped file is the default scheme; `make onnx ONNX_SCHEME=int8-split` trades 0.8% of labels (3.7.0:
# 99.17% same labels as torch) for speed: on an AVX2 CPU at batch 32, 1.09x the default file on ONNX
# Runtime and 1.32x it on OpenVINO fp32 (docs/benchmarks.md, "int8-split meets 99%");
# `make onnx` restores the default.
ONNX_SCHEME ?= compact
onnx: setup
	$(PY) -m training.export_onnx --model models/contradict-minilm-l6-nli --scheme $(ONNX_SCHEME)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
