"""The sandbox, laid out by the side of the trust boundary each module runs on.

- `host/`: the trusted grading process's side: `client` (the `Sandbox` and the `student` /
  `reference` fixtures' `Submission`), `launcher` and `zygote` (starting children), `cgroups`,
  `slots`, `memwatch`, `cputime`, `output`, `doctor`.
- `child/`: what runs inside the sandboxed child, beside student code (and can be patched by
  it): `server` (serves the grader's requests), `harness` (generic helpers tests call in the
  child), and the confinement the child applies to itself before any student code runs
  (`landlock`, `seccomp_filter`, `namespaces`, `privileges`).
- shared: `wire` (the codec: plain data and handles only, never pickle), `layers` (the
  `Policy` the host sends and the child applies, and the record of active layers), `limits`,
  `libc`.
"""

# What the zygote preloads and the child imports before student code when an assignment does
# not say (`imports:` in assignment.yaml): a PyTorch assignment's libraries.
DEFAULT_IMPORTS: tuple[str, ...] = ("numpy", "torch", "torchvision")
