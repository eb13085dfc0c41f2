"""The reliability suite's moving parts (issue 16): crash, concurrency and load runs of the real CLI.

`atlas_state` says what an atlas holds in terms that survive restarts
(natural keys, not surrogate ids); `crash` runs pipeline steps as
subprocesses and kills them; `readers` loads the kpi views over TCP.
tests/test_crash_recovery.py runs them small, bench/crash_recovery.py long.
"""
