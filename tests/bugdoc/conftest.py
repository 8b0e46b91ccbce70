import sys
from pathlib import Path

# bugdoc_pipelines.py must be importable by name in spawned workers and Dask workers (they inherit sys.path)
sys.path.insert(0, str(Path(__file__).parent))
