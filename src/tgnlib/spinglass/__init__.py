"""The 3D Edwards-Anderson spin glass and the dynamics compared in chapter 2.2.

* :mod:`~tgnlib.spinglass.lattice` -- couplings, energy, local field, checkerboard split;
* :mod:`~tgnlib.spinglass.metropolis` -- the vectorised checkerboard Metropolis sweep;
* :mod:`~tgnlib.spinglass.annealing`, :mod:`~tgnlib.spinglass.tempering` -- SA and parallel tempering
  (optionally with :mod:`~tgnlib.spinglass.houdayer` cluster moves);
* :mod:`~tgnlib.spinglass.population` -- population annealing, with its free-energy estimate;
* :mod:`~tgnlib.spinglass.tts` -- time to solution (TTS99), its intervals and lower bounds;
* :mod:`~tgnlib.spinglass.langevin` -- soft-spin Langevin (and gradient descent);
* :mod:`~tgnlib.spinglass.attention` -- two readings of the paper's attention dynamics;
* :mod:`~tgnlib.spinglass.reference` -- reference energies and the dwave-samplers baseline;
* :mod:`~tgnlib.spinglass.experiment` -- all methods at one budget, cached and resumable.
"""

from .lattice import check_couplings, energy, load_couplings, local_field, make_couplings
from .trace import Trace

__all__ = ["Trace", "check_couplings", "energy", "load_couplings", "local_field", "make_couplings"]
