"""Constitutional AI, both phases, as the ``constitutional`` hardening technique.

- :mod:`.constitution`: the principles (critique, revision, choice), the bundled default and
  validation of a user's file;
- :mod:`.helper`: the model that critiques, revises and gives feedback, behind any target;
- :mod:`.sl`: SL-CAI, red-team failures → critique → revision → accepted SFT targets;
- :mod:`.rl`: RL-CAI, two samples → AI preference in both orders → DPO pairs;
- :mod:`.card`: the TRL rows with provenance and the data card;
- :mod:`.technique`: the technique itself, its stages and training (SFT, DPO, reward model);
- :mod:`.demo`: the rows that teach the built-in demo assistant to act as its own helper.
"""

from __future__ import annotations

from safeforge.harden.techniques.constitutional.constitution import (
    DEFAULT_CONSTITUTION,
    DEMO_CONSTITUTION,
    Constitution,
    Principle,
    load_constitution,
)
from safeforge.harden.techniques.constitutional.helper import Helper, open_helper
from safeforge.harden.techniques.constitutional.technique import CAIConfig, Constitutional, constitutional

__all__ = [
    "DEFAULT_CONSTITUTION",
    "DEMO_CONSTITUTION",
    "CAIConfig",
    "Constitution",
    "Constitutional",
    "Helper",
    "Principle",
    "constitutional",
    "load_constitution",
    "open_helper",
]
