"""A hostile-input suite: the whole stack attacked the way a probe of the running service would.

Each case sends one class of bad or heavy input through gRPC and, where a route exists, REST
through Envoy. While it runs, a separate process calls `Health` (and a small `Embed`) in a
loop, and the server's peak resident memory is read from /proc. `python -m tests.hostile`
prints a table of every case; `tests/e2e/test_hostile.py` asserts on the same cases.
"""
