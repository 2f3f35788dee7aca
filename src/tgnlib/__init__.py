"""tgnlib: the tested science behind the tgn-book reproduction of "Thermodynamic Gated Networks".

Modules, one concept each:

* :mod:`tgnlib.rank` -- effective rank estimators shared by every chapter;
* :mod:`tgnlib.kernels` -- attention vs the heat kernel, Markov chains, spectral gaps, mixing (T1-T3);
* :mod:`tgnlib.criticality` -- the logit-scale sweep and the random energy model (T4);
* :mod:`tgnlib.depth` -- rank against depth in deep random networks (T5);
* :mod:`tgnlib.llm` -- pretrained language models and their attention;
* :mod:`tgnlib.text` -- real text that works offline;
* :mod:`tgnlib.chapter`, :mod:`tgnlib.ledger`, :mod:`tgnlib.book` -- the notebook and book pipeline.
"""

__version__ = "0.1.0"
