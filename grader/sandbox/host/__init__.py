"""The host side of the sandbox: starting, limiting, talking to and stopping children."""
