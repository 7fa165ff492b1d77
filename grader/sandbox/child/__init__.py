"""The child side of the sandbox: the request server, the harness, and self-confinement."""
