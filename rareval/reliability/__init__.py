"""Reliability and security tooling: fault injection, judge-manipulation probes, the hacking defence.

* :mod:`rareval.reliability.faultproxy` — a loopback proxy that breaks requests to a model server;
* :mod:`rareval.reliability.probes` — manipulated answers built from real rows, and the reward lift
  they get over the honest answer;
* :mod:`rareval.reliability.defence` — a reward-hacking defence criterion used as a veto.

See RELIABILITY.md for the suite and its figures.
"""
