"""Named, versioned protocols: what claim each tests, its measurements and decision rule.

One module per protocol (`passk` C1, `sparsity` C2, `formats` C3, ...), each with a
`SPEC` (`retest.protocols.spec.ProtocolSpec`): its decision rule, thresholds and the
validity flags it may raise are stated before it runs. `PROTOCOLS` is the registry the
CLI, the weekly job and the `claims.protocols` entry point read.
"""

from __future__ import annotations

from retest.protocols import calibration, formats, hard_samples, passk, sparsity
from retest.protocols import prior_corruption
from retest.protocols import entropy_schedule, labelfree
from retest.protocols.spec import Decision, ProtocolSpec

PROTOCOLS: dict[str, ProtocolSpec] = {s.name: s for s in (passk.SPEC, sparsity.SPEC, formats.SPEC,
                                                  hard_samples.SPEC, calibration.SPEC,
                                                  prior_corruption.SPEC,
                                                  labelfree.SPEC, entropy_schedule.SPEC)}

# the old flat module's thresholds, for callers that import them from here
PASSK_MARGIN = passk.PASSK_MARGIN
DOMINANCE = formats.DOMINANCE
CLAIMED = sparsity.CLAIMED

__all__ = ["PROTOCOLS", "Decision", "ProtocolSpec", "PASSK_MARGIN", "DOMINANCE", "CLAIMED"]
