"""TN Studio's trainer, stylizer and worker service (see the README's layout section)."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]  # the runs/, uploads/ and samples/ folders live here
