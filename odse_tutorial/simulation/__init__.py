"""The simulated landscape behind the bundled dataset.

Real LUCAS, CORINE and Landsat tiles cannot be shipped with a tutorial, so the default
dataset is simulated: terrain (:mod:`.terrain`), land cover per year with change
(:mod:`.landcover`), Landsat-like seasonal composites (:mod:`.spectra`) and samples
(:mod:`.sampling`), written to disk by :func:`generate_dataset`. Because the truth is
known everywhere, the tutorial can measure the *true* accuracy of its maps, which real
data never allow. ``data/README.md`` documents what is simulated and how.
"""

from odse_tutorial.simulation.writer import SimulationConfig, file_digests, generate_dataset

__all__ = ["SimulationConfig", "file_digests", "generate_dataset"]
