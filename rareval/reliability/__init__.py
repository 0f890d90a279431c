"""Reliability and security tooling: fault injection, judge-manipulation probes, secrets out of logs.

* :mod:`rareval.reliability.faultproxy` — a loopback proxy that breaks requests to a model server;
* :mod:`rareval.reliability.probes` — manipulated answers built from real rows, and the reward lift
  they get over the honest answer;
* :mod:`rareval.reliability.probes_v2` — probe set v2: rewrites of the honest answer that meet no
  criterion it did not meet (compound, implicit, topical, style biases; self-preference);
* :mod:`rareval.reliability.probes_exploit` — every probe scored, with its lift and exploitation rate
  (the weighted share of the honest answer's uncredited criteria the judge credits on the probe);
* :mod:`rareval.reliability.secrets` — secret values redacted from Inspect logs (``rareval redact-logs``).

The reward-hacking defence veto the probes measure is part of the scoring path, :mod:`rareval.defence`
(the reward applies it; this package is built on the scoring path and never imported by it).

See RELIABILITY.md for the suite and its figures.
"""
