from pathlib import Path

# The specs the review is tested on: good.yaml passes every rule, each bad-<rule> fails that rule only.
SPECS = Path(__file__).parent / "specs"
