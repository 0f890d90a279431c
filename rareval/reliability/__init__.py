"""Reliability and security tooling: fault injection, judge-manipulation probes, the hacking defence.

* :mod:`rareval.reliability.faultproxy` — a loopback proxy that breaks requests to a model server;
* :mod:`rareval.reliability.probes` — manipulated answers built from real rows, and the reward lift
  they get over the honest answer;
* :mod:`rareval.reliability.probes_v2` — probe set v2: rewrites of the honest answer that meet no
  criterion it did not meet (compound, implicit, topical, style biases; self-preference);
* :mod:`rareval.reliability.probes_exploit` — every probe scored, with its lift and exploitation rate
  (the weighted share of the honest answer's uncredited criteria the judge credits on the probe);
* :mod:`rareval.reliability.defence` — a reward-hacking defence criterion used as a veto.

See RELIABILITY.md for the suite and its figures.
"""
