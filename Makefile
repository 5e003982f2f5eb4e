# convnotes: `make setup` builds the environment and the book; `make test` runs every check.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Elsewhere than Python 3.11 on Linux x86_64 with a local CPU wheel, point pip at PyTorch's
# CPU wheels to avoid the CUDA build: make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=

.PHONY: setup book student pdf test portability lab bench execute lock clean

setup: book

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.version_info[:2] == (3, 11) or print("warning: the pins in constraints.txt were made with Python 3.11, this is", sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
	  $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) -c constraints.txt -e ".[book,test]"
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/python tools/build_book.py

# The same book without the exercises' solutions, into _build/student/_build/html.
student: $(STAMP)
	$(BIN)/python tools/build_book.py --edition student

# The whole book as one PDF, _build/pdf/convnotes.pdf, printed by headless
# Chromium (apt-get install chromium); it builds the book as one page first.
pdf: $(STAMP)
	$(BIN)/python tools/make_pdf.py

test: $(STAMP)
	$(BIN)/python -m pytest

# The notebooks again, on one thread and PyTorch's plainest CPU kernels: their
# stored outputs must not depend on the machine (CI runs this after make test).
portability: $(STAMP)
	OMP_NUM_THREADS=1 ATEN_CPU_CAPABILITY=default $(BIN)/python -m pytest book

# Time forward + backward of the hand-written convolutions against F.conv2d,
# on THREADS of PyTorch's CPU threads (2, the count the targets are set for;
# make bench THREADS=4). The first line printed is the count PyTorch uses.
THREADS ?= 2
bench: $(STAMP)
	OMP_NUM_THREADS=$(THREADS) $(BIN)/python -m convnotes.bench --threads $(THREADS)

lab: $(STAMP)
	$(BIN)/jupyter lab book/

# Re-run every notebook in place (a fresh kernel each), after editing one, and
# record each one's time and the package versions on the status page.
# One notebook: make execute NOTEBOOKS=book/03_output_size.ipynb
NOTEBOOKS ?=
execute: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py $(NOTEBOOKS)

# Refresh constraints.txt from what is installed (after changing pyproject.toml).
lock: $(STAMP)
	{ sed -n '1,2p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable \
	  | grep -v '^convnotes' | sed 's/+cpu$$//'; } > constraints.tmp && mv constraints.tmp constraints.txt

clean:
	rm -rf _build $(VENV)
